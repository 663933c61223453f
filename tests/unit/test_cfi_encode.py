"""The CFI encoder against byte sequences worked out by hand from the DWARF standard and the
kernel's hand-written vDSO CFI (reference §11.7)."""

import pytest

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.cfi.encode import (CfiEncoding, EncodeError, encode_expr, encode_instr, sleb128,
                                 uleb128)

E32 = CfiEncoding.for_target(PPC32)
E64 = CfiEncoding.for_target(PPC64)
ELE = CfiEncoding.for_target(PPC64LE)


@pytest.mark.parametrize("value,expected", [(0, "00"), (127, "7f"), (128, "8001"),
                                            (624485, "e58e26")])
def test_uleb128(value, expected):
    assert uleb128(value).hex() == expected


@pytest.mark.parametrize("value,expected", [(0, "00"), (-1, "7f"), (63, "3f"), (64, "c000"),
                                            (-64, "40"), (-65, "bf7f"), (92, "dc00"),
                                            (256, "8002"), (352, "e002")])
def test_sleb128(value, expected):
    assert sleb128(value).hex() == expected


def test_uleb128_refuses_negative():
    with pytest.raises(EncodeError):
        uleb128(-1)


def breg1(ofs):
    return M.Op(D.DW_OP_breg0 + 1, (ofs,))


def test_sigreturn32_cfa_expression_matches_kernel_bytes():
    expr = (breg1(92), M.Op(D.DW_OP_deref), M.Op(D.DW_OP_plus_uconst, (4,)), M.Op(D.DW_OP_deref))
    assert encode_instr(M.DefCfaExpression(expr), E32).hex() == "0f0771dc0006230406"


def test_rsave_with_and_without_offset():
    assert encode_instr(M.Expression(0, (breg1(92), M.Op(D.DW_OP_deref))), E32).hex() == \
        "10000471dc0006"
    expr = (breg1(92), M.Op(D.DW_OP_deref), M.Op(D.DW_OP_plus_uconst, (8,)))
    assert encode_instr(M.Expression(2, expr), E32).hex() == "10020671dc00062308"


@pytest.mark.parametrize("delta,expected", [(4, "41"), (252, "7f"), (256, "0240"),
                                            (1024, "030100"), (4 << 16, "0400010000")])
def test_advance_loc_picks_smallest_form(delta, expected):
    assert encode_instr(M.AdvanceLoc(delta), E32).hex() == expected


def test_advance_loc_is_endian_aware():
    assert encode_instr(M.AdvanceLoc(1024), ELE).hex() == "030001"


def test_offset_forms():
    assert encode_instr(M.Offset(31, -8), E64).hex() == "9f01"       # DW_CFA_offset r31, 1*-8
    assert encode_instr(M.Offset(65, 16), E64).hex() == "1141" + "7e"  # offset_extended_sf lr
    assert encode_instr(M.Offset(65, -16), E64).hex() == "054102"     # offset_extended
    with pytest.raises(EncodeError):
        encode_instr(M.Offset(3, -6), E64)


def test_def_cfa_and_register_rules():
    assert encode_instr(M.DefCfa(1, 0), E32).hex() == "0c0100"
    assert encode_instr(M.DefCfaOffset(128), E64).hex() == "0e8001"
    assert encode_instr(M.Register(65, 0), E32).hex() == "094100"
    assert encode_instr(M.Restore(65), E32).hex() == "0641"
    assert encode_instr(M.Restore(31), E32).hex() == "df"


def test_expression_operand_count_checked():
    with pytest.raises(EncodeError):
        encode_expr((M.Op(D.DW_OP_plus_uconst),), E32)


def test_addr_and_fixed_operands_follow_target():
    assert encode_expr((M.Op(D.DW_OP_addr, (0x10,)),), E32).hex() == "0300000010"
    assert encode_expr((M.Op(D.DW_OP_const2u, (524,)),), ELE).hex() == "0a0c02"
    assert encode_expr((M.Op(D.DW_OP_skip, (-2,)),), E64).hex() == "2ffffe"
