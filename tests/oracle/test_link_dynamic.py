""".dynamic: given the section addresses of GNU ld's image, byte-identical to its .dynamic."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.link.chunk import Chunk
from vdsotool.link.dynamic import Dynamic


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynamic_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    sec = {s.name: s for s in img.sections}
    dynstr = img.data[sec[".dynstr"].offset:sec[".dynstr"].offset + sec[".dynstr"].size]
    placed = SimpleNamespace(address={name: s.addr for name, s in sec.items()},
                             chunks={".dynstr": Chunk(".dynstr", sec[".dynstr"].size, 1)})
    chunk = Dynamic(target.elf, dynstr.index(target.soname.encode() + b"\0"), 2)
    gnu = img.data[sec[".dynamic"].offset:sec[".dynamic"].offset + sec[".dynamic"].size]
    assert chunk.size == len(gnu)
    assert chunk.write(placed) == gnu


@pytest.mark.parametrize("name", list(TARGETS))
def test_eh_frame_hdr_identical_to_gnu_ld(name):
    from vdsotool.inspect.check import read_fdes
    from vdsotool.link.eh_frame_hdr import build_eh_frame_hdr

    target = TARGETS[name]
    img = gnu_elf(target)
    eh, hdr = img.section(".eh_frame"), img.section(".eh_frame_hdr")
    fdes = [(f.pc_begin, eh.addr + f.offset - eh.offset)
            for f in read_fdes(img, eh.offset, eh.addr, eh.size)]
    ours = build_eh_frame_hdr(target.elf, hdr.addr, eh.addr, list(reversed(fdes)))
    assert ours == img.data[hdr.offset:hdr.offset + hdr.size]


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynsym_identical_to_gnu_ld(name):
    """Fed GNU's export values/sizes/types, our entries (types, bindings, the ABS version symbol,
    field packing) are GNU's bytes."""
    from vdsotool.link.dynsym import version_symbol
    from vdsotool.link.symtab import OutSymbol, pack_symbols

    target = TARGETS[name]
    img = gnu_elf(target)
    dynstr = img.section(".dynstr")
    raw = img.data[dynstr.offset:dynstr.offset + dynstr.size]
    entries = [version_symbol(s.name) if s.name == "LINUX_2.6.15"
               else OutSymbol(s.name, s.value, s.size, ("notype", "object", "func")[s.type],
                              ".text", "global")
               for s in img.dynsyms()[1:]]
    offsets = {s.name: raw.index(s.name.encode() + b"\0") for s in entries}
    dynsym = img.section(".dynsym")
    index = {".text": img.section(".text").index}
    assert pack_symbols(target.elf, entries, offsets, index) == \
        img.data[dynsym.offset:dynsym.offset + dynsym.size]
