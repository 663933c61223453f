""".gnu.version_d and .gnu.version: byte-identical to GNU ld's for every target, given the
.dynstr GNU ld wrote (our .dynstr layout is tested separately)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from gnu import gnu_elf, section_bytes

from vdsotool.abi.targets import TARGETS
from vdsotool.link.script import read_script
from vdsotool.link.verdef import build_verdef
from vdsotool.link.versym import build_versym
from conftest import ROOT


@pytest.mark.parametrize("name", list(TARGETS))
def test_verdef_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(name)
    dynstr = section_bytes(img, ".dynstr")
    node = read_script(str(ROOT / "linker_scripts" / target.linker_script)).versions[0].name
    names = [target.soname, node]
    offsets = {n: dynstr.index(n.encode() + b"\0") for n in names}
    assert build_verdef(names, offsets, not img.little) == section_bytes(img, ".gnu.version_d")


@pytest.mark.parametrize("name", list(TARGETS))
def test_versym_identical_to_gnu_ld(name):
    img = gnu_elf(name)
    indices = [0] + [2] * (len(img.dynsyms()) - 1)  # every exported symbol in the node
    assert build_versym(indices, not img.little) == section_bytes(img, ".gnu.version")


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynstr_identical_to_gnu_ld_for_its_name_order(name):
    from vdsotool.link.dynstr import build_dynstr

    img = gnu_elf(name)
    gnu = section_bytes(img, ".dynstr")
    order = [n.decode() for n in gnu.split(b"\0") if n]
    data, offsets = build_dynstr(order)
    assert data == gnu
    for sym in img.dynsyms()[1:]:
        assert offsets[sym.name] == gnu.index(sym.name.encode() + b"\0")


def test_dynstr_shares_tails():
    from vdsotool.link.dynstr import build_dynstr

    data, offsets = build_dynstr(["bar", "foobar", "x", "bar"])
    assert data == b"\0foobar\0x\0"
    assert offsets == {"": 0, "foobar": 1, "bar": 4, "x": 8}
    assert data[offsets["bar"]:].split(b"\0")[0] == b"bar"


@given(st.lists(st.text(alphabet="ab_", min_size=1, max_size=5), max_size=12))
@settings(max_examples=500, deadline=None)
def test_dynstr_shares_tails_with_the_longest_name_first_met(names):
    """Every name's bytes are its owner's tail, the owner being the longest name ending
    with it (the first met among equally long ones), and every name reads back."""
    from vdsotool.link.dynstr import build_dynstr

    data, offsets = build_dynstr(names)
    for name in names:
        at = offsets[name]
        assert data[at:at + len(name) + 1] == name.encode() + b"\0"
        candidates = [o for o in dict.fromkeys(names) if o.endswith(name)]
        longest = max(len(o) for o in candidates)
        owner = next(o for o in candidates if len(o) == longest)
        assert at == offsets[owner] + len(owner) - len(name)
