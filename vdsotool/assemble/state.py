"""One pass's object under construction: sections, symbols, the location counter, values.

A :class:`Pass` is what every statement handler (directives.py, cfi_directives.py,
instructions.py) works on. It knows the labels the previous pass found (``labels``) and
notes which names it took from them (``asked_labels``, ``asked_globals``): the driver
(assembler.py) runs another pass only when one of those answers changed.

Budgets: a section holds at most :data:`MAX_SECTION_BYTES` (a vDSO is a few pages; GNU as
has no such limit, but nothing an input asks for may grow without bound); going past it
stops the pass with an error at the statement that asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vdsotool.abi.targets import Target
from vdsotool.assemble.expr import Value, parse_value
from vdsotool.assemble.source import AsmError, Fatal, Line, printable
from vdsotool.errors import Diagnostic, SourceLoc
from vdsotool.objfile import FrameDescription, ObjectFile, Section, Symbol
from vdsotool.util.records import field, record

MAX_SECTION_BYTES = 1 << 20
CR_BITS = {"lt": 0, "gt": 1, "eq": 2, "so": 3, "un": 3}
_CR_FIELD = re.compile(r"%?cr([0-7])$")
_LOCAL_REF = re.compile(r"(\d+)([bf])")
DEFAULT_FLAGS = {".text": "ax", ".data": "aw", ".bss": "aw", ".rodata": "a"}


@record
class ListingRow:
    """The bytes one statement placed (a listing row of ``vdsotool asm``)."""

    section: str
    offset: int
    data: bytearray
    loc: SourceLoc


@record
class Pass:
    target: Target
    labels: dict[str, Value]  # from the previous pass
    global_names: set[str]  # declared global or weak in the previous pass
    final: bool
    obj: ObjectFile = None
    section: str = ".text"
    section_stack: list[tuple[str, str]] = field(default_factory=list)
    previous: str = ".text"
    symbols: dict[str, Value] = field(default_factory=dict)
    local_counts: dict[str, int] = field(default_factory=dict)
    frame: FrameDescription | None = None
    cfi_at: tuple[int, int] = (0, 0)  # (section offset, effective offset) of the last CFI step
    errors: list[Diagnostic] = field(default_factory=list)
    abiversion: int | None = None
    listing: list[ListingRow] = field(default_factory=list)
    statement: int = 0  # how many statements the pass has started (control.py counts)
    stopped: bool = False  # by a Fatal error (a budget)
    listed: int = -1  # the statement the last listing row belongs to
    # names whose answer came from the previous pass (assembler.py's next_pass_repeats)
    asked_labels: set[str] = field(default_factory=set)
    asked_globals: set[str] = field(default_factory=set)

    # ---- sections and bytes
    def section_of(self, name: str, flags: str | None = None, type_: str = "progbits") -> Section:
        if name not in self.obj.sections:
            self.obj.sections[name] = Section(
                name, flags if flags is not None else DEFAULT_FLAGS.get(name, ""),
                "nobits" if name == ".bss" else type_, 1)
        return self.obj.sections[name]

    def switch(self, name: str) -> None:
        self.previous, self.section = self.section, name
        self.section_of(name)

    def here(self) -> int:
        return self.obj.sections[self.section].size

    def reserve(self, count: int) -> None:
        """Refuse to grow the current section by ``count`` bytes past its budget."""
        if count < 0:
            raise AsmError(f"negative size {count}")
        if self.here() + count > MAX_SECTION_BYTES:
            raise Fatal(f"section '{self.section}' would grow past {MAX_SECTION_BYTES >> 20} MiB"
                        " (the assembler's limit for a section)")

    def emit(self, data: bytes, line: Line) -> None:
        self.reserve(len(data))
        sec = self.obj.sections[self.section]
        if self.final:
            last = self.listing[-1] if self.listing else None
            if self.listed == self.statement and last.section == self.section:
                last.data += data  # one row per statement however many values it places
            else:
                self.listing.append(ListingRow(self.section, sec.size, bytearray(data), line.loc))
                self.listed = self.statement
        sec.data += data

    def word(self, value: int, size: int) -> bytes:
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, self.target.byteorder)

    # ---- symbols
    def define_label(self, name: str, loc: SourceLoc) -> None:
        if name.isdigit():
            n = self.local_counts.get(name, 0) + 1
            self.local_counts[name] = n
            name = f"{name}\x02{n}"
        elif self.final and name in self.symbols and self.symbols[name].section is not None \
                and name in self.obj.symbols and self.obj.symbols[name].defined:
            raise AsmError(f"symbol '{name}' is already defined")
        self.symbols[name] = Value(self.here(), self.section)
        sym = self.obj.symbols.get(name) or Symbol(name, self.section, 0)
        sym.section, sym.value, sym.defined = self.section, self.here(), True
        sym.loc = sym.loc or loc  # where it is defined, for the linker's diagnostics
        self.obj.symbols[name] = sym

    def set_symbol(self, name: str, expr: str) -> None:
        v = self.value(expr)
        if v.symbol is not None:
            raise AsmError(f"cannot set '{name}' to an undefined symbol")
        self.symbols[name] = v
        sym = self.obj.symbols.get(name) or Symbol(name, None, 0)
        sym.section, sym.value, sym.defined = v.section, address(v.const, self.target), True
        self.obj.symbols[name] = sym

    def symbol(self, name: str) -> Symbol:
        """The object's symbol ``name``, created undefined when new."""
        name = name.strip()
        if not name or not (name[0].isascii() and (name[0].isalpha() or name[0] in "_.$")):
            raise AsmError(f"bad symbol name '{printable(name)}'")
        if name not in self.obj.symbols:
            self.obj.symbols[name] = Symbol(name, None, 0, defined=False)
        return self.obj.symbols[name]

    def is_global(self, name: str) -> bool:
        """Whether the previous pass declared ``name`` global or weak (noted for the pass)."""
        self.asked_globals.add(name)
        return name in self.global_names

    def drop_local_labels(self) -> None:
        for name in [n for n in self.obj.symbols if "\x02" in n]:
            del self.obj.symbols[name]

    # ---- values
    def find(self, name: str) -> Value | None:
        """The value of ``name`` in an expression (None: an unknown local label)."""
        if name == ".":
            return Value(self.here(), self.section)
        if name[0].isdigit() and (m := _LOCAL_REF.fullmatch(name)):
            return self.local_label(m.group(1), m.group(2))
        if name in self.symbols:
            return named(self.symbols[name], name)
        self.asked_labels.add(name)  # not defined yet: what follows depends on self.labels
        if name in self.labels and self.labels[name].section is not None:
            return named(self.labels[name], name)
        low = name.lower()
        if low in CR_BITS:
            return Value(CR_BITS[low])
        if m := _CR_FIELD.match(low):
            return Value(int(m.group(1)))
        if self.final and name in self.labels:
            return self.labels[name]
        return Value(0, None, name)

    def local_label(self, num: str, direction: str) -> Value | None:
        n = self.local_counts.get(num, 0)
        key = f"{num}\x02{n if direction == 'b' else n + 1}"
        if direction == "b":
            return self.symbols.get(key)
        self.asked_labels.add(key)
        v = self.labels.get(key)
        if v is None and not self.final:
            return Value(self.here(), self.section)
        return v

    def reloc_target(self, v: Value) -> tuple[str, int]:
        """(symbol, addend) for a relocatable value: GNU as relocates against a global
        symbol itself (the linker may bind it elsewhere), otherwise against the section."""
        if v.symbol is not None:
            return v.symbol, v.const
        if v.label in self.global_names:
            return v.label, v.const - v.label_offset
        return v.section, v.const

    def value(self, text: str) -> Value:
        try:
            return parse_value(text, self.find)
        except (RecursionError, MemoryError):
            raise AsmError(f"expression too complex: '{printable(text.strip()[:40])}'") from None

    def absolute(self, text: str) -> int:
        v = self.value(text)
        if not v.absolute:
            if not self.final:
                return 0
            raise AsmError(f"expression '{printable(text.strip())}' is not an absolute value")
        return v.const


def address(value: int, target: Target) -> int:
    """A symbol's value as its ELF ``st_value`` holds it: the address-wide two's complement
    (``-D X=-1`` is 0xffffffffffffffff in an ELF64 object, as with GNU as --defsym)."""
    return value & ((1 << (8 * target.wordsize)) - 1)


def named(v: Value, name: str) -> Value:
    if v.section is None or v.symbol is not None:
        return v
    return Value(v.const, v.section, None, v.minus, name, v.const)


def new_pass(target: Target, labels: dict[str, Value], global_names: set[str], final: bool,
             path: str, defines: dict[str, int]) -> Pass:
    p = Pass(target, labels, global_names, final)
    p.obj = ObjectFile(path=path, target=target)
    # like GNU as --defsym: local absolute symbols, first in the object's table, the last
    # one given first (GNU as keeps its --defsym list last-in first-out)
    for name, value in reversed(defines.items()):
        p.symbols[name] = Value(value)
        p.obj.symbols[name] = Symbol(name, None, address(value, target))
    p.section_of(".text")
    return p


Lookup = Callable[[str], Value | None]
