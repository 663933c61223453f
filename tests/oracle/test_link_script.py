"""The linker-script reader: reads the real scripts as GNU ld does (section order checked
against GNU ld's output image), and refuses everything outside the subset with
``script:line: error``."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT, need_tool
from gnu import built_image

from vdsotool.abi.targets import TARGETS
from vdsotool.errors import VdsoError
from vdsotool.link.script import (Assignment, OutputSection, evaluate, parse_script,
                                  read_script)


def script_of(name: str):
    return read_script(str(ROOT / "linker_scripts" / TARGETS[name].linker_script))


@pytest.mark.parametrize("name", list(TARGETS))
def test_section_order_matches_gnu_ld(name):
    """Every section GNU ld emitted appears in our reading of the script, in that order."""
    target = TARGETS[name]
    image = built_image("gnu", target)
    readelf = need_tool(target.gnu_tool("readelf"))
    out = subprocess.run([readelf, "-S", "-W", str(image)], capture_output=True, text=True,
                         check=True).stdout
    gnu_sections = [line.split("]", 1)[1].split()[0] for line in out.splitlines()
                    if line.strip().startswith("[") and "]" in line and "Nr]" not in line]
    ours = [s.name for s in script_of(name).sections if isinstance(s, OutputSection)]
    placed = [s for s in gnu_sections if s in ours]
    assert len(placed) >= 8
    assert placed == [s for s in ours if s in placed]


@pytest.mark.parametrize("name", list(TARGETS))
def test_phdrs_and_version(name):
    script = script_of(name)
    kinds = {p.name: p for p in script.phdrs}
    assert kinds["text"].type == 1 and kinds["text"].filehdr and kinds["text"].phdrs
    assert kinds["text"].flags == 5
    assert kinds["eh_frame_hdr"].type == 0x6474E550
    (node,) = script.versions
    assert node.name == "LINUX_2.6.15" and node.locals == ("*",)
    assert "__kernel_gettimeofday" in node.globals
    assert script.entry == "_start"


def test_full_subset():
    text = """
    OUTPUT_FORMAT("elf64-powerpc", "elf64-powerpc", "elf64-powerpc") /* c1 */
    OUTPUT_ARCH(powerpc:common64)
    SECTIONS {
      . = 0x10 + SIZEOF_HEADERS;
      .text ALIGN(16) : { KEEP(*(.text .text.*)) *(.glink) } :text :other
      PROVIDE(etext = .);
      /DISCARD/ : { *(.data) }
    }
    PHDRS { text PT_LOAD FILEHDR PHDRS FLAGS(5); other 6; }
    VERSION { V1 { global: a; b; local: *; }; }
    alias = a;
    """
    s = parse_script(text, "t.lds")
    assert s.output_format == ("elf64-powerpc",) * 3 and s.output_arch == "powerpc:common64"
    dot, text_sec, provide, discard = s.sections
    assert evaluate(dot.expr, {}, 0, 0x40) == 0x50
    assert text_sec.address == ("align", ("num", 16)) and text_sec.phdrs == ("text", "other")
    assert text_sec.inputs[0].keep and text_sec.inputs[0].section_patterns == (".text", ".text.*")
    assert not text_sec.inputs[1].keep
    assert isinstance(provide, Assignment) and provide.provide and provide.symbol == "etext"
    assert discard.discard
    assert s.phdrs[1].type == 6 and s.phdrs[1].flags is None
    assert s.versions[0].globals == ("a", "b")
    assert s.assignments[0].symbol == "alias" and s.assignments[0].expr == ("sym", "a")


def test_align_and_arithmetic():
    expr = parse_script("SECTIONS { . = ALIGN(16) - 4 + (2 + 1); }", "t").sections[0].expr
    assert evaluate(expr, {}, 0x21, 0) == 0x30 - 4 + 3
    assert evaluate(expr, {}, 0x30, 0) == 0x30 - 4 + 3


@pytest.mark.parametrize("text,line,message", [
    ("SECTIONS {\n}\nINCLUDE other.lds\n", 3, "unsupported linker script command 'INCLUDE'"),
    ("SECTIONS {\n  .text : { *(.text) \n", 3, "expected input file pattern, found 'end of file'"),
    ("/* never closed\nSECTIONS {}\n", 1, "unterminated comment"),
    ("SECTIONS {\n  . += 4;\n}\n", 2, "compound assignment is not supported"),
    ("PHDRS {\n  text PT_BOGUS;\n}\n", 2, "unknown program header type 'PT_BOGUS'"),
    ("PHDRS {\n  text PT_LOAD AT(0);\n}\n", 2, "unsupported program header attribute 'AT'"),
    ("SECTIONS {\n  . = ALIGN(., 8);\n}\n", 2, "two-argument ALIGN is not supported"),
    ("SECTIONS {\n  x = SIZEOF(.text);\n}\n", 2, "unsupported function 'SIZEOF' in expression"),
    ("VERSION {\n V2 { global: a; } V1;\n}\n", 2, "version node dependencies are not supported"),
    ("SECTIONS {\n  x = 1 ! 2;\n}\n", 2, "unexpected character '!'"),
])
def test_refused_with_line(text, line, message):
    with pytest.raises(VdsoError) as err:
        parse_script(text, "bad.lds")
    (diag,) = err.value.diagnostics
    assert diag.message == message
    assert str(diag.loc) == f"bad.lds:{line}"
    assert diag.render().startswith(f"bad.lds:{line}: error: {message}")


def test_missing_script_is_a_diagnostic(tmp_path):
    with pytest.raises(VdsoError) as err:
        read_script(str(tmp_path / "none.lds"))
    assert "cannot read linker script" in str(err.value)
