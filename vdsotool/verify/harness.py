"""Driving the C execution harness (``harness/harness.c``) under qemu-user.

The harness is compiled once per target with Debian's cross gcc (``<prefix>-gcc -static
-O2 -pthread``) and kept in a private directory (:mod:`vdsotool.verify.private`: ours, mode
0700, else a fresh temporary one), named by the hash of its inputs (source, the data-page
offsets passed to it, the compiler) and of its own content, which is verified before every
run; so a session compiles it at most once per target, and nothing another user could have
written is run (concurrent compiles are harmless: each writes a temp file and renames it).

Commands go in on stdin, one per line; each answers with one line of ``key=value`` words
(see docs/verify.md), parsed here into dicts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from vdsotool.abi import datapage
from vdsotool.abi.targets import Target

SOURCE = Path(__file__).resolve().parent / "harness" / "harness.c"


def harness_defines() -> dict[str, int]:
    """The data-page offsets the harness writes to, from the one table."""
    return {f.asm: f.offset for f in datapage.FIELDS
            if f.asm in ("CFG_TB_UPDATE_COUNT", "CFG_TB_ORIG_STAMP", "CFG_STAMP_XSEC",
                         "CFG_TEST_TIMEBASE")}


def missing_tools(target: Target) -> list[str]:
    """Names of the tools running the harness for ``target`` needs but lacks."""
    return [t for t in (target.gnu_tool("gcc"), target.qemu) if shutil.which(t) is None]


def compiler_identity(gcc: str) -> str:
    """The installed compiler by path, size and mtime: a new compiler compiles anew."""
    path = os.path.realpath(shutil.which(gcc) or gcc)
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def harness_prefix(target: Target, source: Path = SOURCE,
                   defines: dict[str, int] | None = None) -> tuple[str, list[str]]:
    """(``<source stem>-<target>-<key>-``, the compiler's flags): ``key`` hashes every
    input of the binary (source, flags with the data-page offsets, compiler identity); the
    file's name ends with the SHA-256 of its own content (:mod:`vdsotool.verify.private`).
    ``source``/``defines``: another harness (harness61.c) and its -D values."""
    values = harness_defines() if defines is None else defines
    flags = ["-static", "-O2", "-pthread", "-Wall",
             *(f"-D{k}={v:#x}" for k, v in sorted(values.items()))]
    gcc = target.gnu_tool("gcc")
    key = hashlib.sha256(source.read_bytes() +
                         repr((compiler_identity(gcc), flags)).encode()).hexdigest()[:32]
    return f"{source.stem}-{target.name}-{key}-", flags


def compile_harness(target: Target, source: Path = SOURCE,
                    defines: dict[str, int] | None = None) -> int:
    """A read-only descriptor of the harness binary for ``target``, its content verified
    (:func:`vdsotool.verify.private.find_verified`), compiled when the harness directory
    has no good one. The caller closes it."""
    from vdsotool.verify import private

    prefix, flags = harness_prefix(target, source, defines)
    dir_fd, _ = private.harness_dir()
    try:
        found = private.find_verified(dir_fd, prefix)
        if found is not None:
            return found
        binary = _compile(target.gnu_tool("gcc"), flags, source)
        try:
            installed = private.install(dir_fd, prefix, binary)
        except OSError:
            pass  # a full or read-only cache: this process's own directory will do
        else:
            private.remove_others(dir_fd, f"{source.stem}-{target.name}-", prefix)
            return installed
    finally:
        os.close(dir_fd)
    dir_fd = private.fresh_dir()
    try:
        return private.install(dir_fd, prefix, binary)
    finally:
        os.close(dir_fd)


def _compile(gcc: str, flags: list[str], source: Path = SOURCE) -> bytes:
    """The harness binary compiled in a new temporary directory of ours."""
    with tempfile.TemporaryDirectory(prefix="vdsotool-cc-") as build:
        out = os.path.join(build, "harness")
        proc = subprocess.run([gcc, *flags, "-o", out, str(source)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise HarnessError(f"compiling the harness with {gcc} failed:\n{proc.stderr}")
        with open(out, "rb") as f:
            return f.read()


class HarnessError(RuntimeError):
    pass


def parse_line(line: str) -> dict[str, str]:
    words = line.split()
    result = {"cmd": words[0] if words else ""}
    for w in words[1:]:
        key, _, value = w.partition("=")
        result[key] = value
    return result


def run(target: Target, image: str | Path, commands: list[str],
        timeout: float = 120) -> list[dict[str, str]]:
    """Run ``commands`` against ``image``; one parsed result per non-``page`` command."""
    from vdsotool.verify.private import fd_path

    binary = compile_harness(target)
    try:
        proc = subprocess.run([target.qemu, fd_path(binary), str(image)], pass_fds=(binary,),
                              input="\n".join(commands) + "\n", capture_output=True,
                              text=True, timeout=timeout)
    finally:
        os.close(binary)
    if proc.returncode != 0:
        raise HarnessError(f"harness exited with {proc.returncode}: {proc.stderr.strip()}")
    return [parse_line(line) for line in proc.stdout.splitlines() if line.strip()]


def page_command(target: Target, values: dict[str, object]) -> str:
    """The command that loads a data page with ``values`` (others default)."""
    return "page " + datapage.pack(target, values).hex()
