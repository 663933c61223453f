"""``.eh_frame`` bytes -> CFI model values, each with its byte offset and raw bytes.

``.eh_frame`` is a sequence of records, each ``length`` (u32; 0 ends the section) and an
``id`` (u32): 0 marks a CIE, anything else is an FDE whose id is the distance back to its
CIE. A CIE carries the augmentation string (``zR``, ``zRS``…), the code and data alignment
factors, the return-address column and the initial instructions; an FDE carries the
address range (encoded per the CIE's ``R`` augmentation, usually pc-relative sdata4) and
its own instructions. Instructions are decoded into :mod:`vdsotool.cfi.model` values with
the alignment factors applied, so offsets are plain bytes. Pointers (``DW_EH_PE_*``) are
absolute, pc-relative or data-relative; :func:`read_pointer` reads ``.eh_frame_hdr``'s
with the same code. ``vdsotool check`` walks the records with ``instructions=False``.

The input is untrusted: every read is bounds-checked against the record it belongs to and
a malformed record becomes a :class:`VdsoError` at its image offset. Expressions are kept
as op lists; ``DW_OP_skip``/``DW_OP_bra`` displacements are decoded, never followed here
(the kernel's vector-register expressions branch into another expression's bytes).
"""

from __future__ import annotations

import struct

from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.errors import ImageLoc, VdsoError
from vdsotool.util.records import field, record

MAX_RECORDS = 100_000  # more records than any image could hold: a corrupted length loop


class _Truncated(Exception):
    """Internal: a read ran past the end of its block (turned into a VdsoError)."""

    def __init__(self, at: int):
        self.at = at


