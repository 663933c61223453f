"""Address assignment: walk the script's SECTIONS in order and place each output section.

Rules (those of GNU ld, for the constructs the script reader accepts):

* the location counter ``.`` starts at 0; ``. = expr`` moves it (``SIZEOF_HEADERS`` is the
  size of the ELF header plus program headers, so the first section follows them inside
  the one PT_LOAD);
* an output section with no input is dropped (no header, no space), as GNU ld drops empty
  sections; ``/DISCARD/`` never gets an address;
* otherwise its address is its address expression if given (``.opd ALIGN(8)``), else
  ``.``, then aligned up to the largest alignment of its inputs; ``.`` moves past it;
* symbol assignments record the current value; ``PROVIDE`` ones only count when the
  symbol is not defined by an input (the caller decides that).

Sections are the output chunks (link/chunk.py): their sizes are known before any address,
so this walk runs once per link. A section that would start below 0 or end past the ELF
class's address space is refused at its line in the script.
"""

from __future__ import annotations

from vdsotool.errors import VdsoError
from vdsotool.link.script import Assignment, LinkerScript, evaluate
from vdsotool.util.records import record


@record(frozen=True)
class Placed:
    name: str
    address: int
    size: int
    align: int
    phdrs: tuple[str, ...]


@record
class Layout:
    sections: list[Placed]
    symbols: dict[str, int]  # script-defined symbols (including PROVIDEd ones)
    end: int


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align if align > 1 else value


def lay_out(script: LinkerScript, contents: dict, sizeof_headers: int,
            defined: dict[str, int] | None = None, bits: int = 64) -> Layout:
    """Place the output sections; ``contents`` maps an output section's name to its chunk
    (anything with ``size`` and ``align``; absent: no input); ``defined`` are symbols the
    inputs define; ``bits`` the ELF class, whose address space the sections must fit."""
    symbols = dict(defined or {})
    placed, dot = [], 0
    for item in script.sections:
        if isinstance(item, Assignment):
            value = _value(item, symbols, dot, sizeof_headers)
            if item.symbol == ".":
                dot = value
            elif not (item.provide and item.symbol in symbols):
                symbols[item.symbol] = value
            continue
        content = contents.get(item.name)
        if item.discard or content is None:
            continue
        start = dot if item.address is None else evaluate(item.address, symbols, dot,
                                                          sizeof_headers)
        address = align_up(start, content.align)
        if not 0 <= address <= address + content.size <= 1 << bits:
            raise VdsoError.at(item.loc, f"section {item.name} at {address:#x} (size "
                               f"{content.size:#x}) lies outside the {bits}-bit address space")
        placed.append(Placed(item.name, address, content.size, content.align, item.phdrs))
        dot = address + content.size
    return Layout(placed, {k: v for k, v in symbols.items() if k not in (defined or {})}, dot)


def _value(item: Assignment, symbols: dict[str, int], dot: int, sizeof_headers: int) -> int:
    try:
        return evaluate(item.expr, symbols, dot, sizeof_headers)
    except KeyError as missing:
        raise VdsoError.at(item.loc, f"undefined symbol {missing} in expression") from None
