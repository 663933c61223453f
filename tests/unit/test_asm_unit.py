"""Unit tests of the assembler front-end: expressions, directives, CFI frames, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_golden, run_vdsotool

from vdsotool.abi import dwarf_regs
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.assemble import assemble
from vdsotool.cfi import model as cfi
from vdsotool.errors import VdsoError


def data(text: str, target=PPC64, section=".text") -> bytes:
    return bytes(assemble(text, "t.S", target).sections[section].data)


def errors(text: str, target=PPC64) -> list:
    with pytest.raises(VdsoError) as exc:
        assemble(text, "t.S", target)
    return exc.value.diagnostics


@pytest.mark.parametrize("expr,value", [
    ("10", 10), ("0x1F", 31), ("0b101", 5), ("017", 15), ("'A'", 65), ("'\\n'", 10),
    ("1+2*3", 7), ("(1+2)*3", 9), ("7/2", 3), ("7%3", 1), ("1<<4", 16), ("256>>4", 16),
    ("6&3", 2), ("6|1", 7), ("6^3", 5), ("~0&0xff", 255), ("!0", 1), ("-(3)", -3 & 0xFFFFFFFF),
    ("3==3", 0xFFFFFFFF), ("3<2", 0), ("1&&0", 0), ("1||0", 1), ("4*7+2", 30), ("4*cr7+eq", 30),
    ("cr0*4+so", 3), ("0x12345678@ha", 0x1234), ("0x1234ffff@ha", 0x1235), ("0x12345678@l", 0x5678),
    ("0x12345678@h", 0x1234),
])
def test_expression_forms(expr, value):
    assert data(f".long {expr}") == value.to_bytes(4, "big")


def test_label_difference_and_dot():
    out = data("a: nop\nnop\nb: .long b-a, .-a")
    assert out[8:] == (8).to_bytes(4, "big") + (12).to_bytes(4, "big")


def test_numeric_local_labels_backward_and_forward():
    out = data("1: nop\n b 1b\n b 1f\n1: nop")
    assert out[4:8] == (0x4BFFFFFC).to_bytes(4, "big")
    assert out[8:12] == (0x48000004).to_bytes(4, "big")


def test_little_endian_words():
    assert data(".long 0x11223344\n nop", PPC64LE)[:8] == bytes.fromhex("4433221100000060")


def test_set_equ_and_assignment():
    assert data(".set A, 2\n.equ B, A+1\nC = B*2\n.byte A,B,C") == bytes([2, 3, 6])


def test_align_pads_code_with_nops_and_data_with_zeros():
    assert data(".byte 1\n.balign 8") == b"\x01\0\0\0" + bytes.fromhex("60000000")
    obj = assemble(".section .rodata,\"a\"\n.byte 1\n.p2align 2\n.align 3", "t.S", PPC32)
    assert bytes(obj.sections[".rodata"].data) == b"\x01" + bytes(7)
    assert obj.sections[".rodata"].align == 8


def test_uleb_sleb_strings_fill():
    assert data(".uleb128 624485\n.sleb128 -123456") == bytes.fromhex("e58e26c0bb78")
    assert data('.ascii "a\\tb"\n.asciz "\\x41"\n.string "\\101"') == b"a\tbA\0A\0"
    assert data(".fill 2,2,0x1234") == bytes.fromhex("12341234")


def test_macro_named_default_arguments():
    src = ".macro M a, b=5\n.byte \\a, \\b\n.endm\nM 1\nM 2, 3\nM b=9, a=8"
    assert data(src) == bytes([1, 5, 2, 3, 8, 9])


def test_rept_irp_and_conditionals():
    src = (".rept 2\n.byte 7\n.endr\n.irp x,1,2\n.byte \\x\n.endr\n"
           ".if 0\n.byte 1\n.elseif 1\n.byte 2\n.else\n.byte 3\n.endif\n"
           ".ifdef NOPE\n.byte 4\n.endif\n.ifndef NOPE\n.byte 5\n.endif")
    assert data(src) == bytes([7, 7, 1, 2, 2, 5])


def test_defines_are_defsym():
    obj = assemble(".ifdef X\n.byte X\n.endif", "t.S", PPC32, defines={"X": 9})
    assert bytes(obj.sections[".text"].data) == b"\x09"


def test_virtual_include():
    obj = assemble('.include "v.inc"\n.byte V', "t.S", PPC32, virtual_includes={"v.inc": ".set V, 4"})
    assert bytes(obj.sections[".text"].data) == b"\x04"
    assert obj.inputs == []  # generated in memory: no file to depend on


def test_the_object_lists_every_file_read_once(tmp_path):
    """What a make depfile needs: the source and every .include opened (from the source's
    directory or an include directory), in order, each once; files only looked for and
    in-memory includes are not inputs."""
    from vdsotool.assemble import assemble_file

    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "a.inc").write_text('.include "b.inc"\n.byte 1\n')
    (tmp_path / "inc" / "b.inc").write_text(".byte 2\n")
    src = tmp_path / "s.S"
    src.write_text('.include "a.inc"\n.include "b.inc"\n.include "v.inc"\n')
    obj = assemble_file(src, PPC32, include_dirs=[tmp_path / "inc"],
                        virtual_includes={"v.inc": ".byte 3"})
    assert bytes(obj.sections[".text"].data) == b"\x02\x01\x02\x03"
    assert obj.inputs == [str(src), str(tmp_path / "inc" / "a.inc"), str(tmp_path / "inc" / "b.inc")]


def test_sections_push_pop_previous_and_symbols():
    src = (".globl f\n.hidden f\n.type f,@function\nf: nop\n.size f,.-f\n"
           '.pushsection .note,"a",@note\n.long 1\n.popsection\n.data\n.byte 1\n.previous\nnop')
    obj = assemble(src, "t.S", PPC64)
    assert bytes(obj.sections[".text"].data) == bytes.fromhex("6000000060000000")
    assert obj.sections[".note"].type == "note"
    f = obj.symbols["f"]
    assert (f.binding, f.visibility, f.type, f.size, f.section) == ("global", "hidden", "func", 4, ".text")


def test_relocations_for_external_symbols():
    obj = assemble(".long ext+4\nbl ext\nlis r3,ext@ha", "t.S", PPC32)
    rels = [(r.offset, r.kind, r.symbol, r.addend) for r in obj.sections[".text"].relocations]
    assert rels == [(0, "addr32", "ext", 4), (4, "rel24", "ext", 0), (10, "addr16_ha", "ext", 0)]


def test_branch_hints_use_power4_at_bits():
    out = data("1: beq+ 1b\nbeq- 1b\nbdnz+ 1b\nbdnz- 1b")
    bos = [(int.from_bytes(out[i:i + 4], "big") >> 21) & 31 for i in range(0, 16, 4)]
    assert bos == [15, 14, 25, 24]


def test_cfi_frame_description():
    src = (".cfi_startproc\nmflr r0\n.cfi_register lr, r0\nstwu r1,-16(r1)\n.cfi_def_cfa_offset 16\n"
           ".cfi_offset %r31, -4\n.cfi_remember_state\n.cfi_adjust_cfa_offset 16\n.cfi_restore_state\n"
           ".cfi_escape 0x10, 0x4f\nblr\n.cfi_endproc")
    (frame,) = assemble(src, "t.S", PPC32).frames
    assert (frame.start, frame.end, frame.simple) == (0, 12, False)
    assert [(off, instr) for off, instr, _ in frame.instructions] == [
        (4, cfi.Register(dwarf_regs.LR, 0)), (8, cfi.DefCfaOffset(16)), (8, cfi.Offset(31, -4)),
        (8, cfi.RememberState()), (8, cfi.DefCfaOffset(32)), (8, cfi.RestoreState()),
        (8, cfi.Escape(bytes([0x10, 0x4F]))),
    ]
    # each carries its directive's location
    assert [loc.line for _, _, loc in frame.instructions] == [3, 5, 6, 7, 8, 9, 10]

@pytest.mark.parametrize("operands,expected", [
    ("0x10, 0x4f", [0x10, 0x4F]),          # the generated signal-frame form (read directly)
    (" 0x0F,0XAB\t", [0x0F, 0xAB]),
    ("0x1, 0x4f", [0x01, 0x4F]),           # one digit: the expression evaluator
    ("16, 0x4f", [16, 0x4F]),              # anything else: the expression evaluator
    ("0x10, N+1, 010", [0x10, 6, 8]),      # 010: octal, as GNU as reads it
])
def test_cfi_escape_bytes_are_read_alike_on_both_routes(operands, expected):
    src = f"N = 5\n.cfi_startproc\n.cfi_escape {operands}\nnop\n.cfi_endproc"
    (frame,) = assemble(src, "t.S", PPC32).frames
    assert [i[:2] for i in frame.instructions] == [(0, cfi.Escape(bytes(expected)))]


@pytest.mark.parametrize("operands", ["0x100", "0x10, 0x100", "-1", "0x10,"])
def test_cfi_escape_refuses_what_is_not_a_byte(operands):
    with pytest.raises(VdsoError):
        assemble(f".cfi_startproc\n.cfi_escape {operands}\nnop\n.cfi_endproc", "t.S", PPC32)



def test_cfi_signal_frame_simple_return_column():
    (frame,) = assemble(".cfi_startproc simple\n.cfi_signal_frame\n.cfi_return_column ap\nnop\n.cfi_endproc",
                        "t.S", PPC64).frames
    assert frame.simple and frame.signal_frame and frame.return_column == dwarf_regs.AP


@pytest.mark.parametrize("src,message,line", [
    ("lii r3,1", "unknown or unsupported instruction", 1),
    ("nop\nli r3", "takes 2 operands", 2),
    ("li r3,(1", "missing ')'", 1),
    (".cfi_endproc", "without .cfi_startproc", 1),
    (".cfi_startproc\n.cfi_startproc\n.cfi_endproc", "nested", 2),
    (".cfi_startproc\nnop", "unterminated", 1),
    (".cfi_startproc\n.cfi_personality 0,foo\n.cfi_endproc", "not supported", 2),
    ('.include "nope.inc"', "not found", 1),
    (".if 1\nnop", "missing .endif", 1),
    (".endif", "without a matching", 1),
    (".bogus 1", "unknown directive", 1),
    ('.error "custom stop"', "custom stop", 1),
    ("b 0x100", "absolute number", 1),
    ("addi r3,r3,0x12345", "out of range", 1),
    ("1: .long 1/0", "division by zero", 1),
    (".rept 10000000\nnop\n.endr", "is more than", 1),
    (".macro m\nm\n.endm\nm", "nested more than", 2),
    (".byte 1\nnop", "not a multiple of 4", 2),
])
def test_malformed_input_is_a_located_diagnostic(src, message, line):
    diags = errors(src)
    assert any(message in d.message for d in diags), [d.message for d in diags]
    assert any(d.loc is not None and d.loc.line == line for d in diags if message in d.message)


def test_all_errors_collected():
    assert len(errors("lii r1\nnop\nlij r2")) == 2


def test_cli_listing_golden():
    root = Path(__file__).resolve().parents[2]
    result = run_vdsotool(["asm", "tests/asm_corpus/forms.S", "--bits", "64", "--endian", "little"],
                          cwd=root)
    assert result.returncode == 0, result.stderr
    check_golden("asm/forms-ppc64le.lst", result.stdout)








def test_pc_relative_data_across_sections():
    obj = assemble(".globl g\ng: nop\n.section .rodata,\"a\"\n.long 0\n.long ext - .\n.long g - . + 8\n.long l - .\n"
                   ".text\nl: nop", "t.S", PPC32)
    rels = [(r.offset, r.kind, r.symbol, r.addend) for r in obj.sections[".rodata"].relocations]
    assert rels == [(4, "rel32", "ext", 0), (8, "rel32", "g", 8), (12, "rel32", ".text", 4)]


def test_identical_instructions_hit_keystone_once(monkeypatch):
    from vdsotool.assemble import keystone_backend

    calls = []
    real = keystone_backend._encode_uncached
    monkeypatch.setattr(keystone_backend, "_cache", {})
    monkeypatch.setattr(keystone_backend, "_encode_uncached", lambda t, text: calls.append(text) or real(t, text))
    out = data("lwz r3,8(r4)\nlwz r3,8(r4)\nlwz %r3, 0x8(4)")
    assert out == bytes.fromhex("80640008") * 3
    assert calls == ["lwz 0x3, 0x8(0x4)"]


@pytest.mark.parametrize("target,factor", [(PPC64, 8), (PPC32, 4)])
@pytest.mark.parametrize("offset", [3, -3])
def test_cfi_offset_that_cannot_be_encoded_is_an_error_at_its_line(target, factor, offset):
    """GNU as: 'register save offset not a multiple of 8' at the line; never the linker's
    internal error."""
    (err,) = errors(f".cfi_startproc\nnop\n.cfi_offset r31, {offset}\nblr\n.cfi_endproc\n", target)
    assert err.loc.line == 3 and f"not a multiple of the data alignment -{factor}" in err.message


def test_cfi_steps_advance_in_whole_instructions_as_gnu_as_does():
    """A CFI directive after a partial instruction takes effect at the instruction
    boundary below it, each distance from the previous directive rounded down."""
    src = (".cfi_startproc\n.byte 1\n.cfi_def_cfa_offset 16\n.byte 1,2,3\n.cfi_def_cfa_offset 32\n"
           ".byte 0,0,0,0,0\n.cfi_def_cfa_offset 48\n.cfi_endproc\n")
    (frame,) = assemble(src, "t.S", PPC64).frames
    assert [off for off, _, _ in frame.instructions] == [0, 0, 4]


ASSEMBLER_LAYERS = ["source", "expr", "state", "isa", "keystone_lib", "keystone_backend",
                    "cfi_directives", "directives", "instructions", "control", "assembler",
                    "includes", "listing", "cli"]


def test_the_assembler_modules_import_only_lower_layers():
    """No import cycle: each module of vdsotool/assemble/ imports (at any depth of its
    code) only modules listed before it."""
    import ast

    package = Path(__file__).resolve().parents[2] / "vdsotool" / "assemble"
    assert sorted(ASSEMBLER_LAYERS) == sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    for rank, name in enumerate(ASSEMBLER_LAYERS):
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "vdsotool.assemble":
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vdsotool.assemble."):
                imported.add(node.module.split(".")[2])
        assert imported <= set(ASSEMBLER_LAYERS[:rank]), (name, imported)


def test_the_listing_is_one_row_per_statement_however_long():
    """Issue 13 item 14: a 64 KB .byte line was listed once per value (16 s, 2 GB)."""
    from vdsotool.assemble import assemble_with_listing
    from vdsotool.assemble.listing import listing_text

    values = ",".join(["1"] * 20000)
    obj, rows = assemble_with_listing(f".byte {values}\n.byte 2\n", "t.S", PPC64)
    assert [(r.offset, len(r.data)) for r in rows] == [(0, 20000), (20000, 1)]
    assert len(listing_text(obj, rows).splitlines()) == 3


def test_non_utf8_bytes_in_a_source_are_kept_as_bytes(tmp_path):
    """Bytes that are not UTF-8 are themselves in strings and character literals (as GNU as
    reads bytes) and shown as U+FFFD under a diagnostic."""
    from vdsotool.assemble import assemble_file

    src = tmp_path / "b.S"
    src.write_bytes(b'.ascii "\xff\xc3\xa9"\n.byte \'\xfe\n.byte \'\xc3\xa9\n')
    assert bytes(assemble_file(src, PPC64).sections[".text"].data) == b"\xff\xc3\xa9\xfe\xc3"
    src.write_bytes(b"lii\xff r3\n")
    with pytest.raises(VdsoError) as info:
        assemble_file(src, PPC64)
    assert "\ufffd" in info.value.diagnostics[0].render()


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "dir"])
def test_only_regular_files_are_read(special, tmp_path):
    """A FIFO would block and /dev/zero never end (issue 13 item 17): neither is opened."""
    import os

    from vdsotool.assemble import assemble_file

    path = tmp_path / special
    if special == "fifo":
        os.mkfifo(path)
    elif special == "dir":
        path.mkdir()
    else:
        path = Path(special)
    with pytest.raises(VdsoError) as info:
        assemble_file(path, PPC64)
    assert "cannot read source" in str(info.value)
    src = tmp_path / "inc.S"
    src.write_text(f'.include "{path}"\n')
    with pytest.raises(VdsoError):
        assemble_file(src, PPC64)
