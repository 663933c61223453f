"""Bytes for CFI values: LEB128, DWARF expressions and CFA instructions.

The encoder picks the same compact forms GNU ``as`` picks: ``DW_CFA_advance_loc`` with the
delta in the opcode's low 6 bits when it fits, else the 1/2/4-byte forms; ``DW_CFA_offset``
with the register in the opcode when the register is below 64 and the factored offset is
non-negative, else ``DW_CFA_offset_extended`` / ``DW_CFA_offset_extended_sf``; likewise
``DW_CFA_restore``. Offsets in the model are bytes; here they are divided by the CIE's data
alignment factor, which must divide them exactly.
"""

from __future__ import annotations

from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.util.records import record


class EncodeError(ValueError):
    """A CFI value that has no encoding (e.g. an offset not a multiple of the alignment)."""


_ONE_BYTE = tuple(bytes((b,)) for b in range(256))  # the common case: one byte, no loop


def uleb128(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if value < 0:
        raise EncodeError(f"uleb128 of negative value {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb128(value: int) -> bytes:
    if -0x40 <= value < 0x40:
        return _ONE_BYTE[value & 0x7F]
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def fixed(value: int, size: int, signed: bool, byteorder: str) -> bytes:
    try:
        return value.to_bytes(size, byteorder, signed=signed)
    except OverflowError:
        kind = "signed" if signed else "unsigned"
        raise EncodeError(f"{value} does not fit a {size}-byte {kind} field") from None


@record(frozen=True)
class CfiEncoding:
    """What a CIE fixes for the instructions of its FDEs."""

    code_align: int  # 4 on PowerPC
    data_align: int  # -4 (ppc32) or -8 (ppc64)
    wordsize: int  # 4 or 8, for DW_OP_addr
    byteorder: str  # "big" | "little"

    @classmethod
    def for_target(cls, target) -> "CfiEncoding":
        return cls(4, -target.wordsize, target.wordsize, target.byteorder)


def encode_operand(shape: str, value: int, enc: CfiEncoding) -> bytes:
    if shape == "uleb":
        return uleb128(value)
    if shape == "sleb":
        return sleb128(value)
    if shape == "addr":
        return fixed(value, enc.wordsize, False, enc.byteorder)
    signed, size = shape[0] == "s", int(shape[1:])
    return fixed(value, size, signed, enc.byteorder)


# (opcode, operands, word size, byte order) -> bytes: the signal frames' ~300 expressions
# are made of a few dozen distinct operations, so each is encoded once per process
_op_bytes: dict[tuple, bytes] = {}


def encode_expr(expr: M.Expr, enc: CfiEncoding) -> bytes:
    layout = (enc.wordsize, enc.byteorder)
    parts = []
    for op in expr:
        key = (op.opcode, op.operands, *layout)
        encoded = _op_bytes.get(key)
        if encoded is None:
            encoded = _op_bytes[key] = encode_op(op, enc)
        parts.append(encoded)
    return b"".join(parts)


def encode_op(op: M.Op, enc: CfiEncoding) -> bytes:
    """The bytes of one DWARF expression operation."""
    shapes = D.op_operands(op.opcode)
    if len(shapes) != len(op.operands):
        raise EncodeError(f"DW_OP_{D.op_name(op.opcode)} takes {len(shapes)} operand(s), "
                          f"got {len(op.operands)}")
    out = bytearray([op.opcode])
    for shape, value in zip(shapes, op.operands):
        out += encode_operand(shape, value, enc)
    return bytes(out)


def _factored(offset: int, enc: CfiEncoding) -> int:
    if offset % enc.data_align:
        raise EncodeError(f"offset {offset} is not a multiple of the data alignment "
                          f"{enc.data_align}")
    return offset // enc.data_align


def _block(expr: M.Expr, enc: CfiEncoding) -> bytes:
    body = encode_expr(expr, enc)
    return uleb128(len(body)) + body


def encode_advance(delta: int, enc: CfiEncoding) -> bytes:
    if delta < 0 or delta % enc.code_align:
        raise EncodeError(f"cannot advance by {delta} bytes (code alignment {enc.code_align})")
    units = delta // enc.code_align
    if units < 0x40:
        return bytes([D.DW_CFA_advance_loc | units])
    for opcode, size in ((D.DW_CFA_advance_loc1, 1), (D.DW_CFA_advance_loc2, 2),
                         (D.DW_CFA_advance_loc4, 4)):
        if units < 1 << (8 * size):
            return bytes([opcode]) + units.to_bytes(size, enc.byteorder)
    raise EncodeError(f"advance of {delta} bytes does not fit DW_CFA_advance_loc4")


def encode_instr(instr: M.Instr, enc: CfiEncoding) -> bytes:
    """The bytes of one CFA instruction."""
    match instr:  # the signal frames' escapes and expressions are most of a vDSO's CFI: first
        case M.Escape(data):
            return bytes(data)
        case M.Expression(reg, expr):
            return bytes([D.DW_CFA_expression]) + uleb128(reg) + _block(expr, enc)
        case M.AdvanceLoc(delta):
            return encode_advance(delta, enc)
        case M.SetLoc(address):
            return bytes([D.DW_CFA_set_loc]) + fixed(address, enc.wordsize, False, enc.byteorder)
        case M.DefCfa(reg, offset):
            if offset < 0:
                return bytes([D.DW_CFA_def_cfa_sf]) + uleb128(reg) + sleb128(_factored(offset, enc))
            return bytes([D.DW_CFA_def_cfa]) + uleb128(reg) + uleb128(offset)
        case M.DefCfaRegister(reg):
            return bytes([D.DW_CFA_def_cfa_register]) + uleb128(reg)
        case M.DefCfaOffset(offset):
            if offset < 0:
                return bytes([D.DW_CFA_def_cfa_offset_sf]) + sleb128(_factored(offset, enc))
            return bytes([D.DW_CFA_def_cfa_offset]) + uleb128(offset)
        case M.DefCfaExpression(expr):
            return bytes([D.DW_CFA_def_cfa_expression]) + _block(expr, enc)
        case M.Offset(reg, offset):
            f = _factored(offset, enc)
            if f < 0:
                return bytes([D.DW_CFA_offset_extended_sf]) + uleb128(reg) + sleb128(f)
            if reg < 64:
                return bytes([D.DW_CFA_offset | reg]) + uleb128(f)
            return bytes([D.DW_CFA_offset_extended]) + uleb128(reg) + uleb128(f)
        case M.ValOffset(reg, offset):
            f = _factored(offset, enc)
            if f < 0:
                return bytes([D.DW_CFA_val_offset_sf]) + uleb128(reg) + sleb128(f)
            return bytes([D.DW_CFA_val_offset]) + uleb128(reg) + uleb128(f)
        case M.Register(reg, reg2):
            return bytes([D.DW_CFA_register]) + uleb128(reg) + uleb128(reg2)
        case M.Restore(reg):
            if reg < 64:
                return bytes([D.DW_CFA_restore | reg])
            return bytes([D.DW_CFA_restore_extended]) + uleb128(reg)
        case M.Undefined(reg):
            return bytes([D.DW_CFA_undefined]) + uleb128(reg)
        case M.SameValue(reg):
            return bytes([D.DW_CFA_same_value]) + uleb128(reg)
        case M.ValExpression(reg, expr):
            return bytes([D.DW_CFA_val_expression]) + uleb128(reg) + _block(expr, enc)
        case M.RememberState():
            return bytes([D.DW_CFA_remember_state])
        case M.RestoreState():
            return bytes([D.DW_CFA_restore_state])
        case M.GnuArgsSize(size):
            return bytes([D.DW_CFA_GNU_args_size]) + uleb128(size)
        case M.Nop():
            return bytes([D.DW_CFA_nop])
    raise EncodeError(f"not a CFA instruction: {instr!r}")


def encode_program(instrs, enc: CfiEncoding) -> bytes:
    """Concatenated bytes of a sequence of instructions (no padding)."""
    return b"".join(encode_instr(i, enc) for i in instrs)
