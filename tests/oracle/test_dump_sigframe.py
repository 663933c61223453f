"""dump's "where the interrupted registers are" summary and signal-frame notes.

The summary is derived by evaluating each rule symbolically; these tests compare what it
says with the layout data of vdsotool/abi/sigframes.py (never with numbers typed here),
on every target's image from both builders, on kernel-style expressions that skip into
another expression's bytes, and on images whose CFI was generated from a changed layout
(the summary must follow the CFI, not the layout).
"""

from __future__ import annotations

import re

import pytest

from conftest import run_vdsotool
from vdsotool.abi import dwarf_regs as R
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.elf import load
from vdsotool.inspect.dump import PART_NAMES, build_report, render_text
from vdsotool.util import records

TARGETS = [PPC32, PPC64, PPC64LE]
BUILDERS = ["gnu", "vdsotool"]
TRAMPOLINE = {"sigreturn32": "__kernel_sigtramp32", "rt_sigreturn32": "__kernel_sigtramp_rt32",
              "rt_sigreturn64": "__kernel_sigtramp_rt64"}


def layout_places(lay: S.SigFrameLayout) -> dict[int, tuple[str, int]]:
    """DWARF column -> (block, byte offset) where the layout keeps that register."""
    places = {R.GPR0 + n: ("gregs", lay.greg(n)) for n in range(32)}
    places |= {R.FPR0 + n: ("gregs", lay.fpr(n)) for n in range(S.FPR_COUNT)}
    places |= {R.CR0 + n: ("gregs", lay.cr) for n in range(8)}
    places |= {R.VR0 + n: ("vmx", n * S.VR_SIZE) for n in range(S.VR_COUNT)}
    places |= {R.AP: ("gregs", lay.greg(S.NIP)), R.LR: ("gregs", lay.greg(S.LINK)),
               R.VRSAVE: ("vmx", lay.vrsave), R.VSCR: ("vmx", lay.vscr)}
    return places


def summaries(image) -> dict[str, dict]:
    """Trampoline symbol -> the summary of the FDE that covers it."""
    report = build_report(load(str(image)), ("cfi",))
    out = {}
    for rec in report["cfi"]["records"]:
        if rec["kind"] == "FDE" and rec["summary"]:
            out[rec["summary"]["where"]] = rec["summary"]
    return out


def assert_summary_follows(summary: dict, lay: S.SigFrameLayout) -> None:
    regs = {r["column"]: r for r in summary["registers"]}
    assert summary["layout"] == lay.name and summary["frame_pointer_at"] == lay.ptregs
    for column, (area, offset) in layout_places(lay).items():
        entry = regs[column]
        assert (entry["area"], entry["offset"]) == (area, offset), entry
        assert entry["layout_says"] is None, entry
        vector = area == "vmx"
        assert (entry["gate"] == "MSR_VEC is set in the saved MSR (gregs[33])") == vector, entry
    # CTR and XER have no rule in these images: listed as such, not invented
    assert not regs[R.CTR]["described"] and not regs[R.XER]["described"]
    lines = {line["registers"]: line for line in summary["lines"]}
    assert lines["r0-r31"]["where"] == "gregs[0..31]"
    assert lines["f0-f31"]["where"] == "fp_regs[0..31]"
    assert lines["v0-v31"]["where"].startswith("vmx.vr[0..31] (")
    assert "only when MSR_VEC is set in the saved MSR" in lines["v0-v31"]["where"]
    assert lines["cr0-cr7"]["where"].startswith(f"gregs[{S.CCR}]")
    assert lines["ctr"]["where"].startswith("not described")
    assert summary["cfa"] == "the value at gregs[1] = the saved r1"


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_summary_names_every_register_where_the_layout_keeps_it(builder, target):
    from gnu import built_image

    found = summaries(built_image(builder, target))
    layouts = S.layouts_for(target)
    assert set(found) == {TRAMPOLINE[lay.name] for lay in layouts}
    for lay in layouts:
        assert_summary_follows(found[TRAMPOLINE[lay.name]], lay)


