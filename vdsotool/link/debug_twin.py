"""Which symbols the debug twin (``vdsoNN.so.dbg``) lists, and with which values.

Sources of symbols, each as GNU ld treats them (the order is symtab.py's business):

* every object's local symbols — labels and ``.set`` constants, not ``.L`` labels or
  section symbols, not symbols of discarded sections;
* every object's global definitions: the exports stay global, all others (hidden helpers
  like ``__get_datapage``, anything under ``local: *``) become local;
* the version-node symbols (``LINUX_2.6.15``, ``OBJECT GLOBAL ABS`` at 0);
* what the linker defines: ``_DYNAMIC`` (``OBJECT`` at ``.dynamic``), the 32-bit
  ``_GLOBAL_OFFSET_TABLE_`` when a ``.got`` is made (got.py),
  ``__GNU_EH_FRAME_HDR`` (at ``.eh_frame_hdr``), the script's assignments (``_end = .``
  belongs to the output section placed before it; ``PROVIDE`` only when an object refers
  to the name without defining it), and the top-level ones (``VDSO_sigtramp_rt64 =
  __kernel_sigtramp_rt64`` takes the section and — as GNU ld does for a plain symbol
  copy — the type of its source, but not its size).
"""

from __future__ import annotations

import os

from vdsotool.link.layout import Layout
from vdsotool.link.script import LinkerScript, OutputSection, evaluate
from vdsotool.link.symtab import OutSymbol, arrange
from vdsotool.objfile import ObjectFile

Key = tuple[int, str]  # (object index, input section name)


def debug_symbols(objects: list[ObjectFile], script: LinkerScript, layout: Layout,
                  placement: dict[Key, tuple[str, int]], exports: set[str],
                  dynobj_first: bool, got_symbol: tuple[str, int] | None = None
                  ) -> list[OutSymbol]:
    """The debug twin's symbols in GNU ld's order. ``placement``: each kept input
    section's output section and address; ``dynobj_first``: GNU ld's synthesised sections
    belong to the first object (32-bit) rather than to a stub object (64-bit);
    ``got_symbol``: (name, address) of the GOT symbol GNU ld defines, if any."""
    sections = [(p.name, p.address) for p in layout.sections]
    object_locals = [(_file_name(objects[i]), _locals(objects[i], i, placement))
                     for i in _output_order(objects, layout, placement, dynobj_first)]
    made_local, globals_ = _object_globals(objects, placement, exports)
    globals_ += [OutSymbol(v.name, 0, 0, "object", None, "global") for v in script.versions]
    made_local += _linker_defined(objects, script, layout, made_local + globals_)
    if got_symbol is not None:
        made_local.append(OutSymbol(got_symbol[0], got_symbol[1], 0, "object", ".got"))
    return arrange(sections, object_locals, made_local, globals_)


def _file_name(obj: ObjectFile) -> str:
    """``cacheflush.S`` -> ``cacheflush.o`` (pathlib's stem: a bare trailing dot is no suffix)."""
    name = os.path.basename(obj.path)
    stem, suffix = os.path.splitext(name)
    return (name if suffix == "." else stem) + ".o"


def _output_order(objects, layout, placement, dynobj_first) -> list[int]:
    """Objects in the order GNU ld first writes one of their sections."""
    order = [0] if dynobj_first and objects else []
    rank = {p.name: n for n, p in enumerate(layout.sections)}
    placed = sorted(placement.items(), key=lambda kv: (rank[kv[1][0]], kv[1][1]))
    for (index, _), _ in placed:
        if index not in order:
            order.append(index)
    return order + [i for i in range(len(objects)) if i not in order]


def _value(sym, index, placement) -> tuple[int, str | None] | None:
    if sym.section is None:
        return sym.value, None
    where = placement.get((index, sym.section))
    return None if where is None else (where[1] + sym.value, where[0])


def _locals(obj: ObjectFile, index: int, placement) -> list[OutSymbol]:
    out = []
    for sym in obj.symbols.values():
        if (sym.binding != "local" or not sym.defined or sym.type in ("section", "file")
                or sym.name.startswith(".L")):
            continue
        where = _value(sym, index, placement)
        if where is not None:
            out.append(OutSymbol(sym.name, where[0], sym.size or 0, sym.type, where[1],
                                 loc=sym.loc))
    return out


def _object_globals(objects, placement, exports) -> tuple[list[OutSymbol], list[OutSymbol]]:
    made_local, globals_, seen = [], [], set()
    for index, obj in enumerate(objects):
        for sym in obj.symbols.values():
            if sym.binding == "local" or not sym.defined or sym.name in seen:
                continue
            where = _value(sym, index, placement)
            if where is None:
                continue
            seen.add(sym.name)
            exported = sym.name in exports
            entry = OutSymbol(sym.name, where[0], sym.size or 0, sym.type, where[1],
                              sym.binding if exported else "local", sym.loc)
            (globals_ if exported else made_local).append(entry)
    return made_local, globals_


def _linker_defined(objects, script, layout, known: list[OutSymbol]) -> list[OutSymbol]:
    placed = {p.name: p.address for p in layout.sections}
    out = []
    if ".dynamic" in placed:
        out.append(OutSymbol("_DYNAMIC", placed[".dynamic"], 0, "object", ".dynamic"))
    if ".eh_frame_hdr" in placed:
        out.append(OutSymbol("__GNU_EH_FRAME_HDR", placed[".eh_frame_hdr"], 0, "notype",
                                ".eh_frame_hdr"))
    defined = {s.name for s in known}
    referenced = {r.symbol for o in objects for s in o.sections.values() for r in s.relocations}
    section = None
    # before any output section, a value computed from "." belongs to the first one
    first = next((i.name for i in script.sections
                  if isinstance(i, OutputSection) and i.name in placed), None)
    for item in script.sections:
        if isinstance(item, OutputSection):
            section = item.name if item.name in placed else section
        elif item.symbol != "." and item.symbol in layout.symbols and item.symbol not in defined \
                and (not item.provide or item.symbol in referenced):
            owner = section if section is not None or not _uses_dot(item.expr) else first
            out.append(OutSymbol(item.symbol, layout.symbols[item.symbol], 0, "notype",
                                 owner, loc=item.loc))
            defined.add(item.symbol)
    return out + _top_level(script, known + out)


def _uses_dot(expr: tuple) -> bool:
    return expr[0] == "dot" or any(isinstance(e, tuple) and _uses_dot(e) for e in expr[1:])


def _top_level(script: LinkerScript, known: list[OutSymbol]) -> list[OutSymbol]:
    """Assignments outside SECTIONS (``VDSO_sigtramp32 = __kernel_sigtramp32;``)."""
    by_name = {s.name: s for s in known}
    out = []
    for item in script.assignments:
        values = {name: s.value for name, s in by_name.items()}
        try:
            value = evaluate(item.expr, values, 0, 0)
        except KeyError:
            continue  # refers to something undefined: GNU ld would fail; nothing to list
        source = by_name.get(item.expr[1]) if item.expr[0] == "sym" else None
        sym = OutSymbol(item.symbol, value, 0, source.type if source else "notype",
                        source.section if source else None, loc=item.loc)
        by_name[item.symbol] = sym
        out.append(sym)
    return out
