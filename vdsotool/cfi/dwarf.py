"""DWARF constants for call-frame information: opcodes, operand shapes, pointer encodings.

Numbers from the DWARF 4 standard (§7.7.1 operations, §7.23 call frame instructions) and the
LSB ``.eh_frame`` pointer encodings. One table per concept, consumed by the encoder, the
decoder and the printer alike.
"""

from __future__ import annotations

# --- Call frame instructions (high 2 bits "primary" opcodes, then the extended ones) ------
DW_CFA_advance_loc = 0x40
DW_CFA_offset = 0x80
DW_CFA_restore = 0xC0

DW_CFA_nop = 0x00
DW_CFA_set_loc = 0x01
DW_CFA_advance_loc1 = 0x02
DW_CFA_advance_loc2 = 0x03
DW_CFA_advance_loc4 = 0x04
DW_CFA_offset_extended = 0x05
DW_CFA_restore_extended = 0x06
DW_CFA_undefined = 0x07
DW_CFA_same_value = 0x08
DW_CFA_register = 0x09
DW_CFA_remember_state = 0x0A
DW_CFA_restore_state = 0x0B
DW_CFA_def_cfa = 0x0C
DW_CFA_def_cfa_register = 0x0D
DW_CFA_def_cfa_offset = 0x0E
DW_CFA_def_cfa_expression = 0x0F
DW_CFA_expression = 0x10
DW_CFA_offset_extended_sf = 0x11
DW_CFA_def_cfa_sf = 0x12
DW_CFA_def_cfa_offset_sf = 0x13
DW_CFA_val_offset = 0x14
DW_CFA_val_offset_sf = 0x15
DW_CFA_val_expression = 0x16
DW_CFA_GNU_args_size = 0x2E
DW_CFA_GNU_negative_offset_extended = 0x2F

# --- DWARF expression operations --------------------------------------------------------
DW_OP_addr = 0x03
DW_OP_deref = 0x06
DW_OP_const1u = 0x08
DW_OP_const1s = 0x09
DW_OP_const2u = 0x0A
DW_OP_const2s = 0x0B
DW_OP_const4u = 0x0C
DW_OP_const4s = 0x0D
DW_OP_const8u = 0x0E
DW_OP_const8s = 0x0F
DW_OP_constu = 0x10
DW_OP_consts = 0x11
DW_OP_dup = 0x12
DW_OP_drop = 0x13
DW_OP_over = 0x14
DW_OP_pick = 0x15
DW_OP_swap = 0x16
DW_OP_rot = 0x17
DW_OP_xderef = 0x18
DW_OP_abs = 0x19
DW_OP_and = 0x1A
DW_OP_div = 0x1B
DW_OP_minus = 0x1C
DW_OP_mod = 0x1D
DW_OP_mul = 0x1E
DW_OP_neg = 0x1F
DW_OP_not = 0x20
DW_OP_or = 0x21
DW_OP_plus = 0x22
DW_OP_plus_uconst = 0x23
DW_OP_shl = 0x24
DW_OP_shr = 0x25
DW_OP_shra = 0x26
DW_OP_xor = 0x27
DW_OP_bra = 0x28
DW_OP_eq = 0x29
DW_OP_ge = 0x2A
DW_OP_gt = 0x2B
DW_OP_le = 0x2C
DW_OP_lt = 0x2D
DW_OP_ne = 0x2E
DW_OP_skip = 0x2F
DW_OP_lit0 = 0x30  # .. DW_OP_lit31 = 0x4F
DW_OP_reg0 = 0x50  # .. DW_OP_reg31 = 0x6F
DW_OP_breg0 = 0x70  # .. DW_OP_breg31 = 0x8F
DW_OP_regx = 0x90
DW_OP_fbreg = 0x91
DW_OP_bregx = 0x92
DW_OP_piece = 0x93
DW_OP_deref_size = 0x94
DW_OP_xderef_size = 0x95
DW_OP_nop = 0x96
DW_OP_call_frame_cfa = 0x9C
DW_OP_stack_value = 0x9F

# Operand shapes: "u1" "s1" "u2" "s2" "u4" "s4" "u8" "s8" "uleb" "sleb" "addr" (target word).
OP_OPERANDS: dict[int, tuple[str, ...]] = {
    DW_OP_addr: ("addr",),
    DW_OP_const1u: ("u1",), DW_OP_const1s: ("s1",),
    DW_OP_const2u: ("u2",), DW_OP_const2s: ("s2",),
    DW_OP_const4u: ("u4",), DW_OP_const4s: ("s4",),
    DW_OP_const8u: ("u8",), DW_OP_const8s: ("s8",),
    DW_OP_constu: ("uleb",), DW_OP_consts: ("sleb",),
    DW_OP_pick: ("u1",),
    DW_OP_plus_uconst: ("uleb",),
    DW_OP_bra: ("s2",), DW_OP_skip: ("s2",),
    DW_OP_regx: ("uleb",), DW_OP_fbreg: ("sleb",), DW_OP_bregx: ("uleb", "sleb"),
    DW_OP_piece: ("uleb",), DW_OP_deref_size: ("u1",), DW_OP_xderef_size: ("u1",),
}
for _n in range(32):
    OP_OPERANDS[DW_OP_breg0 + _n] = ("sleb",)

_OP_NAMES = {
    v: k[len("DW_OP_"):] for k, v in dict(globals()).items()
    if k.startswith("DW_OP_") and isinstance(v, int)
}


def op_operands(opcode: int) -> tuple[str, ...]:
    return OP_OPERANDS.get(opcode, ())


def op_name(opcode: int) -> str:
    """``breg1``, ``lit5``, ``plus_uconst`` …: the DWARF name without the ``DW_OP_`` prefix."""
    if DW_OP_lit0 <= opcode <= DW_OP_lit0 + 31:
        return f"lit{opcode - DW_OP_lit0}"
    if DW_OP_reg0 <= opcode <= DW_OP_reg0 + 31:
        return f"reg{opcode - DW_OP_reg0}"
    if DW_OP_breg0 <= opcode <= DW_OP_breg0 + 31:
        return f"breg{opcode - DW_OP_breg0}"
    return _OP_NAMES.get(opcode, f"op{opcode:#04x}")


def is_known_op(opcode: int) -> bool:
    return (opcode in _OP_NAMES or DW_OP_lit0 <= opcode <= DW_OP_breg0 + 31)


# --- .eh_frame pointer encodings (DW_EH_PE_*) -------------------------------------------
DW_EH_PE_absptr = 0x00
DW_EH_PE_uleb128 = 0x01
DW_EH_PE_udata2 = 0x02
DW_EH_PE_udata4 = 0x03
DW_EH_PE_udata8 = 0x04
DW_EH_PE_sleb128 = 0x09
DW_EH_PE_sdata2 = 0x0A
DW_EH_PE_sdata4 = 0x0B
DW_EH_PE_sdata8 = 0x0C
DW_EH_PE_pcrel = 0x10
DW_EH_PE_datarel = 0x30
DW_EH_PE_omit = 0xFF