def test_summary_is_printed_under_the_trampoline_fde():
    from gnu import built_image

    text = render_text(build_report(load(str(built_image("vdsotool", PPC64))),
                                    ("cfi",)))
    block = re.search(r"^\S+ FDE .*\(__kernel_sigtramp_rt64\)\n((?:  .*\n)+?)  [0-9a-f]{6} \|",
                      text, re.M).group(1)
    assert block.startswith("  Where the interrupted registers are (from inside "
                            "__kernel_sigtramp_rt64")
    lay = S.rt_sigreturn64(False)
    assert f"whose pointer is at r1+{lay.ptregs}" in block
    assert re.search(r"^    r0-r31 +gregs\[0\.\.31\]", block, re.M)
    assert re.search(rf"^    cr0-cr7 +gregs\[{S.CCR}\]\+{lay.cr_word} .*low 32-bit half", block,
                     re.M)
    assert re.search(r"^    v0-v31 +vmx\.vr\[0\.\.31\] .*MSR_VEC", block, re.M)
    assert "differs" not in block


# --- a changed layout: the summary must say what the CFI says ------------------------------

def corrupted_image(target, tmp_path, change):
    from test_unwind import image_from_layouts

    layouts = tuple(change(lay) for lay in S.layouts_for(target))
    image = tmp_path / f"{target.image}.so"
    image.write_bytes(image_from_layouts(target, layouts))
    return image, layouts


def test_summary_shows_a_moved_cr_word(tmp_path):
    """The CR word read from the other half of its slot (the old ppc64 kernel bug)."""
    image, (bad,) = corrupted_image(PPC64, tmp_path,
                                    lambda lay: records.replace(lay, cr_word=lay.cr_word ^ 4))
    shipped = S.rt_sigreturn64(False)
    summary = summaries(image)["__kernel_sigtramp_rt64"]
    regs = {r["column"]: r for r in summary["registers"]}
    for n in range(8):
        assert (regs[R.CR0 + n]["area"], regs[R.CR0 + n]["offset"]) == ("gregs", bad.cr)
        assert regs[R.CR0 + n]["layout_says"] == \
            f"rt_sigreturn64 has it at gregs[{S.CCR}]+{shipped.cr_word} " \
            "(cr, low 32-bit half on big-endian)"
    cr_line = next(line for line in summary["lines"] if line["registers"] == "cr0-cr7")
    assert "high 32-bit half" in cr_line["where"]
    # every other register is untouched
    for column, place in layout_places(shipped).items():
        if not R.CR0 <= column < R.CR0 + 8:
            assert (regs[column]["area"], regs[column]["offset"]) == place
    text = render_text(build_report(load(str(image)), ("cfi",)))
    assert "! differs from the layout: rt_sigreturn64 has it at gregs[38]+4" in text


def test_summary_shows_a_moved_vector_block(tmp_path):
    """ppc32's inline VMX block one 16-byte slot further: every vector rule moves."""
    def later_vmx(lay):
        return records.replace(lay, vregs=lay.vregs + S.VR_SIZE)

    image, layouts = corrupted_image(PPC32, tmp_path, later_vmx)
    found = summaries(image)
    for bad in layouts:
        shipped = next(lay for lay in S.layouts_for(PPC32) if lay.name == bad.name)
        regs = {r["column"]: r for r in found[TRAMPOLINE[bad.name]]["registers"]}
        for n in range(S.VR_COUNT):
            assert (regs[R.VR0 + n]["area"], regs[R.VR0 + n]["offset"]) == \
                ("vmx", (n + 1) * S.VR_SIZE)
            assert regs[R.VR0 + n]["layout_says"]
        assert (regs[0]["area"], regs[0]["offset"]) == ("gregs", shipped.greg(0))
        assert regs[0]["layout_says"] is None


# --- evaluation of kernel-style expressions --------------------------------------------------

