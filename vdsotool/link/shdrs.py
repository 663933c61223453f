"""``.shstrtab`` and the section header table.

Section kinds are data: the ELF type, ``sh_link`` (by section name), ``sh_info`` and
``sh_entsize`` of every section a vDSO link synthesises, per ELF class. ``sh_flags`` and
``sh_addralign`` come from the output section (its inputs), so they are parameters.

``.shstrtab`` lists ``.shstrtab`` itself first (the shipped image, as ``objcopy -S`` writes
it; the debug twin, as ld writes it, puts ``.symtab``, ``.strtab``, ``.shstrtab`` first),
then the other names in section order, a name that is the tail of another sharing its bytes
(``.hash`` inside ``.gnu.hash``) — exactly GNU's layout, built with the same tail-sharing
table writer as ``.dynstr``.
The table follows the loaded content; the section headers follow it, aligned to the word.
"""

from __future__ import annotations

import struct

from vdsotool.link.dynstr import build_dynstr
from vdsotool.util.records import record

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_HASH, SHT_DYNAMIC, SHT_NOTE = 1, 2, 3, 5, 6, 7
SHT_DYNSYM = 11
SHT_GNU_HASH, SHT_GNU_VERDEF, SHT_GNU_VERSYM = 0x6FFFFFF6, 0x6FFFFFFD, 0x6FFFFFFF
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4

# name -> (type, link section, info, entsize for ELF32, entsize for ELF64)
KINDS = {
    ".hash": (SHT_HASH, ".dynsym", 0, 4, 4),
    ".gnu.hash": (SHT_GNU_HASH, ".dynsym", 0, 4, 0),
    ".dynsym": (SHT_DYNSYM, ".dynstr", 1, 16, 24),  # info: index of first global
    ".dynstr": (SHT_STRTAB, None, 0, 0, 0),
    ".gnu.version": (SHT_GNU_VERSYM, ".dynsym", 0, 2, 2),
    ".gnu.version_d": (SHT_GNU_VERDEF, ".dynstr", 2, 0, 0),  # info: number of verdefs
    ".note": (SHT_NOTE, None, 0, 0, 0),
    ".dynamic": (SHT_DYNAMIC, ".dynstr", 0, 8, 16),
    ".got": (SHT_PROGBITS, None, 0, 4, 8),
    ".shstrtab": (SHT_STRTAB, None, 0, 0, 0),
    # the debug twin's symbol table; its info (first global) comes with the section
    ".symtab": (SHT_SYMTAB, ".strtab", 0, 16, 24),
    ".strtab": (SHT_STRTAB, None, 0, 0, 0),
}


@record(frozen=True)
class OutSection:
    name: str
    flags: str  # "a", "ax", "aw", "awx"; "" for non-allocated
    address: int
    offset: int
    size: int
    align: int
    info: int | None = None  # sh_info when it is not the kind's constant


def build_shstrtab(names: list[str], first: tuple[str, ...] = (".shstrtab",)
                   ) -> tuple[bytes, dict[str, int]]:
    """``names``: section names in header order (without the null section); ``first``: the
    names GNU puts in front (see the module doc). ``.shstrtab`` is always listed."""
    return build_dynstr([*first, *names, ".shstrtab"])


def flag_bits(letters: str) -> int:
    return ((SHF_WRITE if "w" in letters else 0) | (SHF_ALLOC if "a" in letters else 0)
            | (SHF_EXECINSTR if "x" in letters else 0))


def build_section_headers(sections: list[OutSection], name_offsets: dict[str, int],
                          bits: int, big_endian: bool) -> bytes:
    e = ">" if big_endian else "<"
    index = {s.name: i + 1 for i, s in enumerate(sections)}
    fmt = e + ("IIQQQQIIQQ" if bits == 64 else "IIIIIIIIII")
    out = bytes(struct.calcsize(fmt))
    for s in sections:
        stype, link, info, ent32, ent64 = KINDS.get(s.name, (SHT_PROGBITS, None, 0, 0, 0))
        info = info if s.info is None else s.info
        out += struct.pack(fmt, name_offsets[s.name], stype, flag_bits(s.flags), s.address,
                           s.offset, s.size, index.get(link, 0), info, s.align,
                           ent64 if bits == 64 else ent32)
    return out
