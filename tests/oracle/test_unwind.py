"""libgcc's own unwinder walks out of every signal trampoline of every image.

The harness (tests/oracle/unwind/unwind.c, entry.S) is cross-compiled static for each target and
run under qemu-user: it registers the image's .eh_frame with libgcc, lays out a signal
frame exactly as the kernel does (offsets from sigframe_layout.h, generated from
vdsotool/abi/sigframes.py), enters a "handler" whose return address is the trampoline and
calls _Unwind_Backtrace, which must recover the interrupted PC (as a signal frame), CFA,
GPRs, LR, CR fields, FPRs and - only when the saved MSR has MSR_VEC - the VMX registers.

libgcc also recognises the trampolines by their instructions when it finds no FDE
(ppc_fallback_frame_state), which would recover the same registers.  Two things show that
our FDE is what it uses: the harness checks that _Unwind_Find_FDE answers with the
image's FDE, and an image built from a layout with one slot moved makes exactly that
register come out wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import copy_sources, need_tool
from gnu import BUILDERS, built_image
from unwind.harness import TRAMPOLINES, image_facts, run_harness
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE, Target
from vdsotool.util import records

CASES = [(t, layout.name) for t in (PPC32, PPC64, PPC64LE) for layout in S.layouts_for(t)]
CASE_IDS = [f"{t.name}-{name}" for t, name in CASES]

EVERY_CHECK = {
    "FDE found in the image's .eh_frame", "FDE starts at the nop before the trampoline",
    "unwound through the trampoline", "reached the interrupted frame",
    "pc", "signal frame (ip_before_insn)", "cfa", "lr",
    *(f"r{n}" for n in range(32) if n != 1), *(f"context slot r{n}" for n in range(32) if n != 1),
    *(f"cr{n}" for n in range(8)), *(f"f{n}" for n in range(32)), *(f"v{n}" for n in range(32)),
    "vscr", "vrsave",
}


def unwind(target: Target, image, layout_name: str, vec: bool):
    facts = image_facts(image)
    return run_harness(target, need_tool, "unwind", image, layout_name,
                       facts.symbols[TRAMPOLINES[layout_name]], facts.eh_frame,
                       facts.eh_frame_end, int(vec))


@pytest.mark.parametrize("vec", [True, False], ids=["msr_vec", "no_vec"])
@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("target,layout_name", CASES, ids=CASE_IDS)
def test_libgcc_unwinds_the_trampoline(target, layout_name, builder, vec):
    run = unwind(target, built_image(builder, target), layout_name, vec)
    assert run.returncode == 0, str(run)
    assert not run.failed
    assert EVERY_CHECK <= run.ok, f"checks that did not run: {EVERY_CHECK - run.ok}"


def image_from_layouts(target: Target, layouts: tuple[S.SigFrameLayout, ...]) -> bytes:
    """vdsotool's build of ``target`` with vdso_sigframe.inc generated from ``layouts``."""
    from vdsotool import pipeline
    from vdsotool.assemble.includes import asm_includes
    from vdsotool.assemble import assemble_file
    from vdsotool.cfi.sigframe import asm_include
    from vdsotool.link.driver import link
    from vdsotool.link.script import read_script

    root = Path(pipeline.find_source_root(None))
    includes = asm_includes(target) | {"vdso_sigframe.inc": asm_include(target, layouts)}
    objects = [assemble_file(str(src), target, include_dirs=[root / "asm"],
                             virtual_includes=includes, defines={})
               for src in pipeline.image_sources(root, target)]
    return link(objects, read_script(str(root / "linker_scripts" / target.linker_script)),
                target)


def test_image_from_layouts_is_the_shipped_one_when_unchanged():
    # the corrupted-layout test below builds through this helper: unchanged, it must give
    # exactly the image the real build gives, so only the corruption differs
    from vdsotool.pipeline import build_image

    assert image_from_layouts(PPC64, S.layouts_for(PPC64)) == build_image(PPC64)


@pytest.mark.parametrize("target,layout_name", CASES, ids=CASE_IDS)
def test_a_moved_cr_slot_in_the_fde_is_what_the_unwinder_reads(target, layout_name, tmp_path):
    # The CR word moved to the other half of its slot (the 2.6.x ppc64 kernel's bug): the
    # frame is still the kernel's, only the image's FDE changed.  libgcc's fallback would
    # read the right word; the harness must see the wrong one in all eight CR fields.
    layouts = tuple(records.replace(lay, cr_word=lay.cr_word ^ 4)
                    if lay.name == layout_name else lay for lay in S.layouts_for(target))
    image = tmp_path / f"{target.image}.so"
    image.write_bytes(image_from_layouts(target, layouts))
    run = unwind(target, image, layout_name, vec=True)
    assert run.returncode == 1, str(run)
    assert set(run.failed) == {f"cr{n}" for n in range(8)}, str(run)
    assert EVERY_CHECK - set(run.failed) <= run.ok


def image_without_trampoline_cfi(target: Target, tmp_path) -> bytes:
    """vdsotool's build of ``target`` from a copy of the sources whose trampolines carry no
    CFI at all (every .cfi_ line and the generated macro removed from sigtramp*.S)."""
    import re

    from vdsotool.pipeline import build_image

    copy_sources(tmp_path)
    for src in (tmp_path / "asm").glob("sigtramp*.S"):
        lines = src.read_text().splitlines(keepends=True)
        src.write_text("".join(l for l in lines if not re.search(r"\.cfi_|VDSO_SIGFRAME_CFI", l)))
    return build_image(target, tmp_path)


@pytest.mark.parametrize("target,layout_name", CASES, ids=CASE_IDS)
def test_without_the_fde_the_harness_fails(target, layout_name, tmp_path):
    # the other side of the FDE checks: with no CFI for the trampoline, libgcc finds no FDE
    # (what is left to it is its instruction-pattern fallback) and the run must fail
    image = tmp_path / f"{target.image}.so"
    image.write_bytes(image_without_trampoline_cfi(target, tmp_path))
    run = unwind(target, image, layout_name, vec=True)
    assert run.returncode != 0, str(run)
    assert {"FDE found in the image's .eh_frame",
            "FDE starts at the nop before the trampoline"} <= set(run.failed), str(run)
