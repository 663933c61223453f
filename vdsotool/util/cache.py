"""vdsotool's persistent caches: where they live, how entries are kept safe, what a build read.

Two caches share one directory (``$VDSOTOOL_CACHE_DIR``, else ``$XDG_CACHE_HOME/vdsotool``,
else ``~/.cache/vdsotool``); ``VDSOTOOL_NO_CACHE=1`` or ``vdsotool build --no-cache``
turns both off (nothing is read or written under the directory then):

* **encodings** (``encodings/<target>-<keystone>.tsv``): instruction text -> the 4 bytes
  keystone made for it, so an unchanged instruction never reaches keystone again
  (vdsotool/assemble/keystone_backend.py). Keyed by the target's keystone mode and the
  identity of the installed keystone library, both also written inside the table and
  checked on reading, so a table renamed or copied to another key is not believed.
* **builds** (``builds/<key>.rec``): what one ``vdsotool build`` command read and wrote.
  The key hashes the command line, the working directory, the Python version, every file
  of vdsotool's own package by size and mtime (code, templates; the generated includes
  such as ``vdso_sigframe.inc`` are computed by that code, so they are covered) and the installed
  libraries whose behaviour reaches an output (keystone's encodings, jinja2/markupsafe's
  rendering of the C blob); the record repeats its key and lists every input the build looked at (each source, every
  include it found *and every place it looked for one and found nothing*, the linker
  script, images.toml, the source-root probes) with its content hash, and every output
  with its content hash. When all of them still hash the same, a new run of the same
  command would write the same bytes, so there is nothing to do (vdsotool/cli_build.py).
  Each distinct command line, directory or vdsotool version leaves a record (about 2 KB);
  writing one keeps only the :data:`MAX_RECORDS` most recently written.

``vdsotool verify`` keeps its compiled execution harnesses in ``harness/`` of the same
directory (vdsotool/verify/harness.py).

Safety: every file is written whole to a temporary name and renamed into place, so
concurrent builds never see half an entry (the last writer of a shared table wins, which
only costs later cache misses). Every file carries a content hash of its body (BLAKE2b-256,
vdsotool/util/hashing.py); a file whose checksum, format or values do not check out is
ignored as if absent (and replaced by the next writer) — a cache can make a build faster, never different. I/O errors are misses.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar

from vdsotool.util.hashing import cache_hash, cache_hex
from vdsotool.util.installed import package_directory

FORMAT = 2  # bump when an entry's meaning changes: old entries then simply miss
MAX_RECORDS = 512


def cache_root() -> str | None:
    """The cache directory, or None when ``VDSOTOOL_NO_CACHE`` turns caching off
    (``--no-cache`` is the build command's: it passes None on instead of this)."""
    if os.environ.get("VDSOTOOL_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("VDSOTOOL_CACHE_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "vdsotool")
    home = os.path.expanduser("~")
    return None if home == "~" else os.path.join(home, ".cache", "vdsotool")  # no home: no cache


def digest(data: bytes) -> str:
    return cache_hex(data)


# --- checksummed files ----------------------------------------------------------------------

def write_entry(path: str, body: bytes) -> None:
    """Write ``<content hash of body>\\n<body>`` atomically; failures only lose the entry."""
    from vdsotool.util.atomic import write_atomic

    try:
        write_atomic(path, digest(body).encode() + b"\n" + body)
    except OSError:
        pass


def read_entry(path: str) -> bytes | None:
    """The body of an entry written by :func:`write_entry`, or None when it is missing,
    unreadable or does not match its checksum."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    head, sep, body = data.partition(b"\n")
    if not sep or head != digest(body).encode():
        return None
    return body


# --- identity of the code that produces outputs -------------------------------------------

_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def code_identity() -> str:
    """A hash of every file of vdsotool's package (not just ``.py``: templates and any data
    file a future module reads count too) by name, size and modification time in
    nanoseconds: editing the tool invalidates builds. (Not by content: reading and hashing
    the ~450 KB cost 1.5 ms of every build, and size and mtime are what decide which code
    runs anyway: Python's bytecode cache trusts them, at a coarser grain.)"""
    h = cache_hash()
    stack, skip = [_PACKAGE], len(_PACKAGE) + 1
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.is_dir():
                if e.name != "__pycache__":
                    stack.append(e.path)
            elif not e.name.endswith((".pyc", ".pyo")):
                st = e.stat()
                # e.path is _PACKAGE + "/" + the relative name (cheaper than os.path.relpath)
                h.update(f"{e.path[skip:]}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def file_identity(path: str | os.PathLike) -> str:
    """A file by path, size and mtime (what an upgrade or rebuild of it changes)."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def package_identity(name: str, files: tuple[str, ...] = ("__init__.py",)) -> str:
    """An installed package's identity by the path, size and mtime of some of its files,
    found without importing it (an upgrade rewrites them); "none" when not installed."""
    package = package_directory(name)
    if package is None:
        return "none"
    parts = [file_identity(os.path.join(package, file)) for file in files]
    return digest("|".join(parts).encode())[:16]


def keystone_identity() -> str:
    """The installed keystone: its shared library and Python bindings."""
    return package_identity("keystone", ("libkeystone.so", "keystone.py", "__init__.py"))


# --- what a build read ------------------------------------------------------------------------

class InputLog:
    """The state of every path a build looked at: ``file`` + content hash, ``dir``, or
    ``absent``. A later run that finds every path in the same state reads the same inputs."""

    def __init__(self) -> None:
        self.paths: dict[str, tuple[str, str]] = {}

    def note(self, path: str | os.PathLike) -> None:
        key = os.path.abspath(path)
        if key not in self.paths:
            self.paths[key] = path_state(key)

    def unchanged(self) -> bool:
        return all(path_state(p) == state for p, state in self.paths.items())


def path_state(path: str) -> tuple[str, str]:
    try:
        with open(path, "rb") as f:
            return ("file", digest(f.read()))
    except IsADirectoryError:
        return ("dir", "")
    except OSError:
        return ("dir", "") if os.path.isdir(path) else ("absent", "")


_current_log: ContextVar[InputLog | None] = ContextVar("vdsotool_input_log", default=None)


def note_input(path: str | os.PathLike) -> None:
    """Record that the running build looked at ``path`` (a file it read, a directory it
    checked, or a place it searched and found nothing). Cheap when nobody is recording."""
    log = _current_log.get()
    if log is not None:
        log.note(path)


class recording_inputs:
    """``with recording_inputs() as log:`` collects every :func:`note_input` in ``log``."""

    def __enter__(self) -> InputLog:
        self.log = InputLog()
        self.token = _current_log.set(self.log)
        return self.log

    def __exit__(self, *exc) -> None:
        _current_log.reset(self.token)


# --- build records ----------------------------------------------------------------------------

def build_key(argv: list[str]) -> str | None:
    """Identity of a build command: the same key and the same inputs give the same outputs.
    None when it cannot be known (no working directory, vdsotool's files unreadable): such
    a build is not cached. Computed *before* the build, so that a vdsotool edited while a
    build runs can only make the record miss, never pin new code's key on old code's output."""
    try:
        cwd = os.getcwd()
        code = code_identity()
    except OSError:
        return None
    parts = {"format": FORMAT, "argv": list(argv), "cwd": cwd,
             "python": list(sys.version_info[:2]), "code": code,
             "keystone": keystone_identity(),
             "jinja2": package_identity("jinja2"), "markupsafe": package_identity("markupsafe")}
    return digest(repr(sorted(parts.items())).encode())  # str, int and lists: repr is exact


def _record_path(root: str, key: str) -> str:
    return os.path.join(root, f"v{FORMAT}", "builds", f"{key}{RECORD_SUFFIX}")


# A build record is text, one fact per line, fields separated by tabs, the path last:
#   vdsotool-build-record <key>
#   input <TAB> file|dir|absent <TAB> content hash ("" unless a file) <TAB> absolute path
#   output <TAB> content hash <TAB> absolute path
# (Plain lines rather than JSON: the json module and its scanner's regular expressions are
# ~1.3 ms of every build, cached or not.) A path holding a tab or a newline is not recorded.
RECORD_SUFFIX = ".rec"
_RECORD_HEADER = "vdsotool-build-record"
_STATES = ("file", "dir", "absent")


def record_build(root: str, key: str, inputs: InputLog, outputs: dict) -> None:
    """Remember under ``root`` that the command ``key`` (:func:`build_key`) read ``inputs``
    and produced ``outputs`` ({path: bytes or str})."""
    lines = [f"{_RECORD_HEADER} {key}"]
    lines += sorted(f"input\t{kind}\t{h}\t{p}" for p, (kind, h) in inputs.paths.items())
    lines += sorted(f"output\t{digest(data if isinstance(data, bytes) else data.encode())}\t"
                    f"{os.path.abspath(p)}" for p, data in outputs.items())
    paths = [*inputs.paths, *(os.path.abspath(p) for p in outputs)]
    if any("\t" in p or "\n" in p for p in paths):
        return  # not representable: this command is simply never found up to date
    path = _record_path(root, key)
    write_entry(path, ("\n".join(lines) + "\n").encode())
    prune_records(os.path.dirname(path))


def prune_records(directory: str, keep: int = MAX_RECORDS) -> None:
    """Delete all but the ``keep`` most recently written records (an old record only costs
    one build when its command comes back); races with other builds are harmless."""
    try:
        with os.scandir(directory) as it:
            entries = [(e.stat().st_mtime_ns, e.path) for e in it
                       if e.name.endswith(RECORD_SUFFIX)]
    except OSError:
        return
    for _, path in sorted(entries)[:max(0, len(entries) - keep)]:
        try:
            os.unlink(path)
        except OSError:
            pass


def parse_record(body: bytes, key: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]] | None:
    """The (inputs, outputs) of the record of ``key``; None unless every line is well
    formed, every path absolute, there is at least one of each, and the record is ``key``'s."""
    try:
        header, *lines = body.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if header != f"{_RECORD_HEADER} {key}" or lines[-1:] != [""]:
        return None
    inputs: dict[str, tuple[str, str]] = {}
    outputs: list[tuple[str, str]] = []
    for line in lines[:-1]:
        fields = line.split("\t")
        if fields[0] == "input" and len(fields) == 4 and fields[1] in _STATES:
            inputs[fields[3]] = (fields[1], fields[2])
        elif fields[0] == "output" and len(fields) == 3:
            outputs.append((fields[2], fields[1]))
        else:
            return None
    if not inputs or not outputs or \
            not all(os.path.isabs(p) for p in [*inputs, *(p for p, _ in outputs)]):
        return None
    return inputs, outputs


def build_is_current(root: str, key: str) -> bool:
    """True when an earlier run of the command ``key`` (:func:`build_key`) was recorded
    under ``root`` and every input and output it recorded is still in the recorded state:
    running it again would change nothing."""
    body = read_entry(_record_path(root, key))
    record = None if body is None else parse_record(body, key)
    if record is None:
        return False  # missing, or a good checksum over an unexpected shape: never trust it
    inputs, outputs = record
    log = InputLog()
    log.paths = inputs
    return log.unchanged() and all(path_state(p) == ("file", h) for p, h in outputs)
