"""ELF header and program headers: from the script's PHDRS and the layout of GNU ld's own
sections, our header bytes equal GNU ld's (everything before the first section)."""

from __future__ import annotations

import pytest
from conftest import ROOT
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.link.elf_header import (build_elf_header, build_phdrs, segments,
                                      sizeof_headers)
from vdsotool.link.layout import SectionContent, lay_out
from vdsotool.link.script import read_script


@pytest.mark.parametrize("name", list(TARGETS))
def test_headers_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    allocated = [s for s in img.sections if s.addr]
    layout = lay_out(script, {s.name: SectionContent(s.size, s.align) for s in allocated},
                     sizeof_headers(target.bits, len(script.phdrs)))
    flags = {".text": "ax", ".got": "aw", ".dynamic": "aw"}
    segs = segments(script.phdrs, layout.sections, flags)
    shoff = int.from_bytes(img.data[0x20:0x24] if target.bits == 32 else img.data[0x28:0x30],
                           "little" if target.little else "big")
    shstrndx = img.section(".shstrtab").index
    ours = build_elf_header(target, len(script.phdrs), shoff, len(img.sections), shstrndx)
    ours += build_phdrs(segs, target.bits, not target.little)
    assert ours == img.data[:len(ours)]
    assert len(ours) == sizeof_headers(target.bits, img.e_phnum)


@pytest.mark.parametrize("name", list(TARGETS))
def test_shstrtab_and_section_headers_identical_to_gnu_ld(name):
    from vdsotool.link.shdrs import OutSection, build_section_headers, build_shstrtab

    target = TARGETS[name]
    img = gnu_elf(target)
    letters = {".text": "ax", ".got": "awx" if target.bits == 32 else "aw", ".dynamic": "aw"}
    sections = [OutSection(s.name, letters.get(s.name, "a" if s.addr else ""), s.addr,
                           s.offset, s.size, s.align) for s in img.sections[1:]]
    strtab, offsets = build_shstrtab([s.name for s in sections])
    shstr = img.section(".shstrtab")
    assert strtab == img.data[shstr.offset:shstr.offset + shstr.size]
    ours = build_section_headers(sections, offsets, target.bits, not target.little)
    shoff = len(img.data) - len(ours)
    assert ours == img.data[shoff:]
