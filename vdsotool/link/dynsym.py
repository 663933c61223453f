"""``.dynsym``: the exported symbols, the only symbols a loader sees.

Entry 0 is the null symbol. Then every exported symbol (GLOBAL, default visibility, its
type from the source — NOTYPE when the source has no ``.type``) and, as GNU ld does for a
version script, one ``OBJECT GLOBAL ABS`` symbol of value 0 named after each version node.
The order of the hashed entries is the .gnu.hash bucket order (link/gnu_hash.py); the
entries are packed as ``.symtab``'s are (link/symtab.py). ``sh_info`` (the first global)
is 1: every entry but the null one is global.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.constants import SHT_DYNSYM
from vdsotool.link.chunk import Chunk
from vdsotool.link.symtab import OutSymbol, pack_symbols


def version_symbol(node: str) -> OutSymbol:
    return OutSymbol(node, 0, 0, "object", None, "global")


class DynSym(Chunk):
    """``names``: the entries' names in .dynsym order, the null symbol's "" first; each is
    an export (``image.exports``) or a version node."""

    def __init__(self, kind: ElfKind, names: list[str], nodes: list[str],
                 dynstr_offsets: dict[str, int]) -> None:
        super().__init__(".dynsym", len(names) * kind.sym.size, kind.wordsize,
                         sh_type=SHT_DYNSYM, link=".dynstr", info=1, entsize=kind.sym.size)
        self.kind, self.names, self.nodes, self.offsets = kind, names, set(nodes), dynstr_offsets

    def write(self, image) -> bytes:
        symbols = [version_symbol(n) if n in self.nodes else image.exports[n]
                   for n in self.names[1:]]
        return pack_symbols(self.kind, symbols, self.offsets, image.index)
