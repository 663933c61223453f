"""Driving the C execution harness (``harness/harness.c``) under qemu-user.

The harness is compiled once per target with Debian's cross gcc (``<prefix>-gcc -static
-O2 -pthread``) and cached in a directory keyed by the hash of its source, the data-page
offsets passed to it and the compiler name, so a test session compiles it at most once per
target (concurrent compiles are harmless: each writes a temp file and renames it).

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


def cache_dir() -> Path:
    """Where compiled harnesses are kept: ``harness/`` in vdsotool's cache directory
    (``$VDSOTOOL_CACHE_DIR``, else ``$XDG_CACHE_HOME/vdsotool``, else
    ``~/.cache/vdsotool``), or a per-user temporary directory when ``VDSOTOOL_NO_CACHE``
    is set or there is no home."""
    root = os.environ.get("VDSOTOOL_CACHE_DIR") or (
        os.path.join(os.environ["XDG_CACHE_HOME"], "vdsotool") if os.environ.get("XDG_CACHE_HOME")
        else os.path.join(os.path.expanduser("~"), ".cache", "vdsotool"))
    if os.environ.get("VDSOTOOL_NO_CACHE", "") not in ("", "0") or root.startswith("~"):
        return Path(tempfile.gettempdir()) / f"vdsotool-harness-{os.getuid()}"
    return Path(root) / "harness"


def compiler_identity(gcc: str) -> str:
    """The installed compiler by path, size and mtime: a new compiler compiles anew."""
    path = os.path.realpath(shutil.which(gcc) or gcc)
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def compile_harness(target: Target) -> Path:
    """Path of the harness binary for ``target``, compiling it when not cached."""
    source = SOURCE.read_bytes()
    defines = [f"-D{k}={v:#x}" for k, v in sorted(harness_defines().items())]
    gcc = target.gnu_tool("gcc")
    flags = ["-static", "-O2", "-pthread", "-Wall", *defines]
    key = hashlib.sha256(source + repr((compiler_identity(gcc), flags)).encode()).hexdigest()[:16]
    out = cache_dir() / f"harness-{target.name}-{key}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.close(fd)
    try:
        proc = subprocess.run([gcc, *flags, "-o", tmp, str(SOURCE)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling the harness with {gcc} failed:\n{proc.stderr}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


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
    binary = compile_harness(target)
    proc = subprocess.run([target.qemu, str(binary), str(image)],
                          input="\n".join(commands) + "\n", capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise HarnessError(f"harness exited with {proc.returncode}: {proc.stderr.strip()}")
    return [parse_line(line) for line in proc.stdout.splitlines() if line.strip()]


def page_command(target: Target, values: dict[str, object]) -> str:
    """The command that loads a data page with ``values`` (others default)."""
    return "page " + datapage.pack(target, values).hex()
