"""``.dynsym``: the exported symbols, the only symbols a loader sees.

Entry 0 is the null symbol. Then every exported symbol (GLOBAL, default visibility, its
type from the source — NOTYPE when the source has no ``.type``) and, as GNU ld does for a
version script, one ``OBJECT GLOBAL ABS`` symbol of value 0 named after each version node.
The order of the hashed entries is the .gnu.hash bucket order (link/gnu_hash.py).

Elf32_Sym: ``u32 name, u32 value, u32 size, u8 info, u8 other, u16 shndx`` (16 bytes);
Elf64_Sym: ``u32 name, u8 info, u8 other, u16 shndx, u64 value, u64 size`` (24 bytes).
``info`` is ``bind << 4 | type``.
"""

from __future__ import annotations

import struct

from vdsotool.util.records import record

STB_GLOBAL = 1
STT_TYPES = {"notype": 0, "object": 1, "func": 2}
SHN_ABS = 0xFFF1


@record(frozen=True)
class DynSymEntry:
    name: str
    value: int
    size: int
    type: str  # "notype" | "object" | "func"
    shndx: int


def version_symbol(node: str) -> DynSymEntry:
    return DynSymEntry(node, 0, 0, "object", SHN_ABS)


def build_dynsym(entries: list[DynSymEntry], dynstr_offset: dict[str, int], bits: int,
                 big_endian: bool) -> bytes:
    """Entries after the null symbol, in final order."""
    out = pack_symbol(bits, big_endian, 0, 0, 0, 0, 0)
    for s in entries:
        info = STB_GLOBAL << 4 | STT_TYPES[s.type]
        out += pack_symbol(bits, big_endian, dynstr_offset[s.name], s.value, s.size, info,
                           s.shndx)
    return out


def pack_symbol(bits: int, big_endian: bool, name: int, value: int, size: int, info: int,
                shndx: int) -> bytes:
    """One Elf32_Sym/Elf64_Sym (layouts above) with ``st_other`` 0; ``.symtab`` uses it too."""
    e = ">" if big_endian else "<"
    if bits == 64:
        return struct.pack(e + "IBBHQQ", name, info, 0, shndx, value, size)
    return struct.pack(e + "IIIBBH", name, value, size, info, 0, shndx)
