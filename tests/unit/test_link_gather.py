"""Gathering input sections by the script's patterns: first match wins, /DISCARD/ drops,
fill order is pattern then object order, orphans are refused."""

from __future__ import annotations

import pytest

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



def test_patterns_are_shell_globs_on_file_and_section_names():
    script = parse_script("SECTIONS { .a : { [ab].S(.x?) } .b : { *(.x[0-9]*) } }", "t.lds")
    objects = [obj("a.S", (".xy", "a"), (".x12", "a")), obj("c.S", (".xy", "a"), (".x1", "a"))]
    with pytest.raises(VdsoError) as err:  # c.S's .xy: no file pattern of .a takes c.S
        gather(script, objects)
    assert [d.loc.path for d in err.value.diagnostics] == ["c.S"]
    objects[1].sections.pop(".xy")
    assert gather(script, objects) == {".a": [(0, ".xy")], ".b": [(0, ".x12"), (1, ".x1")]}
