"""Symbol resolution and relocation on hand-built objects: values and instruction fields
match the PowerPC encodings (checked against capstone's decoding of the patched branch),
and every linker error is reported with its source line."""

from __future__ import annotations

import pytest

from vdsotool.abi.targets import PPC32, PPC64LE
from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.link.resolve import apply_relocations
from vdsotool.objfile import ObjectFile, Relocation, Section, Symbol

NOP = bytes.fromhex("60000000")
BL = bytes.fromhex("48000001")  # bl with a zero displacement, to be relocated


def obj(path, text: bytes, symbols=(), relocs=(), target=PPC32):
    o = ObjectFile(path, target)
    o.sections[".text"] = Section(".text", "ax", data=bytearray(text),
                                  relocations=list(relocs))
    for s in symbols:
        o.symbols[s.name] = s
    return o


def loc(path, line):
    return SourceLoc(path, line, 0)


def test_branch_between_objects_is_pc_relative():
    caller = obj("a.S", NOP + BL, relocs=[Relocation(4, "rel24", "callee", 0, loc("a.S", 2))])
    callee = obj("b.S", NOP * 2, symbols=[Symbol("callee", ".text", 4, binding="global")])
    out = apply_relocations([caller, callee], {(0, ".text"): 0x400, (1, ".text"): 0x500},
                            PPC32.elf)
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_PPC, capstone.CS_MODE_32 | capstone.CS_MODE_BIG_ENDIAN)
    (insn,) = md.disasm(out[(0, ".text")][4:8], 0x404)
    assert insn.mnemonic == "bl" and int(insn.op_str, 16) == 0x504


def test_little_endian_ha_lo_pair_against_absolute_symbol():
    text = bytes.fromhex("0000603c") + bytes.fromhex("00006338")  # lis r3,0; addi r3,r3,0 (LE)
    o = obj("c.S", text, target=PPC64LE,
            symbols=[Symbol("K", None, 0x12348765, binding="local")],
            relocs=[Relocation(0, "addr16_ha", "K"), Relocation(4, "addr16_lo", "K")])
    data = apply_relocations([o], {(0, ".text"): 0}, PPC64LE.elf)[(0, ".text")]
    hi = int.from_bytes(data[0:2], "little")
    lo = int.from_bytes(data[4:6], "little")
    # lis/addi rebuild the constant with a sign-extended low half
    assert (hi << 16) + (lo - 0x10000 if lo & 0x8000 else lo) == 0x12348765
    assert data[2:4] == text[2:4] and data[6:8] == text[6:8]


def test_local_symbol_wins_over_global_of_other_object():
    a = obj("a.S", BL, symbols=[Symbol("f", ".text", 0, binding="local")],
            relocs=[Relocation(0, "rel24", "f")])
    b = obj("b.S", NOP, symbols=[Symbol("f", ".text", 0, binding="global")])
    out = apply_relocations([a, b], {(0, ".text"): 0, (1, ".text"): 0x100}, PPC32.elf)
    assert out[(0, ".text")] == bytes.fromhex("48000001")  # branch to itself: offset 0


def errors_of(objects, addresses):
    with pytest.raises(VdsoError) as err:
        apply_relocations(objects, addresses, PPC32.elf)
    return [d.render() for d in err.value.diagnostics]


def test_undefined_symbol():
    a = obj("a.S", BL, relocs=[Relocation(0, "rel24", "missing", 0, loc("a.S", 7))])
    (msg,) = errors_of([a], {(0, ".text"): 0})
    assert msg == "a.S:7: error: undefined symbol 'missing' referenced from .text+0x0"


def test_duplicate_definition():
    a = obj("a.S", NOP, symbols=[Symbol("f", ".text", 0, binding="global", loc=loc("a.S", 3))])
    b = obj("b.S", NOP, symbols=[Symbol("f", ".text", 0, binding="global", loc=loc("b.S", 9))])
    (msg,) = errors_of([a, b], {(0, ".text"): 0, (1, ".text"): 4})
    assert msg == "b.S:9: error: duplicate definition of 'f' (first defined at a.S:3)"


def test_absolute_reference_to_code_needs_dynamic_reloc():
    a = obj("a.S", NOP * 2, symbols=[Symbol("f", ".text", 0, binding="global")],
            relocs=[Relocation(4, "addr32", "f", 0, loc("a.S", 5))])
    (msg,) = errors_of([a], {(0, ".text"): 0})
    assert msg.startswith("a.S:5: error: absolute reference (addr32) to 'f' at .text+0x4 "
                          "needs a dynamic relocation")


def test_branch_out_of_range():
    a = obj("a.S", bytes.fromhex("40820000"), relocs=[Relocation(0, "rel14", "far")])
    b = obj("b.S", NOP, symbols=[Symbol("far", ".text", 0, binding="global")])
    (msg,) = errors_of([a, b], {(0, ".text"): 0, (1, ".text"): 0x10000})
    assert "branch out of range" in msg and "'far'" in msg


def test_all_errors_collected():
    a = obj("a.S", BL * 3, symbols=[Symbol("g", ".text", 0, binding="global")],
            relocs=[Relocation(0, "rel24", "u1"), Relocation(4, "rel24", "u2"),
                    Relocation(8, "addr32", "g")])
    msgs = errors_of([a], {(0, ".text"): 0})
    assert len(msgs) == 3 and "'u1'" in msgs[0] and "'u2'" in msgs[1] and "'g'" in msgs[2]
