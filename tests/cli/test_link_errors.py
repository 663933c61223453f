"""Linker errors on the real pipeline, as a user meets them: ``vdsotool build`` of a source
tree with one bad addition reports every problem at its source line with a caret, exits 1,
and leaves the previous build's outputs exactly as they were (no partial or temp files)."""

from __future__ import annotations

import re

import pytest
from conftest import copy_sources, run_vdsotool

BAD_LINES = """
\t.text
\tbl\tmissing_helper
\t.globl\t__kernel_sync_dicache
__kernel_sync_dicache:
\t.long\t__get_datapage
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the sources, built once successfully into ``out``, then broken."""
    root = tmp_path_factory.mktemp("linkerr")
    src = copy_sources(root / "src")
    out = root / "out"
    ok = run_vdsotool(["build", "--bits", "64", "--src", src, "--out", out])
    assert ok.returncode == 0, ok.stderr
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    with open(src / "asm" / "note.S", "a") as f:
        f.write(BAD_LINES)
    bad = run_vdsotool(["build", "--bits", "64", "--src", src, "--out", out])
    return src, out, before, bad


def line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_exit_status_and_no_traceback(tree):
    _, _, _, bad = tree
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr


def test_undefined_symbol_at_its_line_with_caret(tree):
    src, _, _, bad = tree
    note = src / "asm" / "note.S"
    line = line_of(note, "missing_helper")
    assert f"{note}:{line}:2: error: undefined symbol 'missing_helper' referenced from .text+0x0" \
        in bad.stderr
    assert "bl\tmissing_helper\n     ^" in bad.stderr or "bl missing_helper" in bad.stderr


def test_duplicate_definition_names_both_places(tree):
    src, _, _, bad = tree
    note = src / "asm" / "note.S"
    line = line_of(note, "__kernel_sync_dicache:")
    # the first definition is inside the function-start macro: its file and line are named
    assert re.search(re.escape(f"{note}:{line}:1: error: duplicate definition of "
                               "'__kernel_sync_dicache' (first defined at ")
                     + r"\S+\.(S|inc):\d+", bad.stderr)


def test_dynamic_relocation_refused_naming_symbol_and_site(tree):
    src, _, _, bad = tree
    note = src / "asm" / "note.S"
    line = line_of(note, ".long\t__get_datapage")
    assert f"{note}:{line}:2: error: absolute reference (addr32) to '__get_datapage' at " \
           ".text+0x4 needs a dynamic relocation" in bad.stderr


def test_failed_build_leaves_previous_outputs_untouched(tree):
    _, out, before, _ = tree
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert after == before
    assert {"vdso64.so", "vdso64.so.dbg"} <= set(after)


def test_orphan_section_named_at_its_section_directive(tmp_path):
    src = copy_sources(tmp_path / "src")
    note = src / "asm" / "note.S"
    with open(note, "a") as f:
        f.write('\t.section .weird,"a"\n\t.long 1\n')
    res = run_vdsotool(["build", "--bits", "32", "--src", src, "--out", tmp_path / "out"])
    line = line_of(note, ".section .weird")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"{note}:{line}:2: error: section '.weird' matches no output section" in res.stderr
    assert '.section .weird,"a"\n     ^' in res.stderr


def test_sources_without_any_cfi_are_refused_clearly(tmp_path):
    """Nothing to unwind with: GNU ld would write a zero-sized PT_GNU_EH_FRAME; we refuse."""
    src = copy_sources(tmp_path / "src")
    for path in [*(src / "asm").glob("*.S"), src / "asm" / "vdso_macros.inc"]:
        kept = [l for l in path.read_text().splitlines(keepends=True)
                if ".cfi_" not in l and "VDSO_SIGFRAME_CFI" not in l]
        path.write_text("".join(kept))
    res = run_vdsotool(["build", "--bits", "64", "--src", src, "--out", tmp_path / "out"])
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    assert f"{src / 'linker_scripts' / 'vdso64.lds'}: error: no call-frame information" \
        in res.stderr
    assert not (tmp_path / "out" / "vdso64.so").exists()
