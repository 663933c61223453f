""".dynamic: given the section addresses of GNU ld's image, byte-identical to its .dynamic."""

from __future__ import annotations

import pytest
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.link.dynamic import DynamicInputs, build_dynamic, dynamic_size


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynamic_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    sec = {s.name: s for s in img.sections}
    dynstr = img.data[sec[".dynstr"].offset:sec[".dynstr"].offset + sec[".dynstr"].size]
    inputs = DynamicInputs(
        soname_offset=dynstr.index(target.soname.encode() + b"\0"),
        hash=sec[".hash"].addr, gnu_hash=sec[".gnu.hash"].addr, dynstr=sec[".dynstr"].addr,
        dynstr_size=sec[".dynstr"].size, dynsym=sec[".dynsym"].addr,
        verdef=sec[".gnu.version_d"].addr, verdef_count=2, versym=sec[".gnu.version"].addr)
    ours = build_dynamic(inputs, target.bits, not target.little)
    gnu = img.data[sec[".dynamic"].offset:sec[".dynamic"].offset + sec[".dynamic"].size]
    assert ours == gnu
    assert dynamic_size(target.bits) == len(gnu)


@pytest.mark.parametrize("name", list(TARGETS))
def test_eh_frame_hdr_identical_to_gnu_ld(name):
    from vdsotool.inspect.check import read_fdes
    from vdsotool.link.eh_frame_hdr import build_eh_frame_hdr, eh_frame_hdr_size

    target = TARGETS[name]
    img = gnu_elf(target)
    eh, hdr = img.section(".eh_frame"), img.section(".eh_frame_hdr")
    fdes = [(f.pc_begin, eh.addr + f.offset - eh.offset)
            for f in read_fdes(img, eh.offset, eh.addr, eh.size)]
    ours = build_eh_frame_hdr(hdr.addr, eh.addr, list(reversed(fdes)), not target.little)
    assert ours == img.data[hdr.offset:hdr.offset + hdr.size]
    assert eh_frame_hdr_size(len(fdes)) == hdr.size


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynsym_identical_to_gnu_ld(name):
    """Fed GNU's export values/sizes/types, our entries (types, bindings, the ABS version symbol,
    field packing) are GNU's bytes."""
    from vdsotool.link.dynsym import DynSymEntry, build_dynsym, version_symbol

    target = TARGETS[name]
    img = gnu_elf(target)
    text_index = img.section(".text").index
    dynstr = img.section(".dynstr")
    raw = img.data[dynstr.offset:dynstr.offset + dynstr.size]
    entries = [version_symbol(s.name) if s.name == "LINUX_2.6.15"
               else DynSymEntry(s.name, s.value, s.size, ("notype", "object", "func")[s.type],
                                text_index)
               for s in img.dynsyms()[1:]]
    offsets = {s.name: raw.index(s.name.encode() + b"\0") for s in entries}
    dynsym = img.section(".dynsym")
    assert build_dynsym(entries, offsets, target.bits, not target.little) == \
        img.data[dynsym.offset:dynsym.offset + dynsym.size]
