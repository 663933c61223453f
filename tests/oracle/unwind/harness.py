"""Python side of the signal-frame harness (tests/oracle/unwind/*.c, entry.S): generate
``sigframe_layout.h`` from vdsotool/abi/sigframes.py, cross-compile one static harness per
target (once per process), read the offsets an image's run needs, run it under qemu-user.

Used by tests/oracle/test_unwind.py (libgcc's unwinder through the trampolines) and
tests/oracle/test_sigreturn.py (sigreturn through the trampolines under qemu).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import TARGETS, Target

HERE = Path(__file__).resolve().parent
SOURCES = ["harness.c", "unwind.c", "sigreturn.c", "entry.S"]
TRAMPOLINES = {"sigreturn32": "__kernel_sigtramp32", "rt_sigreturn32": "__kernel_sigtramp_rt32",
               "rt_sigreturn64": "__kernel_sigtramp_rt64"}
LAYOUT_FIELDS = ["regsize", "ptregs", "gregs_at", "vmx_at", "context_at", "vregs",
                 "vregs_is_pointer", "cr", "fpr0", "vrsave"]


def layout_header(target: Target) -> str:
    """The C view of the target's signal-frame layouts: slot numbers and one initialiser
    per frame kind, every number taken from vdsotool.abi.sigframes."""
    slots = {"NIP": S.NIP, "MSR": S.MSR, "CTR": S.CTR, "LINK": S.LINK, "XER": S.XER,
             "CCR": S.CCR}
    lines = [f"/* generated from vdsotool/abi/sigframes.py for {target.name}: do not edit */",
             *(f"#define SLOT_{name} {value}" for name, value in slots.items()),
             f"#define MSR_VEC 0x{S.MSR_VEC:x}UL",
             "struct frame_layout {", "\tconst char *name;",
             *(f"\tunsigned {field};" for field in LAYOUT_FIELDS), "};",
             "static const struct frame_layout frame_layouts[] = {"]
    for layout in S.layouts_for(target):
        values = ", ".join(str(int(getattr(layout, f))) for f in LAYOUT_FIELDS)
        lines.append(f'\t{{"{layout.name}", {values}}},')
    return "\n".join(lines + ["};", ""])


def harness_binary(target: Target, need_tool) -> Path:
    """The static harness for ``target``, compiled once per process."""
    gcc = need_tool(target.gnu_tool("gcc"))
    need_tool(target.qemu)
    return _compile(target.name, gcc)


@lru_cache(maxsize=None)
def _compile(target_name: str, gcc: str) -> Path:
    target = TARGETS[target_name]
    build = Path(tempfile.mkdtemp(prefix=f"sigharness-{target_name}-"))
    (build / "sigframe_layout.h").write_text(layout_header(target))
    binary = build / "harness"
    # -Wa,-maltivec: entry.S moves the vector registers (qemu's CPUs all have VMX)
    cmd = [gcc, "-static", "-O1", "-g0", "-Wall", "-Werror", "-funwind-tables", "-Wa,-maltivec",
           "-I", str(build), "-I", str(HERE), "-o", str(binary),
           *(str(HERE / src) for src in SOURCES)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return binary


@dataclass(frozen=True)
class ImageFacts:
    """What a harness run needs to know about an image: symbol and section offsets (the
    image is linked at 0, so addresses are file offsets)."""

    symbols: dict[str, int]
    eh_frame: int
    eh_frame_end: int


def image_facts(image: Path | bytes) -> ImageFacts:
    import io

    from elftools.elf.elffile import ELFFile

    data = image if isinstance(image, bytes) else Path(image).read_bytes()
    elf = ELFFile(io.BytesIO(data))
    symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".dynsym").iter_symbols()}
    eh = elf.get_section_by_name(".eh_frame")
    assert eh["sh_addr"] == eh["sh_offset"], "image not linked at 0"
    return ImageFacts(symbols, eh["sh_offset"], eh["sh_offset"] + eh["sh_size"])


@dataclass(frozen=True)
class Run:
    returncode: int
    lines: list[str]

    @property
    def ok(self) -> set[str]:
        return {line[3:] for line in self.lines if line.startswith("ok ")}

    @property
    def failed(self) -> dict[str, str]:
        return dict(line[5:].split(": ", 1) for line in self.lines if line.startswith("FAIL "))

    def note(self, name: str) -> int:
        return next(int(l.split()[2], 16) for l in self.lines if l.startswith(f"note {name} "))

    def __str__(self) -> str:
        return f"exit {self.returncode}\n" + "\n".join(self.lines)


# qemu-ppc's default CPU (a 750) has no VMX; a G4 (7400) has, so its signal frames carry
# the vector registers as a VMX-capable kernel's do.  The 64-bit defaults have VMX.
QEMU_CPU = {"ppc32": ["-cpu", "7400"]}


def run_harness(target: Target, need_tool, *args: str | int | Path) -> Run:
    binary = harness_binary(target, need_tool)
    proc = subprocess.run([target.qemu, *QEMU_CPU.get(target.name, []), str(binary),
                           *map(str, args)], capture_output=True, text=True, timeout=60)
    return Run(proc.returncode, (proc.stdout + proc.stderr).splitlines())
