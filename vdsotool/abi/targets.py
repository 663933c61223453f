"""The three targets a vDSO image is built for, as data.

* ``ppc32``   – 32-bit big-endian (ELFCLASS32, EM_PPC); the compat vDSO of a ppc64 kernel.
* ``ppc64``   – 64-bit big-endian, ELFv1 ABI (ELFCLASS64, EM_PPC64). vDSO symbols are plain
  code offsets, not function descriptors: glibc builds descriptors itself.
* ``ppc64le`` – 64-bit little-endian, ELFv2 ABI.

Register size (4 or 8) drives the signal-frame layouts and the CFI data alignment factor;
endianness picks, among other things, which word of an 8-byte slot holds a 32-bit value.

The GNU toolchain prefixes and flags here define the *dialect* vdsotool's assembler matches
byte for byte: ``as -a32|-a64 -mbig|-mlittle -mpower4 -mregnames``.
"""

from __future__ import annotations

from vdsotool.elf.constants import EM_PPC, EM_PPC64
from vdsotool.elf.layout import ElfKind
from vdsotool.util.records import record


@record(frozen=True)
class Target:
    name: str  # "ppc32" | "ppc64" | "ppc64le"
    bits: int  # 32 | 64
    endian: str  # "big" | "little"
    image: str  # output stem: "vdso32", "vdso64", "vdso64le"
    soname: str
    elf_machine: int  # EM_PPC or EM_PPC64
    elf_abi: int  # ppc64 ELF ABI version: 0 for ppc32, 1 (ELFv1) or 2 (ELFv2)
    gnu_prefix: str  # Debian cross binutils prefix
    qemu: str  # qemu-user binary
    linker_script: str  # file name under linker_scripts/

    @property
    def wordsize(self) -> int:
        """Register / pointer size in bytes."""
        return self.bits // 8

    @property
    def little(self) -> bool:
        return self.endian == "little"

    @property
    def byteorder(self) -> str:
        return self.endian

    @property
    def elf(self) -> ElfKind:
        """The ELF class and byte order of this target's files, with their record layouts."""
        return ElfKind(self.bits, self.little)

    @property
    def gnu_as_flags(self) -> list[str]:
        return [f"-a{self.bits}", "-mlittle" if self.little else "-mbig", "-mpower4", "-mregnames"]

    def gnu_tool(self, tool: str) -> str:
        return f"{self.gnu_prefix}-{tool}"


PPC32 = Target("ppc32", 32, "big", "vdso32", "linux-vdso32.so.1", EM_PPC, 0,
               "powerpc-linux-gnu", "qemu-ppc", "vdso32.lds")
PPC64 = Target("ppc64", 64, "big", "vdso64", "linux-vdso64.so.1", EM_PPC64, 1,
               "powerpc64-linux-gnu", "qemu-ppc64", "vdso64.lds")
PPC64LE = Target("ppc64le", 64, "little", "vdso64le", "linux-vdso64.so.1", EM_PPC64, 2,
                 "powerpc64le-linux-gnu", "qemu-ppc64le", "vdso64.lds")

TARGETS: dict[str, Target] = {t.name: t for t in (PPC32, PPC64, PPC64LE)}
# e_machine values of the targets (EM_PPC, EM_PPC64): what makes an image a PowerPC one
POWERPC_MACHINES = frozenset(t.elf_machine for t in TARGETS.values())


def target_for(bits: int, endian: str = "big") -> Target:
    """The target selected by ``--bits`` and ``--endian``; raises ValueError if none."""
    for t in TARGETS.values():
        if t.bits == bits and t.endian == endian:
            return t
    raise ValueError(f"no {bits}-bit {endian}-endian target (ppc32 is big-endian only)")
