"""Layout differential: fed the sizes and alignments of the sections in GNU ld's image,
our walk of the real linker script puts every section at GNU ld's address."""

from __future__ import annotations

import pytest
from conftest import ROOT
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.errors import VdsoError
from vdsotool.link.chunk import Chunk
from vdsotool.link.layout import lay_out
from vdsotool.link.script import parse_script, read_script


@pytest.mark.parametrize("name", list(TARGETS))
def test_addresses_match_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    allocated = [s for s in img.sections if s.addr]
    contents = {s.name: Chunk(s.name, s.size, s.align) for s in allocated}
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    layout = lay_out(script, contents, img.e_ehsize + img.e_phnum * img.e_phentsize)
    assert [(p.name, p.address) for p in layout.sections] == \
        [(s.name, s.addr) for s in allocated]
    assert layout.end == allocated[-1].addr + allocated[-1].size


def test_provide_and_alignment_rules():
    script = parse_script("""SECTIONS {
        . = 0x10 + SIZEOF_HEADERS;
        .a : { *(.a) }
        .empty : { *(.none) }
        .b ALIGN(64) : { *(.b) }
        PROVIDE(etext = .); PROVIDE(taken = .);
        end_b = . - 1;
    }""", "t.lds")
    layout = lay_out(script, {".a": Chunk(".a", 3, 4), ".b": Chunk(".b", 8, 16)},
                     0x40, defined={"taken": 0x999})
    assert [(p.name, p.address) for p in layout.sections] == [(".a", 0x50), (".b", 0x80)]
    assert layout.symbols == {"etext": 0x88, "end_b": 0x87}


def test_undefined_symbol_in_expression():
    script = parse_script("SECTIONS {\n  x = nowhere + 1;\n}\n", "t.lds")
    with pytest.raises(VdsoError) as err:
        lay_out(script, {}, 0)
    assert str(err.value).startswith("t.lds:2: error: undefined symbol 'nowhere' in expression")


@pytest.mark.parametrize("bits,script_text", [
    (32, "SECTIONS {\n  . = 0xfffffffc;\n  .a : { *(.a) }\n}"),
    (64, "SECTIONS {\n  . = 0 - 8;\n  .a : { *(.a) }\n}"),
])
def test_section_outside_the_address_space_is_refused_at_its_line(bits, script_text):
    script = parse_script(script_text, "t.lds")
    with pytest.raises(VdsoError) as err:
        lay_out(script, {".a": Chunk(".a", 8, 4)}, 0, bits=bits)
    assert str(err.value).startswith("t.lds:3: error: section .a at ")
    assert f"outside the {bits}-bit address space" in str(err.value)
