"""Gathering input sections by the script's patterns: first match wins, /DISCARD/ drops,
fill order is pattern then object order, orphans are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdsotool.abi.targets import PPC64
from vdsotool.errors import VdsoError
from vdsotool.link.gather import gather
from vdsotool.link.script import parse_script
from vdsotool.objfile import ObjectFile, Section

SCRIPT = parse_script("""SECTIONS {
  .note : { *(.note.*) }
  .text : { *(.text .text.*) *(.glink) }
  .rodata : { *(.rodata) }
  /DISCARD/ : { *(.note.GNU-stack) *(.data) }
}""", "t.lds")


def obj(path, *sections):
    o = ObjectFile(path, PPC64)
    for name, flags in sections:
        o.sections[name] = Section(name, flags, data=bytearray(4))
    return o


def test_patterns_order_and_discard():
    a = obj("a.S", (".glink", "ax"), (".text", "ax"), (".note.Linux", "a"), (".data", "aw"))
    b = obj("b.S", (".text.hot", "ax"), (".note.GNU-stack", ""))
    out = gather(SCRIPT, [a, b])
    assert out == {".note": [(0, ".note.Linux")],
                   ".text": [(0, ".text"), (1, ".text.hot"), (0, ".glink")]}


def test_first_matching_output_section_wins():
    script = parse_script("SECTIONS { .a : { *(.x*) } .b : { *(.xy) } }", "t.lds")
    assert gather(script, [obj("a.S", (".xy", "a"))]) == {".a": [(0, ".xy")]}


def test_orphan_refused():
    with pytest.raises(VdsoError) as err:
        gather(SCRIPT, [obj("a.S", (".text", "ax"), (".weird", "a"))])
    (diag,) = err.value.diagnostics
    assert diag.message == ("section '.weird' matches no output section of t.lds "
                            "(orphan sections are not supported)")
    assert diag.loc.path == "a.S"


def test_unallocated_unmatched_section_ignored():
    assert gather(SCRIPT, [obj("a.S", (".comment", ""))]) == {}


@given(st.text(alphabet="ab.*", max_size=8), st.text(alphabet="ab.", max_size=10))
@settings(max_examples=2000, deadline=None)
def test_glob_match_is_fnmatchcase(pattern, text):
    from fnmatch import fnmatchcase

    from vdsotool.link.gather import glob_match

    assert glob_match(text, pattern) == fnmatchcase(text, pattern), (text, pattern)


@pytest.mark.parametrize("text,pattern,expected", [
    (".text.x", ".text.?", True), (".text.xy", ".text.?", False), ("a.o", "[ab].o", True),
])
def test_glob_match_hands_other_wildcards_to_fnmatch(text, pattern, expected):
    from vdsotool.link.gather import glob_match

    assert glob_match(text, pattern) is expected
