"""Assembler directives: sections, symbols, data, alignment and ``.cfi_*``.

Alignment padding in executable sections is ``nop`` (0x60000000) like GNU ``as``; on
PowerPC ``.align N`` means 2**N bytes. ``.cfi_*`` directives build a
:class:`FrameDescription` whose instructions are anchored at the section offset where they
take effect (the linker turns them into ``.eh_frame``).
"""

from __future__ import annotations

import re

from vdsotool.abi import dwarf_regs
from vdsotool.assemble.core import NOP, Fail, parse_string, split_operands
from vdsotool.cfi import model as cfi
from vdsotool.cfi.encode import sleb128, uleb128
from vdsotool.objfile import FrameDescription, Relocation, Symbol

IGNORED = {".machine", ".file", ".ident", ".loc", ".gnu_attribute", ".cfi_sections"}
DATA_SIZES = {".byte": 1, ".short": 2, ".2byte": 2, ".hword": 2, ".long": 4, ".4byte": 4,
              ".int": 4, ".word": 4, ".quad": 8, ".8byte": 8}
SECTION_TYPES = {"@progbits": "progbits", "@note": "note", "@nobits": "nobits",
                 "%progbits": "progbits", "%note": "note", "%nobits": "nobits"}


def run(asm, st, line, word: str, rest: str) -> None:
    if word in IGNORED:
        return
    if word in DATA_SIZES:
        return data(asm, st, line, DATA_SIZES[word], rest)
    if word.startswith(".cfi_"):
        # CFI becomes .eh_frame at link time: it places no bytes and defines no symbol, so
        # the passes that only learn label offsets skip it; the final pass reads and checks it
        return cfi_directive(asm, st, line, word, rest) if st.final else None
    handler = HANDLERS.get(word)
    if handler is None:
        raise Fail(f"unknown directive '{word}'")
    handler(asm, st, line, rest)


# ---- sections
def switch(st, asm, name: str) -> None:
    st.previous, st.section = st.section, name
    asm.section_of(st, name)


def d_section(asm, st, line, rest):
    ops = split_operands(rest)
    if not ops or not ops[0]:
        raise Fail(".section needs a name")
    name = ops[0].strip('"')
    flags = parse_string(ops[1]).decode() if len(ops) > 1 else None
    type_ = "progbits"
    if len(ops) > 2:
        if ops[2] not in SECTION_TYPES:
            raise Fail(f"unknown section type '{ops[2]}'")
        type_ = SECTION_TYPES[ops[2]]
    sec = asm.section_of(st, name, flags, type_)
    if flags is not None and not sec.flags:
        sec.flags = flags
    sec.loc = sec.loc or line.loc
    switch(st, asm, name)


def d_push(asm, st, line, rest):
    st.section_stack.append((st.section, st.previous))
    d_section(asm, st, line, rest)


def d_pop(asm, st, line, rest):
    if not st.section_stack:
        raise Fail(".popsection without .pushsection")
    st.section, st.previous = st.section_stack.pop()


def d_previous(asm, st, line, rest):
    st.section, st.previous = st.previous, st.section


# ---- symbols
def symbol(st, name: str):
    name = name.strip()
    if not name or not (name[0].isalpha() or name[0] in "_.$"):
        raise Fail(f"bad symbol name '{name}'")
    if name not in st.obj.symbols:
        st.obj.symbols[name] = Symbol(name, None, 0, defined=False)
    return st.obj.symbols[name]


def symbol_attribute(attribute: str, value: str):
    """The handler of ``.globl``-like directives: set ``attribute`` of each named symbol."""
    def handler(asm, st, line, rest):
        for name in split_operands(rest):
            setattr(symbol(st, name), attribute, value)
    return handler


def binding(kind: str):
    return symbol_attribute("binding", kind)


def visibility(kind: str):
    return symbol_attribute("visibility", kind)


