"""The ``.got`` GNU ld creates for every PowerPC shared object, reproduced.

Nothing in a vDSO uses a GOT: no code loads through r2 or ``_GLOBAL_OFFSET_TABLE_``. But
GNU ld's PowerPC back ends create one for every ``-shared`` link whose script gives
``.got`` input a home, and vdsotool's images are meant to be byte-identical to GNU's
(the differential test compares whole files), so the link makes the same few bytes:

* ELF64 (ELFv1 and ELFv2): one doubleword, the TOC base. GNU ld puts the TOC pointer
  0x8000 past the start of the TOC area, that start rounded down to 256 bytes
  (``TOC_BASE_ALIGN``), so that signed 16-bit offsets from r2 reach 64 KiB of it.
* ELF32: the four-word GOT header. Word 0 is a ``blrl`` (the "GOT thunk": code does
  ``bl _GLOBAL_OFFSET_TABLE_-4`` to learn the GOT's address, hence the section is
  writable *and* executable), word 1 is ``_DYNAMIC``'s address, words 2 and 3 are
  reserved for the dynamic linker and stay zero.

vdsotool's own 32-bit script discards the GOT (GNU ld then makes none either); kernel-style
scripts that keep it get GNU's bytes. The section is loaded with the rest (the vDSO has one R+X PT_LOAD), so its W flag in the
section header has no effect at run time.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.constants import SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from vdsotool.link.chunk import Chunk
from vdsotool.link.script import LinkerScript, OutputSection

BLRL = 0x4E800021
TOC_BASE_ALIGN = 256
TOC_BIAS = 0x8000


def wants_got(script: LinkerScript) -> bool:
    """True when an output section of ``script`` takes ``.got`` input (``/DISCARD/``
    taking it drops the GOT, which GNU ld allows)."""
    for sec in script.sections:
        if isinstance(sec, OutputSection) and any(".got" in p.section_patterns
                                                  for p in sec.inputs):
            return sec.name != "/DISCARD/"
    return False


class Got(Chunk):
    def __init__(self, kind: ElfKind) -> None:
        flags = SHF_ALLOC | SHF_WRITE | (SHF_EXECINSTR if kind.bits == 32 else 0)
        super().__init__(".got", 8 if kind.bits == 64 else 16, kind.wordsize, flags,
                         entsize=kind.wordsize)
        self.kind = kind

    def symbol(self, image) -> tuple[str, int] | None:
        """The symbol GNU ld defines for the GOT (listed in the debug twin): on ELF32
        ``_GLOBAL_OFFSET_TABLE_`` at word 1 — where ``bl _GLOBAL_OFFSET_TABLE_-4`` returns
        to. On ELF64 GNU ld defines ``.TOC.`` only when something refers to it; nothing
        here does."""
        return ("_GLOBAL_OFFSET_TABLE_", image.address[self.name] + 4) \
            if self.kind.bits == 32 else None

    def write(self, image) -> bytes:
        address = image.address[self.name]
        if self.kind.bits == 64:
            return self.kind.nat.pack(((address & ~(TOC_BASE_ALIGN - 1)) + TOC_BIAS) % (1 << 64))
        words = (BLRL, image.address.get(".dynamic", 0), 0, 0)
        return b"".join(map(self.kind.word.pack, words))
