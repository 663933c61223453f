"""Assembler directives: sections, symbols, data and alignment (``.cfi_*``: cfi_directives.py).

Each handler takes the pass (state.py), the statement's line and its operand text.
Alignment padding in executable sections is ``nop`` (0x60000000) like GNU ``as``; on
PowerPC ``.align N`` means 2**N bytes.
"""

from __future__ import annotations

from vdsotool.assemble import cfi_directives
from vdsotool.assemble.isa import MODIFIER, MODIFIER_KIND, apply_modifier
from vdsotool.assemble.source import AsmError, parse_string, printable, split_operands
from vdsotool.assemble.state import Pass
from vdsotool.cfi.encode import sleb128, uleb128
from vdsotool.objfile import Relocation

NOP = 0x60000000
IGNORED = {".machine", ".file", ".ident", ".loc", ".gnu_attribute", ".cfi_sections"}
DATA_SIZES = {".byte": 1, ".short": 2, ".2byte": 2, ".hword": 2, ".long": 4, ".4byte": 4,
              ".int": 4, ".word": 4, ".quad": 8, ".8byte": 8}
SECTION_TYPES = {"@progbits": "progbits", "@note": "note", "@nobits": "nobits",
                 "%progbits": "progbits", "%note": "note", "%nobits": "nobits"}
SECTION_FLAGS = set("awxMSGTRoe")  # GNU as's ELF section flag letters


def run(p: Pass, line, word: str, rest: str) -> None:
    if word in IGNORED:
        return
    if word in DATA_SIZES:
        return data(p, line, DATA_SIZES[word], rest)
    if word.startswith(".cfi_"):
        # CFI becomes .eh_frame at link time: it places no bytes and defines no symbol, so
        # the passes that only learn label offsets skip it; the final pass reads and checks it
        return cfi_directives.run(p, line, word, rest) if p.final else None
    handler = HANDLERS.get(word)
    if handler is None:
        raise AsmError(f"unknown directive '{printable(word)}'")
    handler(p, line, rest)


# ---- sections
def d_section(p: Pass, line, rest):
    ops = split_operands(rest)
    if not ops or not ops[0]:
        raise AsmError(".section needs a name")
    name = ops[0].strip('"')
    flags = parse_string(ops[1]).decode("latin-1") if len(ops) > 1 else None
    if flags is not None and not set(flags) <= SECTION_FLAGS:
        raise AsmError(f"unknown section flag in '{printable(ops[1])}'")
    type_ = "progbits"
    if len(ops) > 2:
        if ops[2] not in SECTION_TYPES:
            raise AsmError(f"unknown section type '{printable(ops[2])}'")
        type_ = SECTION_TYPES[ops[2]]
    sec = p.section_of(name, flags, type_)
    if flags is not None and not sec.flags:
        sec.flags = flags
    sec.loc = sec.loc or line.loc
    p.switch(name)


def d_push(p: Pass, line, rest):
    p.section_stack.append((p.section, p.previous))
    d_section(p, line, rest)


def d_pop(p: Pass, line, rest):
    if not p.section_stack:
        raise AsmError(".popsection without .pushsection")
    p.section, p.previous = p.section_stack.pop()


def d_previous(p: Pass, line, rest):
    p.section, p.previous = p.previous, p.section


# ---- symbols
def symbol_attribute(attribute: str, value: str):
    """The handler of ``.globl``-like directives: set ``attribute`` of each named symbol."""
    def handler(p: Pass, line, rest):
        for name in split_operands(rest):
            setattr(p.symbol(name), attribute, value)
    return handler