def d_type(asm, st, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise Fail(".type needs a symbol and a type")
    kinds = {"function": "func", "object": "object", "notype": "notype"}
    t = ops[1].lstrip("@%#")
    if t not in kinds:
        raise Fail(f"unknown symbol type '{ops[1]}'")
    symbol(st, ops[0]).type = kinds[t]


def d_size(asm, st, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise Fail(".size needs a symbol and an expression")
    symbol(st, ops[0]).size = asm.absolute(st, ops[1])


def d_set(asm, st, line, rest):
    ops = split_operands(rest)
    if len(ops) != 2:
        raise Fail(".set needs a name and a value")
    asm.set_symbol(st, ops[0], ops[1])


def d_abiversion(asm, st, line, rest):
    st.abiversion = asm.absolute(st, rest)


def d_error(asm, st, line, rest):
    raise Fail(parse_string(rest).decode() if rest.strip() else ".error directive invoked")


# ---- data
def data(asm, st, line, size: int, rest: str) -> None:
    for op in split_operands(rest):
        from vdsotool.assemble.instructions import _MODIFIER, _MOD_KIND, apply_modifier

        mod = _MODIFIER.search(op)
        v = asm.value(st, op[:mod.start()] if mod else op)
        if v.absolute:
            n = apply_modifier(mod.group(1), v.const) if mod else v.const
            if not -(1 << (8 * size)) < n < (1 << (8 * size)) and st.final:
                raise Fail(f"value {op.strip()} does not fit in {size} bytes")
            asm.emit(st, asm.word(n, size), line)
            continue
        if v.minus is not None:
            pcrel(asm, st, line, size, v, op)
            continue
        kind = _MOD_KIND[mod.group(1).lower()] if mod else {2: "addr16", 4: "addr32", 8: "addr64"}.get(size)
        if kind is None:
            raise Fail(f"cannot store a relocatable value in {size} byte(s)")
        if st.final:
            sym, addend = asm.reloc_target(v)
            st.obj.sections[st.section].relocations.append(Relocation(asm.here(st), kind, sym, addend, line.loc))
        asm.emit(st, bytes(size), line)


def pcrel(asm, st, line, size: int, v, op: str) -> None:
    """``.long sym - .`` (or ``- label`` of this section): a rel32/rel64 relocation whose
    addend makes ``S + A - P`` equal the expression (P is the address of the field)."""
    if v.minus != st.section or size not in (4, 8):
        raise Fail(f"'{op.strip()}' is not computable: difference with another section")
    if st.final:
        sym, addend = asm.reloc_target(v)
        here = asm.here(st)
        st.obj.sections[st.section].relocations.append(
            Relocation(here, "rel32" if size == 4 else "rel64", sym, addend + here, line.loc))
    asm.emit(st, bytes(size), line)


def leb_handler(signed: bool):
    def handler(asm, st, line, rest):
        for op in split_operands(rest):
            n = asm.absolute(st, op)
            if n < 0 and not signed:
                n &= (1 << 64) - 1
            asm.emit(st, sleb128(n) if signed else uleb128(n), line)
    return handler


def string_handler(zero: bool):
    def handler(asm, st, line, rest):
        for op in split_operands(rest):
            asm.emit(st, parse_string(op) + (b"\0" if zero else b""), line)
    return handler


def pad(asm, st, line, count: int, fill: int | None) -> None:
    if count < 0:
        raise Fail("negative size")
    if count > 1 << 20:
        raise Fail(f"size {count} too large")
    sec = st.obj.sections[st.section]
    if fill is None and "x" in sec.flags:
        here = asm.here(st)
        out = bytearray()
        while len(out) < count:
            if (here + len(out)) % 4 == 0 and count - len(out) >= 4:
                out += asm.word(NOP, 4)
            else:
                out.append(0)
        asm.emit(st, bytes(out), line)
    else:
        asm.emit(st, bytes([(fill or 0) & 0xFF]) * count, line)


def align_handler(power: bool):
    def handler(asm, st, line, rest):
        ops = split_operands(rest)
        if not ops or not ops[0]:
            raise Fail("alignment needs a value")
        n = asm.absolute(st, ops[0])
        if power:
            if not 0 <= n <= 16:
                raise Fail(f"bad alignment {n}")
            n = 1 << n
        elif n <= 0 or n & (n - 1) or n > 1 << 16:
            raise Fail(f"alignment {n} is not a power of two")
        fill = asm.absolute(st, ops[1]) if len(ops) > 1 and ops[1] else None
        sec = st.obj.sections[st.section]
        sec.align = max(sec.align, n)
        pad(asm, st, line, (-asm.here(st)) % n, fill)
    return handler


def d_space(asm, st, line, rest):
    ops = split_operands(rest)
    fill = asm.absolute(st, ops[1]) if len(ops) > 1 else 0
    pad(asm, st, line, asm.absolute(st, ops[0]) if ops else 0, fill)


def d_fill(asm, st, line, rest):
    ops = split_operands(rest)
    if not ops or len(ops) > 3:
        raise Fail(".fill takes repeat[, size[, value]]")
    rep = asm.absolute(st, ops[0])
    size = min(asm.absolute(st, ops[1]), 8) if len(ops) > 1 else 1
    value = asm.absolute(st, ops[2]) if len(ops) > 2 else 0
    if rep < 0 or rep * size > 1 << 20 or size < 0:
        raise Fail("bad .fill size")
    # GNU as: the value is stored in 4 bytes (target order) and padded with zeros above that
    unit = asm.word(value, min(size, 4)) if size <= 4 else (asm.word(value, 4) + bytes(size - 4) if not asm.target.little else asm.word(value, 4) + bytes(size - 4))
    asm.emit(st, unit * rep, line)


def d_org(asm, st, line, rest):
    ops = split_operands(rest)
    if not ops or not ops[0]:
        raise Fail(".org needs an address")
    v = asm.value(st, ops[0])
    if v.section not in (None, st.section) or v.symbol is not None:
        raise Fail(".org to a different section")
    fill = asm.absolute(st, ops[1]) if len(ops) > 1 else 0
    gap = v.const - asm.here(st)
    if gap < 0:
        if st.final:
            raise Fail("attempt to move .org backwards")
        return
    asm.emit(st, bytes([fill & 0xFF]) * gap, line)


# ---- CFI
def reg(text: str) -> int:
    n = dwarf_regs.parse_reg(text)
    if n is None:
        raise Fail(f"bad register '{text.strip()}' in CFI directive")
    return n


# what the signal-frame generator writes: 0xNN bytes, two digits each (cfi/sigframe.py)
_HEX_BYTES = re.compile(r"[ \t]*0[xX][0-9a-fA-F]{2}[ \t]*(?:,[ \t]*0[xX][0-9a-fA-F]{2}[ \t]*)*")


def cfi_directive(asm, st, line, word, rest):
    # the signal frames' generated CFI is thousands of 0xNN bytes: read them directly;
    # anything else (expressions, symbols, other radixes) goes through the expression
    # evaluator, which gives the same value for these
    plain_escape = word == ".cfi_escape" and _HEX_BYTES.fullmatch(rest)
    ops = [] if plain_escape else split_operands(rest)
    here = asm.here(st)
    if word == ".cfi_startproc":
        if st.frame is not None:
            raise Fail("nested .cfi_startproc")
        if ops and ops != ["simple"]:
            raise Fail(f"unexpected '{rest.strip()}' after .cfi_startproc")
        st.frame = FrameDescription(st.section, here, here, simple=bool(ops), loc=line.loc)
        st.cfa_stack = []
        return
    if word in (".cfi_personality", ".cfi_lsda", ".cfi_personality_id", ".cfi_fde_data",
                ".cfi_inline_lsda"):
        raise Fail(f"{word} is not supported: a vDSO has no personality routine or LSDA")
    frame = st.frame
    if frame is None:
        raise Fail(f"{word} without .cfi_startproc")
    if word == ".cfi_endproc":
        frame.end = here
        st.obj.frames.append(frame)
        st.frame = None
        return
    if frame.section != st.section:
        raise Fail(f"{word} in a different section than its .cfi_startproc")

    def n(i: int) -> int:
        return asm.absolute(st, ops[i])

    def arity(k: int) -> None:
        if len([o for o in ops if o]) != k:
            raise Fail(f"{word} takes {k} operand(s)")

    instr = None
    if word == ".cfi_def_cfa":
        arity(2)
        instr = cfi.DefCfa(reg(ops[0]), n(1))
    elif word == ".cfi_def_cfa_register":
        arity(1)
        instr = cfi.DefCfaRegister(reg(ops[0]))
    elif word == ".cfi_def_cfa_offset":
        arity(1)
        instr = cfi.DefCfaOffset(n(0))
    elif word == ".cfi_adjust_cfa_offset":
        arity(1)
        instr = cfi.DefCfaOffset(current_cfa_offset(frame) + n(0))
    elif word == ".cfi_offset":
        arity(2)
        instr = cfi.Offset(reg(ops[0]), n(1))
    elif word == ".cfi_rel_offset":
        arity(2)
        instr = cfi.Offset(reg(ops[0]), n(1) - current_cfa_offset(frame))
    elif word == ".cfi_val_offset":
        arity(2)
        instr = cfi.ValOffset(reg(ops[0]), n(1))
    elif word == ".cfi_register":
        arity(2)
        instr = cfi.Register(reg(ops[0]), reg(ops[1]))
    elif word in (".cfi_restore", ".cfi_undefined", ".cfi_same_value"):
        if not ops or not ops[0]:
            raise Fail(f"{word} needs a register")
        cls = {".cfi_restore": cfi.Restore, ".cfi_undefined": cfi.Undefined,
               ".cfi_same_value": cfi.SameValue}[word]
        for o in ops:
            frame.instructions.append((here, cls(reg(o))))
        return
    elif word == ".cfi_remember_state":
        arity(0)
        instr = cfi.RememberState()
    elif word == ".cfi_restore_state":
        arity(0)
        instr = cfi.RestoreState()
    elif word == ".cfi_return_column":
        arity(1)
        frame.return_column = reg(ops[0])
        return
    elif word == ".cfi_signal_frame":
        arity(0)
        frame.signal_frame = True
        return
    elif word == ".cfi_escape":
        if plain_escape:  # bytes by construction
            data = bytes.fromhex(rest.replace(",", " ").replace("0x", "").replace("0X", ""))
        else:
            values = [n(i) for i in range(len(ops))]
            if not values or any(not 0 <= v <= 255 for v in values):
                raise Fail(".cfi_escape takes byte values 0..255")
            data = bytes(values)
        instr = cfi.Escape(data)
    else:
        raise Fail(f"unknown CFI directive '{word}'")
    frame.instructions.append((here, instr))


def current_cfa_offset(frame) -> int:
    """The CFA offset in force (for .cfi_adjust_cfa_offset / .cfi_rel_offset)."""
    offset, saved = 0, []
    for _, ins in frame.instructions:
        if isinstance(ins, (cfi.DefCfa, cfi.DefCfaOffset)):
            offset = ins.offset
        elif isinstance(ins, cfi.RememberState):
            saved.append(offset)
        elif isinstance(ins, cfi.RestoreState) and saved:
            offset = saved.pop()
    return offset


HANDLERS = {
    ".text": lambda a, s, l, r: switch(s, a, ".text"),
    ".data": lambda a, s, l, r: switch(s, a, ".data"),
    ".bss": lambda a, s, l, r: switch(s, a, ".bss"),
    ".section": d_section, ".pushsection": d_push, ".popsection": d_pop, ".previous": d_previous,
    ".globl": binding("global"), ".global": binding("global"), ".weak": binding("weak"),
    ".local": binding("local"), ".hidden": visibility("hidden"),
    ".protected": visibility("protected"), ".internal": visibility("internal"),
    ".type": d_type, ".size": d_size, ".set": d_set, ".equ": d_set,
    ".abiversion": d_abiversion, ".error": d_error, ".err": d_error,
    ".uleb128": leb_handler(False), ".sleb128": leb_handler(True),
    ".ascii": string_handler(False), ".asciz": string_handler(True), ".string": string_handler(True),
    ".balign": align_handler(False), ".p2align": align_handler(True), ".align": align_handler(True),
    ".space": d_space, ".skip": d_space, ".zero": d_space, ".fill": d_fill, ".org": d_org,
}
