"""Assembler errors in a whole ``vdsotool build``: located, exit 1, never the linker's
internal error (the command-line cases in cases/asm-*.case cover ``vdsotool asm``)."""

from __future__ import annotations

import re

from conftest import copy_sources, run_vdsotool


def test_a_cfi_offset_that_cannot_be_encoded_fails_the_build_at_its_line(tmp_path):
    copy_sources(tmp_path)
    note = tmp_path / "asm" / "note.S"
    note.write_text(note.read_text() + "\n.text\nf:\n.cfi_startproc\n.cfi_offset r31, 3\nblr\n.cfi_endproc\n")
    line = len(note.read_text().splitlines()) - 2
    res = run_vdsotool(["build", "--bits", "64", "--emit", "none", "--src", tmp_path,
                        "--out", tmp_path / "o"], tmp_path)
    assert res.returncode == 1, res.stderr
    assert re.search(rf"note\.S:{line}:\d+: error: .cfi_offset: offset 3 is not a multiple of "
                     r"the data alignment -8", res.stderr), res.stderr
    assert not (tmp_path / "o").exists()
