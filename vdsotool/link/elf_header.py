"""The ELF header and program headers of a vDSO image.

ELF header: ``e_ident`` (class 32/64, data LSB/MSB, version 1, OS ABI 0), ``ET_DYN``,
``e_machine`` from the target, ``e_entry`` 0, program headers right after the ELF header,
``e_flags`` 0 — GNU ld writes 0 for all three targets here (the sources declare no
``.abiversion``, so even ppc64le carries no ELFv2 flag; measured on GNU ld's images).

Program headers come from the script's ``PHDRS``, in that order. A segment spans the
output sections that name it (a section without a ``:phdr`` list inherits the previous
section's list, as in GNU ld); ``FILEHDR``/``PHDRS`` make it start at file offset 0 so it
covers the headers. The image maps at 0 with file offset == address, so ``p_offset`` is
the start address and ``p_filesz == p_memsz``. ``p_flags`` is ``FLAGS(n)`` when given,
else R plus W/X of its sections; ``p_align`` is 0x10000 (GNU ld's PowerPC max page size)
for PT_LOAD, else the largest alignment of its sections.
"""

from __future__ import annotations

import struct

from vdsotool.abi.targets import Target
from vdsotool.link.layout import Placed
from vdsotool.link.script import PhdrSpec
from vdsotool.util.records import record

PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
MAX_PAGE_SIZE = 0x10000
ET_DYN, EV_CURRENT = 3, 1


def header_sizes(bits: int) -> tuple[int, int, int]:
    """(e_ehsize, e_phentsize, e_shentsize)."""
    return (64, 56, 64) if bits == 64 else (52, 32, 40)


def sizeof_headers(bits: int, phnum: int) -> int:
    ehsize, phentsize, _ = header_sizes(bits)
    return ehsize + phnum * phentsize


def build_elf_header(target: Target, phnum: int, shoff: int, shnum: int,
                     shstrndx: int) -> bytes:
    e = "<" if target.little else ">"
    ehsize, phentsize, shentsize = header_sizes(target.bits)
    ident = bytes([0x7F, ord("E"), ord("L"), ord("F"), 2 if target.bits == 64 else 1,
                   1 if target.little else 2, EV_CURRENT]) + bytes(9)
    word = "Q" if target.bits == 64 else "I"
    return ident + struct.pack(e + f"HHI{word}{word}{word}IHHHHHH", ET_DYN, target.elf_machine,
                               EV_CURRENT, 0, ehsize, shoff, 0, ehsize, phentsize, phnum,
                               shentsize, shnum, shstrndx)


@record(frozen=True)
class Segment:
    type: int
    flags: int
    start: int
    size: int
    align: int


def segments(specs: list[PhdrSpec], placed: list[Placed],
             section_flags: dict[str, str]) -> list[Segment]:
    members: dict[str, list[Placed]] = {s.name: [] for s in specs}
    current: tuple[str, ...] = ()
    for sec in placed:
        current = sec.phdrs or current
        for name in current:
            members.setdefault(name, []).append(sec)
    out = []
    for spec in specs:
        secs = members[spec.name]
        start = 0 if spec.filehdr or spec.phdrs else min((s.address for s in secs), default=0)
        end = max((s.address + s.size for s in secs), default=start)
        flags = spec.flags if spec.flags is not None else _flags_of(secs, section_flags)
        align = MAX_PAGE_SIZE if spec.type == PT_LOAD else max((s.align for s in secs), default=1)
        out.append(Segment(spec.type, flags, start, end - start, align))
    return out


def _flags_of(secs: list[Placed], section_flags: dict[str, str]) -> int:
    letters = "".join(section_flags.get(s.name, "a") for s in secs)
    return PF_R | (PF_W if "w" in letters else 0) | (PF_X if "x" in letters else 0)


def build_phdrs(segs: list[Segment], bits: int, big_endian: bool) -> bytes:
    e = ">" if big_endian else "<"
    out = b""
    for s in segs:
        if bits == 64:
            out += struct.pack(e + "IIQQQQQQ", s.type, s.flags, s.start, s.start, s.start,
                               s.size, s.size, s.align)
        else:
            out += struct.pack(e + "IIIIIIII", s.type, s.start, s.start, s.start, s.size,
                               s.size, s.flags, s.align)
    return out
