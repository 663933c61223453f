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

``.dynsym`` entries are :class:`OutSymbol` values too, packed by the same
:func:`pack_symbols`. A value is stored in two's complement (``-1`` is ``0xffffffff`` in
ELF32, as GNU writes it); a value or size the class cannot hold is refused at the line that
defined the symbol.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.constants import SHN_ABS, STB_NAMES, STT_NAMES, st_info
from vdsotool.errors import Diagnostic, SourceLoc, VdsoError
from vdsotool.link.hash import BFD_TABLE_SLOTS, bfd_string_hash
from vdsotool.link.strtab import build_strtab
from vdsotool.util.records import record

STT = {name.lower(): value for value, name in STT_NAMES.items()}  # "func" -> STT_FUNC
STB = {name.lower(): value for value, name in STB_NAMES.items()}  # "global" -> STB_GLOBAL


@record(frozen=True)
class OutSymbol:
    """One ``.symtab`` or ``.dynsym`` entry; ``section`` is an output section name (None:
    absolute); ``loc`` where the source defined it (for a value that does not fit)."""

    name: str
    value: int
    size: int
    type: str  # a key of STT
    section: str | None
    binding: str = "local"  # a key of STB
    loc: SourceLoc | None = None


def pack_symbols(kind: ElfKind, symbols: list[OutSymbol], name_offsets: dict[str, int],
                 section_index: dict[str, int]) -> bytes:
    """The null symbol, then ``symbols``; section symbols are unnamed (st_name 0: tools show
    the section's name). Raises VdsoError naming each symbol whose value or size does not
    fit the class."""
    top = 1 << kind.bits
    problems: dict[tuple, None] = {}  # (loc, message), each once: a -D define is in every object
    out = [kind.sym.pack(0, 0, 0, 0, 0, 0)]
    for sym in symbols:
        for what, value, low in (("value", sym.value, -(top >> 1)), ("size", sym.size, 0)):
            if not low <= value < top:
                problems[sym.loc, f"{what} {value:#x} of symbol '{sym.name}' does not fit an "
                                  f"ELF{kind.bits} symbol"] = None
        if not problems:
            shndx = SHN_ABS if sym.section is None else section_index[sym.section]
            name = 0 if sym.type == "section" else name_offsets[sym.name]
            out.append(kind.sym.pack(name, sym.value % top, sym.size,
                                     st_info(STB[sym.binding], STT[sym.type]), 0, shndx))
    if problems:
        raise VdsoError([Diagnostic(message, loc) for loc, message in problems])
    return b"".join(out)


def hash_walk_order(symbols: list[OutSymbol]) -> list[OutSymbol]:
    """``symbols`` (in the order GNU ld met them) in the order its hash-table walk visits
    them: by BFD hash slot, ties in meeting order (never seen with vDSO names)."""
    return sorted(symbols, key=lambda s: bfd_string_hash(s.name) % BFD_TABLE_SLOTS)


def arrange(sections: list[tuple[str, int]], object_locals: list[tuple[str, list[OutSymbol]]],
            made_local: list[OutSymbol], globals_: list[OutSymbol]) -> list[OutSymbol]:
    """The whole table in GNU ld's order (without the null entry). ``sections``: (name,
    address) of the allocated output sections; ``object_locals``: (file name, its locals)
    in output order; ``made_local``/``globals_`` in the order GNU ld met them."""
    out = [OutSymbol(name, addr, 0, "section", name) for name, addr in sections]
    for file_name, locals_ in object_locals:
        if locals_:
            out.append(OutSymbol(file_name, 0, 0, "file", None))
            out += locals_
    if made_local:
        out.append(OutSymbol("", 0, 0, "file", None))
        out += hash_walk_order(made_local)
    return out + hash_walk_order(globals_)


def build_symtab(kind: ElfKind, symbols: list[OutSymbol], section_index: dict[str, int]
                 ) -> tuple[bytes, bytes, int]:
    """(``.symtab`` bytes, ``.strtab`` bytes, index of the first non-local symbol)."""
    strtab, offsets = build_strtab([s.name for s in symbols if s.type != "section"])
    first_global = next((i for i, s in enumerate(symbols, start=1) if s.binding != "local"),
                        len(symbols) + 1)
    return pack_symbols(kind, symbols, offsets, section_index), strtab, first_global
