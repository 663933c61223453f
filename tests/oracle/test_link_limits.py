"""The linker's bounds (issue 13 items 6 and 23): a symbol value or size the ELF class
cannot hold is refused at the line that defined it, a negative value is stored in two's
complement as GNU stores it, a script that leaves a section nowhere is refused, and linking
many symbols takes work linear in their number."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT
from gnu import gnu_build

from vdsotool import pipeline
from vdsotool.abi.targets import PPC32, PPC64
from vdsotool.cfi import model as M
from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.link.driver import link_image
from vdsotool.link.script import parse_script, read_script
from vdsotool.objfile import FrameDescription, ObjectFile, Section, Symbol

EXPORT = "__kernel_get_syscall_map"  # one of the scripts' global: names


def one_function(target, *symbols, count=0):
    """An object with one exported function (with CFI), ``count`` more global labels and
    ``symbols``."""
    obj = ObjectFile("t.S", target)
    obj.sections[".text"] = Section(".text", "ax", align=4, data=bytearray(4 * (count + 1)))
    obj.symbols[EXPORT] = Symbol(EXPORT, ".text", 0, 4, "func", "global")
    for i in range(count):
        obj.symbols[f"g{i}"] = Symbol(f"g{i}", ".text", 4 * (i + 1), binding="global")
    for sym in symbols:
        obj.symbols[sym.name] = sym
    obj.frames.append(FrameDescription(".text", 0, 4, [(0, M.DefCfaOffset(0), None)]))
    return obj


def link(target, obj, debug=True, script=None):
    script = script or read_script(str(ROOT / "linker_scripts" / target.linker_script))
    return link_image([obj], script, target, debug=debug)


def test_script_without_a_home_for_the_linkers_sections_is_refused():
    script = parse_script("SECTIONS {\n  .text : { *(.text) }\n  .eh_frame : { *(.eh_frame) }\n"
                          "}\nVERSION { V { global: __kernel_get_syscall_map; }; }\n", "t.lds")
    with pytest.raises(VdsoError) as err:
        link(PPC64, one_function(PPC64), script=script)
    assert [d.render() for d in err.value.diagnostics][:2] == [
        "t.lds: error: section '.hash' (made by the linker) has no output section in t.lds "
        "(orphan sections are not supported)",
        "t.lds: error: section '.gnu.hash' (made by the linker) has no output section in "
        "t.lds (orphan sections are not supported)"]


@pytest.mark.parametrize("target,value,debug", [
    (PPC32, 1 << 32, True), (PPC32, -(1 << 31) - 1, True), (PPC64, 1 << 64, True),
    (PPC32, 1 << 32, False),  # an export: its .dynsym entry in the shipped image too
])
def test_value_the_class_cannot_hold_is_refused_at_its_line(target, value, debug):
    loc = SourceLoc("t.S", 7, 2, f"\t.set big, {value:#x}")
    name = "big" if debug else "__kernel_datapage_offset"
    with pytest.raises(VdsoError) as err:
        link(target, one_function(target, Symbol(name, None, value, binding="local" if debug
                                                 else "global", loc=loc)), debug)
    (diag,) = err.value.diagnostics
    assert diag.loc == loc
    assert diag.message == (f"value {value:#x} of symbol '{name}' does not fit an "
                            f"ELF{target.bits} symbol")


def test_size_the_class_cannot_hold_is_refused_at_its_line():
    loc = SourceLoc("t.S", 3, 2, "\t.size f, -1")
    with pytest.raises(VdsoError) as err:
        link(PPC32, one_function(PPC32, Symbol("f", ".text", 0, -1, "func", loc=loc)))
    assert [(d.loc, d.message) for d in err.value.diagnostics] == \
        [(loc, "size -0x1 of symbol 'f' does not fit an ELF32 symbol")]


@pytest.mark.parametrize("target", [PPC32, PPC64], ids=lambda t: t.name)
def test_negative_define_is_stored_as_gnu_stores_it(tmp_path, target):
    """``-D X=-1``: GNU as + ld write 0xffffffff (ELF32) or 0xffffffffffffffff (ELF64)."""
    gnu = gnu_build(target, tmp_path / "gnu", {"X": -1})
    ours = pipeline.build_outputs(target, pipeline.find_source_root(None), tmp_path / "ours",
                                  {"X": -1})
    dbg = f"{target.image}.so.dbg"
    assert ours[str(tmp_path / "ours" / dbg)] == (gnu.parent / dbg).read_bytes()


FAR_APART = """SECTIONS {
  . = SIZEOF_HEADERS;
  .hash : { *(.hash) }  .gnu.hash : { *(.gnu.hash) }  .dynsym : { *(.dynsym) }
  .dynstr : { *(.dynstr) }  .gnu.version : { *(.gnu.version) }
  .gnu.version_d : { *(.gnu.version_d) }  .dynamic : { *(.dynamic) }
  .eh_frame_hdr : { *(.eh_frame_hdr) }  .eh_frame : { *(.eh_frame) }
  . = 0x100000000;
  .text : { *(.text) }
}
VERSION { V { global: __kernel_get_syscall_map; }; }
"""


def test_code_beyond_the_reach_of_the_eh_frame_offsets_is_refused():
    """.eh_frame and .eh_frame_hdr point at code with signed 32-bit offsets; 4 GiB away
    they cannot, and the script is blamed instead of the offsets being cut to 32 bits."""
    with pytest.raises(VdsoError) as err:
        link(PPC64, one_function(PPC64), script=parse_script(FAR_APART, "far.lds"))
    (diag,) = err.value.diagnostics
    assert diag.loc == SourceLoc("far.lds", 0)
    assert "more than its 32-bit field holds: the script places the sections too far " \
        "apart" in diag.message


def calls_to_link(count: int) -> int:
    """Function calls (Python and C) made while linking ``count`` global labels."""
    obj = one_function(PPC64, count=count)
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        link(PPC64, obj)
    finally:
        sys.setprofile(None)
    return calls


def test_linking_many_global_labels_is_linear():
    """Four times the labels must cost about four times the calls (a pairwise step, such as
    a tail search over every pair of names, would cost sixteen times)."""
    small, large = calls_to_link(1_000), calls_to_link(4_000)
    assert large < 5 * small, (small, large)