class Reader:
    """Bounds-checked cursor over ``data[start:end]``; ``pos`` is an absolute offset."""

    def __init__(self, data: bytes, start: int, end: int, little: bool):
        self.data, self.pos, self.end = data, start, min(end, len(data))
        self.endian = "<" if little else ">"

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise _Truncated(self.pos)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def fixed(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        return struct.unpack(self.endian + fmt, self.take(size))[0]

    def uleb(self) -> int:
        return self._leb(signed=False)

    def sleb(self) -> int:
        return self._leb(signed=True)

    def _leb(self, signed: bool) -> int:
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value - (1 << shift) if signed and byte & 0x40 else value
            if shift > 70:  # longer than any 64-bit value: refuse rather than grow
                raise _Truncated(self.pos)

    def cstring(self) -> bytes:
        end = self.data.find(b"\0", self.pos, self.end)
        if end < 0:
            raise _Truncated(self.pos)
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out

    def operand(self, shape: str, word: int) -> int:
        if shape == "uleb":
            return self.uleb()
        if shape == "sleb":
            return self.sleb()
        if shape == "addr":
            return self.fixed("Q" if word == 8 else "I")
        size = int(shape[1:])
        fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[size]
        return self.fixed(fmt.lower() if shape[0] == "s" else fmt)


@record(frozen=True)
class DecodedOp:
    offset: int  # absolute file offset of the opcode
    raw: bytes
    op: M.Op


@record(frozen=True)
class DecodedInstr:
    offset: int  # absolute file offset of the instruction
    raw: bytes
    instr: M.Instr
    expr: tuple[DecodedOp, ...] = ()  # ops of an expression operand, with offsets


@record
class Cie:
    offset: int  # file offset of the length field
    length: int
    augmentation: str
    code_align: int
    data_align: int
    ra_reg: int
    fde_encoding: int
    signal_frame: bool
    instrs: list[DecodedInstr] = field(default_factory=list)


@record
class Fde:
    offset: int
    length: int
    cie_offset: int
    pc_begin: int
    pc_range: int
    instrs: list[DecodedInstr] = field(default_factory=list)


@record
class EhFrame:
    cies: dict[int, Cie]
    fdes: list[Fde]
    records: list[Cie | Fde]


def decode_expr(data: bytes, start: int, end: int, little: bool,
                word: int) -> tuple[DecodedOp, ...]:
    """Decode the ops in ``data[start:end]`` linearly (branches are recorded, not taken)."""
    r = Reader(data, start, end, little)
    ops = []
    while r.pos < r.end:
        ops.append(_read_op(r, word))
    return tuple(ops)


def _read_op(r: Reader, word: int) -> DecodedOp:
    at = r.pos
    opcode = r.take(1)[0]
    if not D.is_known_op(opcode):
        raise _Truncated(at)  # reported as a malformed expression at this op
    operands = tuple(r.operand(s, word) for s in D.op_operands(opcode))
    return DecodedOp(at, r.data[at:r.pos], M.Op(opcode, operands))


def decode_op_at(data: bytes, at: int, lower: int, upper: int, little: bool,
                 word: int) -> DecodedOp | None:
    """The one op at ``at``, read only from ``data[lower:upper]`` (an evaluator following a
    skip into another expression's bytes stays inside its record); None when ``at`` is out
    of bounds, the opcode unknown or an operand truncated."""
    if not lower <= at < upper:
        return None
    try:
        return _read_op(Reader(data, at, upper, little), word)
    except _Truncated:
        return None


class _Unsupported(_Truncated):
    """Internal: a pointer encoding this reader does not compute (textrel, funcrel...)."""


POINTER_FORMATS = {D.DW_EH_PE_udata2: "H", D.DW_EH_PE_udata4: "I", D.DW_EH_PE_udata8: "Q",
                   D.DW_EH_PE_sdata2: "h", D.DW_EH_PE_sdata4: "i", D.DW_EH_PE_sdata8: "q"}


def _read_pointer(r: Reader, encoding: int, word: int, section_addr: int,
                  section_off: int, data_base: int = 0) -> int:
    """Read a DW_EH_PE-encoded pointer; pc-relative values are made absolute addresses,
    data-relative ones are added to ``data_base`` (``.eh_frame_hdr``: its own address)."""
    at = r.pos
    here = section_addr + (at - section_off)
    fmt = encoding & 0x0F
    if fmt == D.DW_EH_PE_absptr:
        value = r.fixed("Q" if word == 8 else "I")
    elif fmt == D.DW_EH_PE_uleb128:
        value = r.uleb()
    elif fmt == D.DW_EH_PE_sleb128:
        value = r.sleb()
    elif fmt in POINTER_FORMATS:
        value = r.fixed(POINTER_FORMATS[fmt])
    else:
        raise _Unsupported(at)
    application = encoding & 0x70
    if application == D.DW_EH_PE_pcrel:
        value += here
    elif application == D.DW_EH_PE_datarel:
        value += data_base
    elif application:
        raise _Unsupported(at)
    return value & ((1 << (8 * word)) - 1)


def read_pointer(data: bytes, at: int, encoding: int, little: bool, word: int, vaddr: int,
                 data_base: int = 0, path: str = "<image>") -> tuple[int, int]:
    """The DW_EH_PE-encoded pointer at file offset ``at`` (mapped at ``vaddr``, for
    pc-relative values) -> (value, file offset after it); VdsoError at ``at`` when the
    encoding is not one this reader computes or the pointer runs past the end of file."""
    r = Reader(data, at, len(data), little)
    try:
        return _read_pointer(r, encoding, word, vaddr, at, data_base), r.pos
    except _Unsupported:
        raise VdsoError.at(ImageLoc(path, at),
                           f"unsupported pointer encoding {encoding:#x}") from None
    except _Truncated:
        raise VdsoError.at(ImageLoc(path, at), "truncated image: pointer runs past the end "
                           "of file") from None


def _decode_instrs(r: Reader, cie: Cie, word: int, little: bool, pc: int) -> list[DecodedInstr]:
    out = []
    while r.pos < r.end:
        at = r.pos
        instr, expr_span = _decode_one(r, cie, word, pc)
        expr = decode_expr(r.data, *expr_span, little, word) if expr_span else ()
        if isinstance(instr, (M.DefCfaExpression, M.Expression, M.ValExpression)):
            ops = tuple(d.op for d in expr)
            instr = (M.DefCfaExpression(ops) if isinstance(instr, M.DefCfaExpression)
                     else type(instr)(instr.reg, ops))
        out.append(DecodedInstr(at, r.data[at:r.pos], instr, expr))
    return out


def _decode_one(r: Reader, cie: Cie, word: int, pc: int):
    """One instruction -> (model value, (start, end) of its expression block or None)."""
    byte = r.take(1)[0]
    high, low = byte & 0xC0, byte & 0x3F
    ca, da = cie.code_align, cie.data_align
    if high == D.DW_CFA_advance_loc:
        return M.AdvanceLoc(low * ca), None
    if high == D.DW_CFA_offset:
        return M.Offset(low, r.uleb() * da), None
    if high == D.DW_CFA_restore:
        return M.Restore(low), None
    simple = {
        D.DW_CFA_nop: lambda: M.Nop(),
        D.DW_CFA_advance_loc1: lambda: M.AdvanceLoc(r.fixed("B") * ca),
        D.DW_CFA_advance_loc2: lambda: M.AdvanceLoc(r.fixed("H") * ca),
        D.DW_CFA_advance_loc4: lambda: M.AdvanceLoc(r.fixed("I") * ca),
        D.DW_CFA_offset_extended: lambda: M.Offset(r.uleb(), r.uleb() * da),
        D.DW_CFA_restore_extended: lambda: M.Restore(r.uleb()),
        D.DW_CFA_undefined: lambda: M.Undefined(r.uleb()),
        D.DW_CFA_same_value: lambda: M.SameValue(r.uleb()),
        D.DW_CFA_register: lambda: M.Register(r.uleb(), r.uleb()),
        D.DW_CFA_remember_state: lambda: M.RememberState(),
        D.DW_CFA_restore_state: lambda: M.RestoreState(),
        D.DW_CFA_def_cfa: lambda: M.DefCfa(r.uleb(), r.uleb()),
        D.DW_CFA_def_cfa_register: lambda: M.DefCfaRegister(r.uleb()),
        D.DW_CFA_def_cfa_offset: lambda: M.DefCfaOffset(r.uleb()),
        D.DW_CFA_offset_extended_sf: lambda: M.Offset(r.uleb(), r.sleb() * da),
        # def_cfa_sf is scaled by the *data* alignment factor (pyelftools gets this wrong)
        D.DW_CFA_def_cfa_sf: lambda: M.DefCfa(r.uleb(), r.sleb() * da),
        D.DW_CFA_def_cfa_offset_sf: lambda: M.DefCfaOffset(r.sleb() * da),
        D.DW_CFA_val_offset: lambda: M.ValOffset(r.uleb(), r.uleb() * da),
        D.DW_CFA_val_offset_sf: lambda: M.ValOffset(r.uleb(), r.sleb() * da),
        D.DW_CFA_GNU_args_size: lambda: M.GnuArgsSize(r.uleb()),
        D.DW_CFA_GNU_negative_offset_extended: lambda: M.Offset(r.uleb(), -r.uleb() * da),
    }
    if byte in simple:
        return simple[byte](), None
    if byte == D.DW_CFA_set_loc:
        return M.SetLoc(_read_pointer(r, cie.fde_encoding, word, 0, 0)), None
    if byte == D.DW_CFA_def_cfa_expression:
        return M.DefCfaExpression(()), _block(r)
    if byte in (D.DW_CFA_expression, D.DW_CFA_val_expression):
        reg = r.uleb()
        cls = M.Expression if byte == D.DW_CFA_expression else M.ValExpression
        return cls(reg, ()), _block(r)
    raise _Truncated(r.pos - 1)


def _block(r: Reader) -> tuple[int, int]:
    size = r.uleb()
    start = r.pos
    r.take(size)
    return start, start + size


def decode_eh_frame(data: bytes, sec_offset: int, sec_size: int, sec_addr: int,
                    little: bool, word: int, path: str = "<image>",
                    instructions: bool = True) -> EhFrame:
    """Decode the whole section. Raises VdsoError at the offset of the first bad record.
    ``instructions=False`` reads only the records' headers (CIE fields, FDE pc ranges) and
    leaves every ``instrs`` empty: ``vdsotool check`` needs no more, on every build."""
    end = min(sec_offset + sec_size, len(data))
    if sec_offset + sec_size > len(data):
        raise VdsoError.at(ImageLoc(path, sec_offset), ".eh_frame extends past the end of file")
    cies: dict[int, Cie] = {}
    fdes: list[Fde] = []
    records: list[Cie | Fde] = []
    pos = sec_offset
    while pos + 4 <= end and len(records) < MAX_RECORDS:
        try:
            rec, pos = _decode_record(data, pos, end, sec_offset, sec_addr, little, word, cies,
                                      instructions)
        except _Truncated as t:
            raise VdsoError.at(ImageLoc(path, t.at),
                               f"malformed .eh_frame record at section offset "
                               f"{pos - sec_offset:#x}") from None
        if rec is None:
            break
        records.append(rec)
        (fdes.append(rec) if isinstance(rec, Fde) else cies.__setitem__(rec.offset, rec))
    return EhFrame(cies, fdes, records)


def _decode_record(data, pos, end, sec_offset, sec_addr, little, word, cies, instructions):
    r = Reader(data, pos, end, little)
    length = r.fixed("I")
    if length == 0:
        return None, end
    if length == 0xFFFFFFFF:
        raise _Truncated(pos)  # 64-bit DWARF: never produced for .eh_frame on PowerPC
    body_end = r.pos + length
    if body_end > end:
        raise _Truncated(pos)
    r = Reader(data, r.pos, body_end, little)
    id_at = r.pos
    cie_id = r.fixed("I")
    if cie_id == 0:
        return _decode_cie(r, pos, length, word, little, instructions), body_end
    cie_off = id_at - cie_id
    cie = cies.get(cie_off)
    if cie is None:
        raise _Truncated(id_at)
    pc_begin = _read_pointer(r, cie.fde_encoding, word, sec_addr, sec_offset)
    pc_range = _read_pointer(r, cie.fde_encoding & 0x0F, word, sec_addr, sec_offset)
    if "z" in cie.augmentation:
        r.take(r.uleb())
    fde = Fde(pos, length, cie_off, pc_begin, pc_range)
    if instructions:
        fde.instrs = _decode_instrs(r, cie, word, little, pc_begin)
    return fde, body_end


def _decode_cie(r: Reader, pos: int, length: int, word: int, little: bool,
                instructions: bool) -> Cie:
    version = r.fixed("B")
    if version not in (1, 3):
        raise _Truncated(r.pos - 1)
    aug = r.cstring().decode("latin-1")
    code_align, data_align = r.uleb(), r.sleb()
    ra = r.fixed("B") if version == 1 else r.uleb()
    cie = Cie(pos, length, aug, code_align, data_align, ra, D.DW_EH_PE_absptr, False)
    if aug.startswith("z"):
        aug_end = r.uleb() + r.pos
        for ch in aug[1:]:
            if ch == "R":
                cie.fde_encoding = r.fixed("B")
            elif ch == "S":
                cie.signal_frame = True
            elif ch == "P":
                enc = r.fixed("B")
                _read_pointer(r, enc, word, 0, 0)
            elif ch == "L":
                r.fixed("B")
            else:
                break  # unknown letter: the 'z' length lets us skip the rest
        r.pos = aug_end
    elif aug:
        raise _Truncated(r.pos)  # non-'z' augmentation: the record's layout is unknown
    if instructions:
        cie.instrs = _decode_instrs(r, cie, word, little, 0)
    return cie