def kernel_style_vector_rules() -> tuple[bytes, dict[int, tuple[int, int]]]:
    """VR0 holding the shared code, VR1 = ``lit1; skip`` back into it, VSCR = ``const2u
    vscr; skip`` to its MSR test, for 64-bit big-endian; -> bytes, column -> expr span."""
    from vdsotool.cfi.encode import sleb128 as sleb
    from vdsotool.cfi.encode import uleb128 as uleb

    lay = S.rt_sigreturn64(False)
    test = (b"\x71" + sleb(lay.ptregs) + b"\x06\x12\x23" + uleb(lay.greg(S.MSR)) + b"\x06\x0c"
            + S.MSR_VEC.to_bytes(4, "big") + b"\x1a\x12\x30\x29\x28\x7f\xff")
    tail = b"\x13\x23" + uleb(lay.vregs) + b"\x06\x22\x2f\x7f\xff"
    vr0 = b"\x30" + b"\x40\x1e" + test + tail  # lit0; [L2] lit16; mul; [L3] ...
    blob = bytes([0x10, R.VR0, len(vr0)]) + vr0
    label2, label3 = 3 + 1, 3 + 3
    spans = {R.VR0: (3, len(blob))}
    at = len(blob)
    blob += bytes([0x10, R.VR0 + 1, 4, 0x31, 0x2F]) + (label2 - (at + 7)).to_bytes(2, "big",
                                                                                      signed=True)
    spans[R.VR0 + 1] = (at + 3, at + 7)
    at = len(blob)
    blob += bytes([0x10, R.VSCR, 6, 0x0A]) + lay.vscr.to_bytes(2, "big") + b"\x2f" + \
        (label3 - (at + 9)).to_bytes(2, "big", signed=True)
    spans[R.VSCR] = (at + 3, at + 9)
    return blob, spans


def test_kernel_style_skips_into_vr0_are_followed():
    from vdsotool.inspect import sigframe_notes as N
    from vdsotool.inspect.cfi_eval import evaluate

    lay = S.rt_sigreturn64(False)
    blob, spans = kernel_style_vector_rules()
    frame = N.frame_for(lay.ptregs, 8, False)
    for column, offset in ((R.VR0, 0), (R.VR0 + 1, S.VR_SIZE), (R.VSCR, lay.vscr)):
        outcomes = evaluate(blob, *spans[column], (0, len(blob)), False, 8, push_cfa=True)
        meaning = N.meaning_of(outcomes, frame, is_value=False)
        assert (meaning.place.area, meaning.place.offset) == ("vmx", offset), column
        assert meaning.gate == "MSR_VEC is set in the saved MSR (gregs[33])"
        assert meaning.otherwise == "address 0 (not saved)"


def test_evaluation_is_bounded_and_refuses_what_it_does_not_model():
    from vdsotool.inspect.cfi_eval import Unplaceable, evaluate

    loop = b"\x2f\xff\xfd"  # skip -3: to itself
    with pytest.raises(Unplaceable, match="steps"):
        evaluate(loop, 0, 3, (0, 3), False, 8, push_cfa=True)
    outside = b"\x2f\x00\x80"  # skip backwards out of the allowed bytes
    with pytest.raises(Unplaceable, match="no DWARF operation"):
        evaluate(b"\x00" * 8 + outside, 8, 11, (8, 11), True, 8, push_cfa=True)
    derefs = b"\x71\x00" + b"\x06" * 500  # a chain of loads: refused, not recursed into
    with pytest.raises(Unplaceable, match="nested"):
        evaluate(derefs, 0, len(derefs), (0, len(derefs)), False, 8, push_cfa=False)
    with pytest.raises(Unplaceable, match="two unknown"):
        evaluate(b"\x71\x00\x72\x00\x22", 0, 5, (0, 5), False, 8, push_cfa=False)


def test_generated_rules_are_named_by_the_layout():
    """Each rule vdsotool generates (vdsotool.cfi.sigframe) names the slot it was generated
    from, on every layout; the CFA is the value at gregs[1]."""
    from vdsotool.cfi import model as M
    from vdsotool.cfi.encode import CfiEncoding, encode_expr, encode_instr
    from vdsotool.cfi.sigframe import fde_program
    from vdsotool.inspect import sigframe_notes as N
    from vdsotool.inspect.cfi_eval import evaluate

    for target in TARGETS:
        enc = CfiEncoding.for_target(target)
        word = target.bits // 8
        for lay in S.layouts_for(target):
            frame = N.frame_for(lay.ptregs, word, target.little)
            assert frame.known and frame.layout == lay
            places = layout_places(lay)
            for instr in fde_program(lay, enc):
                raw = encode_instr(instr, enc)
                start = len(raw) - len(encode_expr(instr.expr, enc))  # the block ends it
                outcomes = evaluate(raw, start, len(raw), (0, len(raw)), target.little, word,
                                    push_cfa=not isinstance(instr, M.DefCfaExpression))
                meaning = N.meaning_of(outcomes, frame,
                                       is_value=isinstance(instr, M.DefCfaExpression))
                got = (meaning.place.area, meaning.place.offset)
                if isinstance(instr, M.DefCfaExpression):
                    assert got == ("gregs", lay.greg(1))
                else:
                    assert got == places[instr.reg], (lay.name, instr.reg)



