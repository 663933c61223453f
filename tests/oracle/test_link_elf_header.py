"""ELF header, program headers and .shstrtab: from the script's PHDRS and the layout of GNU ld's own
sections, our header bytes equal GNU ld's (everything before the first section)."""

from __future__ import annotations

import pytest
from conftest import ROOT
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.elf.constants import SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE
from vdsotool.link.chunk import Chunk
from vdsotool.link.headers import build_elf_header, build_phdrs, segments, sizeof_headers
from vdsotool.link.layout import lay_out
from vdsotool.link.script import read_script


@pytest.mark.parametrize("name", list(TARGETS))
def test_headers_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    allocated = [s for s in img.sections if s.addr]
    layout = lay_out(script, {s.name: Chunk(s.name, s.size, s.align) for s in allocated},
                     sizeof_headers(target.elf, len(script.phdrs)))
    flags = {s.name: SHF_ALLOC for s in allocated} | {".text": SHF_ALLOC | SHF_EXECINSTR,
                                                      ".got": SHF_ALLOC | SHF_WRITE,
                                                      ".dynamic": SHF_ALLOC | SHF_WRITE}
    segs = segments(script.phdrs, layout.sections, flags)
    shoff = int.from_bytes(img.data[0x20:0x24] if target.bits == 32 else img.data[0x28:0x30],
                           "little" if target.little else "big")
    shstrndx = img.section(".shstrtab").index
    ours = build_elf_header(target, len(script.phdrs), shoff, len(img.sections), shstrndx)
    ours += build_phdrs(target.elf, segs)
    assert ours == img.data[:len(ours)]
    assert len(ours) == sizeof_headers(target.elf, img.e_phnum)


@pytest.mark.parametrize("name", list(TARGETS))
def test_shstrtab_identical_to_gnu_ld(name):
    """(The section headers: test_link_image.py, the whole image from GNU's contents.)"""
    from vdsotool.link.headers import build_shstrtab

    img = gnu_elf(TARGETS[name])
    strtab, _ = build_shstrtab([s.name for s in img.sections[1:]])
    shstr = img.section(".shstrtab")
    assert strtab == img.data[shstr.offset:shstr.offset + shstr.size]
