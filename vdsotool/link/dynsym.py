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
from dataclasses import dataclass

STB_GLOBAL = 1
STT_TYPES = {"notype": 0, "object": 1, "func": 2}
SHN_ABS = 0xFFF1


@dataclass(frozen=True)
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
    e = ">" if big_endian else "<"
    out = bytes(24 if bits == 64 else 16)
    for s in entries:
        info = STB_GLOBAL << 4 | STT_TYPES[s.type]
        name = dynstr_offset[s.name]
        if bits == 64:
            out += struct.pack(e + "IBBHQQ", name, info, 0, s.shndx, s.value, s.size)
        else:
            out += struct.pack(e + "IIIBBH", name, s.value, s.size, info, 0, s.shndx)
    return out
