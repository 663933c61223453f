"""Symbol resolution and relocation for a vDSO link.

A vDSO is linked at address 0 and mapped anywhere, and nobody relocates it at run time.
So a reference is only resolvable when its value does not depend on where the image lands:

* pc-relative kinds (``rel24``/``rel14`` branches, ``rel32``/``rel64`` data) against any
  defined symbol: the distance is fixed at link time;
* absolute kinds (``addr*``) only against *absolute* symbols (``.set``/``=`` constants,
  ``Symbol.section is None``). An absolute reference to code or data would need a dynamic
  relocation (GNU ld emits ``R_PPC_RELATIVE``/``R_PPC64_RELATIVE``); it is refused.

A reference resolves to a local symbol of its own object first, then to the one global
definition among all objects. Two global definitions, undefined symbols and references
needing dynamic relocations are each reported, all of them, at the relocation's source line.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.errors import DiagnosticSink, SourceLoc
from vdsotool.objfile import ObjectFile, Relocation, Symbol
from vdsotool.util.records import record

PCREL_KINDS = {"rel24", "rel14", "rel32", "rel64", "rel16_lo", "rel16_hi", "rel16_ha"}
FIELD_SIZE = {"addr32": 4, "addr64": 8, "addr16": 2, "addr16_lo": 2, "addr16_hi": 2,
              "addr16_ha": 2, "addr16_high": 2, "addr16_higha": 2, "rel32": 4, "rel64": 8,
              "rel24": 4, "rel14": 4, "rel16_lo": 2, "rel16_hi": 2, "rel16_ha": 2}


@record(frozen=True)
class Resolved:
    value: int
    symbol: Symbol
    absolute: bool


def symbol_address(sym: Symbol, obj_index: int, addresses: dict[tuple[int, str], int]) -> int:
    if sym.section is None:
        return sym.value
    return addresses[(obj_index, sym.section)] + sym.value


def global_symbols(objects: list[ObjectFile], addresses: dict[tuple[int, str], int],
                   sink: DiagnosticSink) -> dict[str, Resolved]:
    """The global (and weak) definitions of all objects; duplicates go to ``sink``."""
    table: dict[str, tuple[Resolved, SourceLoc | None, str]] = {}
    for index, obj in enumerate(objects):
        for sym in obj.symbols.values():
            if not sym.defined or sym.binding == "local":
                continue
            here = Resolved(symbol_address(sym, index, addresses), sym, sym.section is None)
            if sym.name in table:
                first, first_loc, first_path = table[sym.name]
                if first.symbol.binding == "weak" or sym.binding == "weak":
                    if first.symbol.binding == "weak" and sym.binding != "weak":
                        table[sym.name] = (here, sym.loc, obj.path)
                    continue
                where = f"{first_loc}" if first_loc else first_path
                sink.error(sym.loc or SourceLoc(obj.path, 0),
                           f"duplicate definition of '{sym.name}' (first defined at {where})")
                continue
            table[sym.name] = (here, sym.loc, obj.path)
    return {name: entry[0] for name, entry in table.items()}


def resolve_reference(rel: Relocation, obj: ObjectFile, index: int,
                      addresses: dict[tuple[int, str], int],
                      globals_: dict[str, Resolved]) -> Resolved | None:
    local = obj.symbols.get(rel.symbol)
    if local is not None and local.defined and local.binding == "local":
        return Resolved(symbol_address(local, index, addresses), local, local.section is None)
    if local is None and rel.symbol in obj.sections and (index, rel.symbol) in addresses:
        # a section-relative reference (the assembler names the section itself)
        return Resolved(addresses[(index, rel.symbol)],
                        Symbol(rel.symbol, rel.symbol, 0, type="section"), False)
    return globals_.get(rel.symbol)


def apply_relocations(objects: list[ObjectFile], addresses: dict[tuple[int, str], int],
                      kind: ElfKind,
                      script_symbols: dict[str, int] | None = None) -> dict[tuple[int, str], bytes]:
    """Every allocated input section's bytes with its relocations applied.
    ``script_symbols``: symbols the linker script defines (``_vdso_datapage``), which
    references no object defines resolve to (as addresses: PC-relative use only).

    Raises VdsoError listing every duplicate, undefined symbol, dynamic-relocation need and
    out-of-range branch.
    """
    sink = DiagnosticSink()
    globals_ = global_symbols(objects, addresses, sink)
    for name, value in (script_symbols or {}).items():
        if name not in globals_:
            globals_[name] = Resolved(value, Symbol(name, None, value, binding="global"), False)
    order = kind.byteorder
    out: dict[tuple[int, str], bytes] = {}
    for index, obj in enumerate(objects):
        for name, sec in obj.sections.items():
            if (index, name) not in addresses:
                continue
            data = bytearray(sec.data)
            for rel in sec.relocations:
                loc = rel.loc or SourceLoc(obj.path, 0)
                target = resolve_reference(rel, obj, index, addresses, globals_)
                if target is None:
                    sink.error(loc, f"undefined symbol '{rel.symbol}' referenced from "
                                    f"{name}+{rel.offset:#x}")
                    continue
                if rel.kind not in FIELD_SIZE:
                    sink.error(loc, f"unsupported relocation kind '{rel.kind}'")
                    continue
                if rel.kind not in PCREL_KINDS and not target.absolute:
                    sink.error(loc, f"absolute reference ({rel.kind}) to '{rel.symbol}' at "
                                    f"{name}+{rel.offset:#x} needs a dynamic relocation; a "
                                    "vDSO cannot have any (use a pc-relative sequence)")
                    continue
                place = addresses[(index, name)] + rel.offset
                problem = patch_field(data, rel, target.value + rel.addend, place, order)
                if problem:
                    sink.error(loc, f"{problem} for '{rel.symbol}' at {name}+{rel.offset:#x}")
            out[(index, name)] = bytes(data)
    sink.raise_if_failed()
    return out


def patch_field(data: bytearray, rel: Relocation, value: int, place: int,
                order: str) -> str | None:
    """Store ``value`` as ``rel.kind`` at ``rel.offset``; returns a problem text or None."""
    kind, at = rel.kind, rel.offset
    size = FIELD_SIZE[kind]
    if at < 0 or at + size > len(data):
        return "relocation outside its section"
    if kind in PCREL_KINDS:
        value -= place
    if kind in ("rel24", "rel14"):
        bits, mask = (26, 0x03FFFFFC) if kind == "rel24" else (16, 0xFFFC)
        if value & 3:
            return "branch target not a multiple of 4"
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            return f"branch out of range ({value:+#x})"
        insn = int.from_bytes(data[at:at + 4], order)
        data[at:at + 4] = ((insn & ~mask & 0xFFFFFFFF) | (value & mask)).to_bytes(4, order)
        return None
    if kind == "addr16" and not -0x8000 <= value <= 0xFFFF:
        return f"value {value:#x} does not fit 16 bits"
    if kind in ("addr16_lo", "addr16", "rel16_lo"):
        value &= 0xFFFF
    elif kind in ("addr16_hi", "addr16_high", "rel16_hi"):
        value = (value >> 16) & 0xFFFF
    elif kind in ("addr16_ha", "addr16_higha", "rel16_ha"):
        value = ((value + 0x8000) >> 16) & 0xFFFF
    elif size == 4 and not -(1 << 31) <= value < (1 << 32):
        return f"value {value:#x} does not fit 32 bits"
    data[at:at + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, order)
    return None
