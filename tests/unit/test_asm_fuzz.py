"""Fuzz the front-end: token soups, mutated corpus lines and arbitrary bytes (not UTF-8)
only ever raise VdsoError (never another exception, abort or hang); resource bombs:
tests/cli/test_asm_bombs.py; against GNU as: tests/oracle/test_asm_fuzz_gnu.py. Hostile operands in a fresh process, where a keystone
abort would show: tests/cli/cases/asm-hostile-operands.case."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.assemble import assemble
from vdsotool.errors import VdsoError

ROOT = Path(__file__).resolve().parents[2]
CORPUS_LINES = (ROOT / "tests" / "asm_corpus" / "forms.S").read_text().splitlines()
TOKENS = ["li", "addi", "lwz", "bl", "beq+", "bdnz", "crclr", "mtcrf", "rlwinm", "srdi", "blr",
          ".long", ".byte", ".if", ".endif", ".macro", ".endm", ".rept", ".endr", ".cfi_startproc",
          ".cfi_endproc", ".cfi_offset", ".cfi_escape", ".section", ".org", ".fill", ".align",
          "r3", "%r1", "cr7", "4*cr7+eq", "lt", "0x7fffffff", "-1", "0", "99999999999999999999",
          "1b", "1f", "1:", "x:", ",", "(", ")", "@ha", "@l", "+", "-", "*", "/", "<<", "\"s\"",
          "'a", ";", "\n", "#", "/*", "*/", "\\", "=", ".", "sym"]
TARGETS = [PPC32, PPC64, PPC64LE]


def must_not_crash(text: str, target) -> None:
    try:
        assemble(text, "fuzz.S", target)
    except VdsoError as err:
        assert err.diagnostics


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.sampled_from(TARGETS))
def test_token_soup(tokens, target):
    must_not_crash(" ".join(tokens), target)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS_LINES), st.integers(0, 80), st.text(max_size=4), st.sampled_from(TARGETS))
def test_mutated_corpus_line(line, pos, insert, target):
    must_not_crash(line[:pos] + insert + line[pos + len(insert):], target)


BYTES = [b".ascii \"", b"\"", b"\\", b"\xff", b"\xc3\xa9", b"\x80", b"'", b".include ",
         b".section .x,", b".error ", b"\n", b"li r3,", b".byte ", b"\\377", b"#", b"\x00"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(BYTES), st.binary(max_size=6)), max_size=20),
       st.sampled_from(TARGETS))
def test_bytes_that_are_not_utf8(tmp_path_factory, chunks, target):
    from vdsotool.assemble import assemble_file

    path = tmp_path_factory.mktemp("bytes") / "b.S"
    path.write_bytes(b"".join(chunks))
    try:
        assemble_file(path, target)
    except VdsoError as err:
        for d in err.diagnostics:
            d.render().encode("utf-8")  # printable as the CLI prints it