# --- kernel-style fixture, names, layout of the text --------------------------------------------

def test_kernel_style_fixture_summary_says_what_it_cannot_place(tmp_path_factory):
    """The fixture (written for 64-bit) describes only r2, v0 (unguarded, at gregs+0x400) and
    v1 (a skip whose continuation runs into the next instruction's bytes): the summary says
    exactly that, on 32-bit too, where its r1+352 matches no layout."""
    from test_dump import kstyle_build

    for target in TARGETS:
        image = kstyle_build(target, tmp_path_factory)
        (summary,) = summaries(image).values()
        regs = {r["column"]: r for r in summary["registers"]}
        # the fixture puts r2 16 bytes into the block: slot 2 of 8-byte, slot 4 of 4-byte ones
        assert regs[2]["where"] == f"gregs[{16 // (target.bits // 8)}]" and regs[1]["described"]
        assert not regs[0]["described"] and not regs[R.LR]["described"]
        if target.bits == 64:
            assert summary["layout"] == "rt_sigreturn64"
            assert regs[R.VR0]["where"] == "gregs+0x400" and regs[R.VR0]["layout_says"]
        else:  # r1+352 is no 32-bit layout's pointer: slot names only, no comparison
            assert summary["layout"] is None and regs[R.VR0]["layout_says"] is None
        assert regs[R.VR0 + 1]["described"]
        assert regs[R.VR0 + 1]["where"].startswith("an expression vdsotool cannot place")


def test_registers_go_by_abi_names_and_rows_keep_readelf_names():
    from gnu import built_image

    report = build_report(load(str(built_image("gnu", PPC64))), ("cfi",))
    rec = next(r for r in report["cfi"]["records"] if r.get("summary"))
    texts = [i["text"] for i in rec["instructions"]]
    for column in (R.FPR0 + 14, R.VR0 + 15, R.VR0 + 23, R.CR0 + 2, R.LR, R.VRSAVE, R.VSCR):
        assert any(t.startswith(f"DW_CFA_expression {R.reg_name(column)} (") for t in texts)
        assert f"r{column}" in rec["columns"]  # readelf's vocabulary in the row table
        assert rec["column_names"][f"r{column}"] == R.reg_name(column)
    assert any(t.startswith("DW_CFA_expression nip (") for t in texts)
    assert rec["column_names"]["ra"] == "nip"
    notes = [i["note"] for i in rec["instructions"]]
    assert any(n and n.startswith("v15 saved at vmx.vr[15] ") for n in notes)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_instruction_columns_stay_aligned(target):
    from gnu import built_image

    text = render_text(build_report(load(str(built_image("gnu", target))),
                                    PART_NAMES))
    rows = [line for line in text.splitlines() if re.match(r"^  ([0-9a-f]{6}| {6}) \| ", line)]
    assert len(rows) > 100
    bars = {tuple(m.start() for m in re.finditer(r"\|", line))[:2] for line in rows}
    assert len(bars) == 1, bars
    table = [line for line in text.splitlines() if line.startswith("   LOC ")]
    assert max(len(line) for line in table) < 120


def test_many_looping_rules_share_one_budget():
    """Thousands of rules that each loop until their own step limit: the record's budget
    stops the evaluation, so dump stays fast on such a file."""
    from vdsotool.inspect.cfi_eval import RECORD_STEPS, Budget, Unplaceable, evaluate

    rule = b"\x2f\xff\xfd"  # skip -3: to itself
    budget, refused = Budget(), 0
    for _ in range(2000):
        try:
            evaluate(rule, 0, 3, (0, 3), False, 8, push_cfa=True, budget=budget)
        except Unplaceable:
            refused += 1
    assert refused == 2000 and budget.steps < 0
    assert RECORD_STEPS < 2000 * 512


def test_cli_default_dump_shows_the_summary():
    """Issue 7's done-when, as typed: `vdsotool dump out/vdso64.so` (default parts)."""
    from gnu import built_image

    r = run_vdsotool(["dump", built_image("vdsotool", PPC64)])
    assert r.returncode == 0, r.stderr
    assert "Where the interrupted registers are (from inside __kernel_sigtramp_rt64" in r.stdout
    assert re.search(r"^    f0-f31 +fp_regs\[0\.\.31\]$", r.stdout, re.M)
