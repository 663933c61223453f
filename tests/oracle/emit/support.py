"""Shared by the kernel-output tests: vdsotool's own images and their kernel outputs on
disk (once per process), and compiling/running the C programs of this directory with the
host gcc or a target's cross gcc (then under qemu-user).

Every image here comes from ``vdsotool.pipeline.build_outputs`` on the shipped sources,
and every kernel output from ``vdsotool.emit.kernel_outputs`` of it: the files a kernel
build would get from ``vdsotool build``.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vdsotool.abi.targets import TARGETS, Target

C_DIR = Path(__file__).resolve().parent
# The flags, plus -pedantic: a kernel build must not trip over our C.
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]


@functools.lru_cache(maxsize=None)
def real_image(name: str) -> tuple[bytes, bytes]:
    """vdsotool's own build of the shipped image and its debug twin (the per-process build
    of tests/gnu.py, which the other tests share)."""
    from gnu import built_image

    image = built_image("vdsotool", TARGETS[name])
    return image.read_bytes(), image.with_name(image.name + ".dbg").read_bytes()


def dynsym_of(image: bytes) -> dict[str, object]:
    """name -> pyelftools symbol of .dynsym (the independent reader)."""
    import io

    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(image))
    return {s.name: s for s in elf.get_section_by_name(".dynsym").iter_symbols() if s.name}


@functools.lru_cache(maxsize=None)
def scratch_dir() -> Path:
    """A private directory for this process's files, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="vdsotool-emit-test-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@dataclass(frozen=True)
class Emitted:
    """One target's image and kernel outputs, written to ``out``."""
    target: Target
    out: Path
    page_size: int

    def file(self, suffix: str) -> Path:
        """``<stem><suffix>``: "-blob.c", "-blob.h", ".so", ..."""
        return self.out / f"{self.target.image}{suffix}"

    @property
    def image(self) -> bytes:
        return self.file(".so").read_bytes()

    @property
    def prefix(self) -> str:
        """The C identifier prefix (vdso32 / vdso64, also for the LE image)."""
        return f"vdso{self.target.bits}"

    def blob_defines(self) -> list[str]:
        return [f"-DVDSO_PREFIX={self.prefix}",
                f'-DBLOB_HEADER="{self.target.image}-blob.h"', f"-I{self.out}"]


def emitted(name: str, page_size: int = 4096) -> Emitted:
    """``name``'s .so, .so.dbg and every kernel output, written once per process."""
    return _emitted(name, page_size)  # one cache key whether page_size is given or not


@functools.lru_cache(maxsize=None)
def _emitted(name: str, page_size: int) -> Emitted:
    from vdsotool.elf import read
    from vdsotool.emit import kernel_outputs

    target = TARGETS[name]
    out = scratch_dir() / f"{name}-{page_size}"
    out.mkdir()
    image, dbg = real_image(name)
    files = {out / f"{target.image}.so": image, out / f"{target.image}.so.dbg": dbg,
             **kernel_outputs(read(image, f"{target.image}.so"),
                              read(dbg, f"{target.image}.so.dbg"), target, out, page_size)}
    for path, data in files.items():
        Path(path).write_bytes(data)
    return Emitted(target, out, page_size)


def compile_c(gcc: str, args: list[str], what: str) -> subprocess.CompletedProcess:
    """Run ``gcc args``; a failure fails the test with the compiler's messages."""
    proc = subprocess.run([gcc, *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"{what}: {gcc} {' '.join(args)} failed:\n{proc.stderr}"
    return proc


def run_program(exe: Path, args: list[str], qemu: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a compiled program, under ``qemu`` when it is a cross build."""
    command = ([qemu] if qemu else []) + [str(exe), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
