"""``.symtab``/``.strtab`` of the debug twin (``vdsoNN.so.dbg``), in GNU ld's order.

The kernel keeps an unstripped twin of every vDSO and derives its offsets header from it
(``nm vdsoNN.so.dbg | sed | sort``), so the twin's symbol table must hold what GNU ld's
does. GNU ld writes, in this order (measured on its images, all three targets):

1. the null symbol;
2. one ``SECTION`` symbol per allocated output section, valued at its address;
3. per input object, in the order GNU ld first outputs a section of it: a ``FILE`` symbol
   named after the object (``<source stem>.o``, as the GNU build names them), then the
   object's own local symbols in its symbol-table order (``.set`` constants included,
   section symbols and ``.L`` labels not). The order is by the first output section that
   holds a section of the object — except that 32-bit GNU ld hangs its own synthesised
   sections (``.hash``, ``.dynsym``…) on the *first* input object (its "dynobj"), so that
   object always comes first; the 64-bit back end keeps them in a separate stub object;
4. if any symbol follows that GNU ld made local (``local: *`` in the version script,
   hidden symbols, linker-defined ones): an empty ``FILE`` symbol, then those symbols;
5. the global symbols: the exports and the version-node symbol (``OBJECT GLOBAL ABS``).

Within 4 and 5 the order is GNU ld's symbol hash-table walk (the one that orders ``.hash``
chains, :func:`vdsotool.link.hash.gnu_ld_walk_order`). ``sh_info`` of ``.symtab`` is the
index of the first global. ``.strtab`` holds the names in table order, each once, tails
shared as in ``.dynstr``. Visibility is written as default: GNU ld clears it on the
symbols it makes local.
"""

from __future__ import annotations

from vdsotool.link.dynstr import build_dynstr
from vdsotool.link.dynsym import SHN_ABS, pack_symbol
from vdsotool.link.hash import BFD_TABLE_SLOTS, bfd_string_hash
from vdsotool.util.records import record

STT = {"notype": 0, "object": 1, "func": 2, "section": 3, "file": 4}
STB = {"local": 0, "global": 1, "weak": 2}


@record(frozen=True)
class SymtabSymbol:
    """One ``.symtab`` entry; ``section`` is an output section name (None: absolute)."""

    name: str
    value: int
    size: int
    type: str  # a key of STT
    section: str | None
    binding: str = "local"  # a key of STB


def hash_walk_order(symbols: list[SymtabSymbol]) -> list[SymtabSymbol]:
    """``symbols`` (in the order GNU ld met them) in the order its hash-table walk visits
    them: by BFD hash slot, ties in meeting order (never seen with vDSO names)."""
    return sorted(symbols, key=lambda s: bfd_string_hash(s.name) % BFD_TABLE_SLOTS)


def arrange(sections: list[tuple[str, int]], object_locals: list[tuple[str, list[SymtabSymbol]]],
            made_local: list[SymtabSymbol], globals_: list[SymtabSymbol]) -> list[SymtabSymbol]:
    """The whole table in GNU ld's order (without the null entry). ``sections``: (name,
    address) of the allocated output sections; ``object_locals``: (file name, its locals)
    in output order; ``made_local``/``globals_`` in the order GNU ld met them."""
    out = [SymtabSymbol(name, addr, 0, "section", name) for name, addr in sections]
    for file_name, locals_ in object_locals:
        if locals_:
            out.append(SymtabSymbol(file_name, 0, 0, "file", None))
            out += locals_
    if made_local:
        out.append(SymtabSymbol("", 0, 0, "file", None))
        out += hash_walk_order(made_local)
    return out + hash_walk_order(globals_)


def build_symtab(symbols: list[SymtabSymbol], section_index: dict[str, int], bits: int,
                 big_endian: bool) -> tuple[bytes, bytes, int]:
    """(``.symtab`` bytes, ``.strtab`` bytes, index of the first non-local symbol)."""
    # section symbols are unnamed (st_name 0): tools show the section's name
    strtab, offsets = build_dynstr([s.name for s in symbols if s.type != "section"])
    entries = [pack_symbol(bits, big_endian, 0, 0, 0, 0, 0)]
    first_global = len(symbols) + 1
    for index, sym in enumerate(symbols, start=1):
        if sym.binding != "local" and first_global > index:
            first_global = index
        info = (STB[sym.binding] << 4) | STT[sym.type]
        shndx = SHN_ABS if sym.section is None else section_index[sym.section]
        name = 0 if sym.type == "section" else offsets[sym.name]
        entries.append(pack_symbol(bits, big_endian, name, sym.value, sym.size, info, shndx))
    return b"".join(entries), strtab, first_global
