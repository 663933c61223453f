"""The debug twin (``<image>.so.dbg``): GNU ld's unstripped output, symbol for symbol.

The kernel derives its offsets header from ``nm vdsoNN.so.dbg``, so the twin vdsotool
writes must list what GNU ld's lists. Oracles: GNU ld's own ``.so.dbg`` of the same sources
(tests/gnu.py), ``<prefix>-nm`` and ``<prefix>-objcopy -S`` (the kernel's strip).
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool
from gnu import built_image
from test_link_driver import objects as hand_objects

from vdsotool.abi.targets import PPC32, TARGETS
from vdsotool.link.driver import link_image
from vdsotool.link.script import parse_script

TARGET_NAMES = sorted(TARGETS)


def dbg_of(image: Path) -> Path:
    return image.with_name(image.name + ".dbg")


@pytest.fixture(scope="module", params=TARGET_NAMES)
def twins(request):
    target = TARGETS[request.param]
    gnu = built_image("gnu", target)
    ours = built_image("vdsotool", target)
    return target, gnu, ours


def test_debug_twin_is_gnu_lds_unstripped_output_byte_for_byte(twins):
    target, gnu, ours = twins
    assert dbg_of(ours).read_bytes() == dbg_of(gnu).read_bytes()


def test_nm_of_debug_twin_equals_gnu(twins):
    target, gnu, ours = twins
    nm = need_tool(target.gnu_tool("nm"))

    def listing(path):
        return subprocess.run([nm, str(path)], capture_output=True, text=True,
                              check=True).stdout

    ours_nm = listing(dbg_of(ours))
    assert "__kernel_gettimeofday" in ours_nm and " t " in ours_nm
    assert ours_nm == listing(dbg_of(gnu))


def test_stripping_the_twin_gives_the_shipped_image(twins, tmp_path):
    target, _, ours = twins
    objcopy = need_tool(target.gnu_tool("objcopy"))
    stripped = tmp_path / "stripped.so"
    subprocess.run([objcopy, "-S", str(dbg_of(ours)), str(stripped)], check=True)
    assert stripped.read_bytes() == ours.read_bytes()


SCRIPT = """
SECTIONS {
  . = SIZEOF_HEADERS;
  .hash : { *(.hash) } :text
  .gnu.hash : { *(.gnu.hash) }
  .dynsym : { *(.dynsym) }
  .dynstr : { *(.dynstr) }
  .gnu.version : { *(.gnu.version) }
  .gnu.version_d : { *(.gnu.version_d) }
  .note : { *(.note.*) } :text :note
  .text : { *(.text) } :text
  .eh_frame_hdr : { *(.eh_frame_hdr) } :text :eh_frame_hdr
  .eh_frame : { KEEP(*(.eh_frame)) } :text
  .dynamic : { *(.dynamic) } :text :dynamic
  _end = .;
  PROVIDE(unused_end = .);
}
PHDRS {
  text PT_LOAD FILEHDR PHDRS FLAGS(5);
  dynamic PT_DYNAMIC FLAGS(4);
  note PT_NOTE FLAGS(4);
  eh_frame_hdr PT_GNU_EH_FRAME;
}
VERSION { LINUX_2.6.15 { global: __kernel_gettimeofday; __kernel_sync_dicache; local: *; }; }
ALIAS = __kernel_gettimeofday;
"""


def test_hand_built_twin_lists_locals_linker_symbols_and_globals():
    from elftools.elf.elffile import ELFFile

    from vdsotool.objfile import Symbol

    objs = hand_objects(PPC32)
    objs[0].symbols["helper"] = Symbol("helper", ".text", 8, 4, "func", "global", "hidden")
    objs[0].symbols["loop"] = Symbol("loop", ".text", 4)
    objs[0].symbols[".Lhidden_label"] = Symbol(".Lhidden_label", ".text", 4)
    objs[1].symbols["K"] = Symbol("K", None, 42)
    linked = link_image(objs, parse_script(SCRIPT, "t.lds"), PPC32, debug=True)
    image, dbg = linked.image, linked.dbg
    elf = ELFFile(io.BytesIO(dbg))
    symtab = elf.get_section_by_name(".symtab")
    syms = {s.name: s for s in symtab.iter_symbols() if s.name}
    binding = {n: s["st_info"]["bind"] for n, s in syms.items()}
    text = elf.get_section_by_name(".text")["sh_addr"]
    assert syms["loop"]["st_value"] == text + 4 and binding["loop"] == "STB_LOCAL"
    assert syms["K"]["st_shndx"] == "SHN_ABS" and syms["K"]["st_value"] == 42
    assert binding["helper"] == "STB_LOCAL"  # hidden: made local, like local: *
    assert binding["__kernel_gettimeofday"] == "STB_GLOBAL"
    assert binding["LINUX_2.6.15"] == "STB_GLOBAL"
    assert syms["_DYNAMIC"]["st_value"] == elf.get_section_by_name(".dynamic")["sh_addr"]
    assert syms["ALIAS"]["st_value"] == syms["__kernel_gettimeofday"]["st_value"]
    assert syms["ALIAS"]["st_info"]["type"] == "STT_FUNC"  # type copied, as GNU ld does
    assert ".Lhidden_label" not in syms and "unused_end" not in syms
    names = [s.name for s in symtab.iter_symbols()]
    assert names.index("a.o") < names.index("loop") < names.index("b.o") < names.index("K")
    first_global = symtab["sh_info"]
    assert all(s["st_info"]["bind"] == "STB_LOCAL" for s in list(symtab.iter_symbols())[:first_global])
    assert all(s["st_info"]["bind"] != "STB_LOCAL" for s in list(symtab.iter_symbols())[first_global:])
    # the loaded part (after the ELF header, whose e_shoff/e_shnum differ) is the image's
    loaded_end = max(s["sh_addr"] + s["sh_size"] for s in elf.iter_sections()
                     if s["sh_flags"] & 2)
    start = elf["e_ehsize"]
    assert dbg[start:loaded_end] == image[start:loaded_end]



def test_a_name_ending_several_others_shares_the_tail_gnu_ld_picks(tmp_path):
    """``-D C_LO``: a local symbol of every object, the tail of ``CFG_STAMP_XSEC_LO`` and of
    the longer ``CFG_TB_TICKS_PER_SEC_LO``. GNU's string table sorts names by their
    reversed text and puts ``C_LO`` inside the first name after it in that order, the
    shorter one; the twins must agree."""
    from gnu import gnu_build

    from vdsotool import pipeline

    gnu = gnu_build(PPC32, tmp_path / "gnu", {"C_LO": 1})
    ours = pipeline.build_outputs(PPC32, pipeline.find_source_root(None), tmp_path / "ours",
                                  {"C_LO": 1})
    dbg = (gnu.parent / "vdso32.so.dbg").read_bytes()
    assert b"\0C_LO\0" not in dbg and b"CFG_TB_TICKS_PER_SEC_LO\0" in dbg
    assert ours[str(tmp_path / "ours" / "vdso32.so.dbg")] == dbg