def d_type(p: Pass, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise AsmError(".type needs a symbol and a type")
    kinds = {"function": "func", "object": "object", "notype": "notype"}
    t = ops[1].lstrip("@%#")
    if t not in kinds:
        raise AsmError(f"unknown symbol type '{printable(ops[1])}'")
    p.symbol(ops[0]).type = kinds[t]


def d_size(p: Pass, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise AsmError(".size needs a symbol and an expression")
    size = p.absolute(ops[1])
    # st_size is unsigned and as wide as an address: a negative size (a size computed
    # before the symbol's label, say) or a wider one cannot be linked
    if p.final and not 0 <= size < 1 << (8 * p.target.wordsize):
        raise AsmError(f"size {size} of '{ops[0]}' is not between 0 and "
                       f"{(1 << (8 * p.target.wordsize)) - 1}")
    p.symbol(ops[0]).size = size


def d_set(p: Pass, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise AsmError(".set needs a name and a value")
    p.set_symbol(ops[0], ops[1])


def d_abiversion(p: Pass, line, rest):
    p.abiversion = p.absolute(rest)


def d_error(p: Pass, line, rest):
    message = parse_string(rest).decode("utf-8", "replace") if rest.strip() else None
    raise AsmError(message or ".error directive invoked")


# ---- data
def data(p: Pass, line, size: int, rest: str) -> None:
    for op in split_operands(rest):
        mod = MODIFIER.search(op)
        v = p.value(op[:mod.start()] if mod else op)
        if v.absolute:
            n = apply_modifier(mod.group(1), v.const) if mod else v.const
            if p.final and not -(1 << (8 * size)) < n < (1 << (8 * size)):
                raise AsmError(f"value {printable(op.strip())} does not fit in {size} bytes")
            p.emit(p.word(n, size), line)
            continue
        if v.minus is not None:
            pcrel(p, line, size, v, op)
            continue
        kind = MODIFIER_KIND[mod.group(1).lower()] if mod else \
            {2: "addr16", 4: "addr32", 8: "addr64"}.get(size)
        if kind is None:
            raise AsmError(f"cannot store a relocatable value in {size} byte(s)")
        if p.final:
            sym, addend = p.reloc_target(v)
            p.obj.sections[p.section].relocations.append(Relocation(p.here(), kind, sym, addend, line.loc))
        p.emit(bytes(size), line)


def pcrel(p: Pass, line, size: int, v, op: str) -> None:
    """``.long sym - .`` (or ``- label`` of this section): a rel32/rel64 relocation whose
    addend makes ``S + A - P`` equal the expression (P is the address of the field)."""
    if v.minus != p.section or size not in (4, 8):
        raise AsmError(f"'{printable(op.strip())}' is not computable: difference with another section")
    if p.final:
        sym, addend = p.reloc_target(v)
        here = p.here()
        p.obj.sections[p.section].relocations.append(
            Relocation(here, "rel32" if size == 4 else "rel64", sym, addend + here, line.loc))
    p.emit(bytes(size), line)


def leb_handler(signed: bool):
    def handler(p: Pass, line, rest):
        for op in split_operands(rest):
            n = p.absolute(op)
            if n < 0 and not signed:
                n &= (1 << 64) - 1
            p.emit(sleb128(n) if signed else uleb128(n), line)
    return handler


def string_handler(zero: bool):
    def handler(p: Pass, line, rest):
        for op in split_operands(rest):
            p.emit(parse_string(op) + (b"\0" if zero else b""), line)
    return handler


def pad(p: Pass, line, count: int, fill: int | None) -> None:
    p.reserve(count)  # before making the bytes: a count may be anything
    if fill is None and "x" in p.obj.sections[p.section].flags:
        here, out = p.here(), bytearray()
        while len(out) < count:
            if (here + len(out)) % 4 == 0 and count - len(out) >= 4:
                out += p.word(NOP, 4)
            else:
                out.append(0)
        p.emit(bytes(out), line)
    else:
        p.emit(bytes([(fill or 0) & 0xFF]) * count, line)


def align_handler(power: bool):
    def handler(p: Pass, line, rest):
        ops = split_operands(rest)
        if not ops or not ops[0]:
            raise AsmError("alignment needs a value")
        n = p.absolute(ops[0])
        if power:
            if not 0 <= n <= 16:
                raise AsmError(f"bad alignment {n}")
            n = 1 << n
        elif n <= 0 or n & (n - 1) or n > 1 << 16:
            raise AsmError(f"alignment {n} is not a power of two")
        fill = p.absolute(ops[1]) if len(ops) > 1 and ops[1] else None
        sec = p.obj.sections[p.section]
        sec.align = max(sec.align, n)
        pad(p, line, (-p.here()) % n, fill)
    return handler


def d_space(p: Pass, line, rest):
    ops = split_operands(rest)
    fill = p.absolute(ops[1]) if len(ops) > 1 else 0
    pad(p, line, p.absolute(ops[0]) if ops else 0, fill)


def d_fill(p: Pass, line, rest):
    ops = split_operands(rest)
    if not ops or len(ops) > 3:
        raise AsmError(".fill takes repeat[, size[, value]]")
    rep = p.absolute(ops[0])
    size = min(p.absolute(ops[1]), 8) if len(ops) > 1 else 1
    value = p.absolute(ops[2]) if len(ops) > 2 else 0
    if rep < 0 or size < 0:
        raise AsmError("bad .fill size")
    p.reserve(rep * size)
    # GNU as: the value is stored in 4 bytes (target order) and padded with zeros above that
    unit = p.word(value, min(size, 4)) + bytes(max(size - 4, 0))
    p.emit(unit * rep, line)


def d_org(p: Pass, line, rest):
    ops = split_operands(rest)
    if not ops or not ops[0]:
        raise AsmError(".org needs an address")
    v = p.value(ops[0])
    if v.section not in (None, p.section) or v.symbol is not None:
        raise AsmError(".org to a different section")
    fill = p.absolute(ops[1]) if len(ops) > 1 else 0
    gap = v.const - p.here()
    if gap < 0:
        if p.final:
            raise AsmError("attempt to move .org backwards")
        return
    p.reserve(gap)
    p.emit(bytes([fill & 0xFF]) * gap, line)


def section_switch(name: str):
    return lambda p, line, rest: p.switch(name)


HANDLERS = {
    ".text": section_switch(".text"), ".data": section_switch(".data"), ".bss": section_switch(".bss"),
    ".section": d_section, ".pushsection": d_push, ".popsection": d_pop, ".previous": d_previous,
    ".globl": symbol_attribute("binding", "global"), ".global": symbol_attribute("binding", "global"),
    ".weak": symbol_attribute("binding", "weak"), ".local": symbol_attribute("binding", "local"),
    ".hidden": symbol_attribute("visibility", "hidden"),
    ".protected": symbol_attribute("visibility", "protected"),
    ".internal": symbol_attribute("visibility", "internal"),
    ".type": d_type, ".size": d_size, ".set": d_set, ".equ": d_set,
    ".abiversion": d_abiversion, ".error": d_error, ".err": d_error,
    ".uleb128": leb_handler(False), ".sleb128": leb_handler(True),
    ".ascii": string_handler(False), ".asciz": string_handler(True), ".string": string_handler(True),
    ".balign": align_handler(False), ".p2align": align_handler(True), ".align": align_handler(True),
    ".space": d_space, ".skip": d_space, ".zero": d_space, ".fill": d_fill, ".org": d_org,
}
