""".gnu.version_d and .gnu.version: byte-identical to GNU ld's for every target, given the
.dynstr GNU ld wrote (our .dynstr layout is tested separately)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from gnu import gnu_elf, section_bytes

from vdsotool.abi.targets import TARGETS
from vdsotool.link.script import read_script
from vdsotool.link.versions import build_verdef, build_versym
from conftest import ROOT


@pytest.mark.parametrize("name", list(TARGETS))
def test_verdef_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(name)
    dynstr = section_bytes(img, ".dynstr")
    node = read_script(str(ROOT / "linker_scripts" / target.linker_script)).versions[0].name
    names = [target.soname, node]
    offsets = {n: dynstr.index(n.encode() + b"\0") for n in names}
    assert build_verdef(target.elf, names, offsets) == section_bytes(img, ".gnu.version_d")


@pytest.mark.parametrize("name", list(TARGETS))
def test_versym_identical_to_gnu_ld(name):
    img = gnu_elf(name)
    # every exported symbol in the node (index 2)
    assert build_versym(TARGETS[name].elf, len(img.dynsyms()), 2) == \
        section_bytes(img, ".gnu.version")


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynstr_identical_to_gnu_ld_for_its_name_order(name):
    from vdsotool.link.strtab import build_strtab

    img = gnu_elf(name)
    gnu = section_bytes(img, ".dynstr")
    order = [n.decode() for n in gnu.split(b"\0") if n]
    data, offsets = build_strtab(order)
    assert data == gnu
    for sym in img.dynsyms()[1:]:
        assert offsets[sym.name] == gnu.index(sym.name.encode() + b"\0")


def test_dynstr_shares_tails():
    from vdsotool.link.strtab import build_strtab

    data, offsets = build_strtab(["bar", "foobar", "x", "bar"])
    assert data == b"\0foobar\0x\0"
    assert offsets == {"": 0, "foobar": 1, "bar": 4, "x": 8}
    assert data[offsets["bar"]:].split(b"\0")[0] == b"bar"


@given(st.lists(st.text(alphabet="ab_", min_size=1, max_size=5), max_size=12))
@settings(max_examples=500, deadline=None)
def test_strtab_reads_every_name_back_and_keeps_only_untailed_names(names):
    """Every name reads back at its offset; a name is written whole only when no other
    name ends with it (which owner takes it is GNU's rule: test_link_debug.py)."""
    from vdsotool.link.strtab import build_strtab

    data, offsets = build_strtab(names)
    unique = set(names)
    for name in unique:
        at = offsets[name]
        assert data[at:at + len(name) + 1] == name.encode() + b"\0"
    whole = [n.decode() for n in data[1:].split(b"\0")[:-1]]
    assert sorted(whole) == sorted(n for n in unique
                                   if not any(o != n and o.endswith(n) for o in unique))


def test_strtab_of_many_names_is_built_in_linear_work():
    """10,000 names sharing no tail, then 10,000 half of which are the others' tails: the table
    is built by a sort and one pass, so a few hundred thousand string comparisons at most
    (a pairwise search would need 10^8)."""
    from vdsotool.link import strtab

    class Counted(str):
        calls = 0

        def endswith(self, tail):
            Counted.calls += 1
            return str.endswith(self, tail)

        def __getitem__(self, key):
            return Counted(str.__getitem__(self, key))

    for names in ([f"sym{i}" for i in range(10_000)],
                  [f"p{i}" for i in range(5_000)] + [f"{i}" for i in range(5_000)]):
        Counted.calls = 0
        data, offsets = strtab.build_strtab([Counted(n) for n in names])
        assert len(offsets) == len(set(names)) + 1
        assert Counted.calls <= 2 * len(names)
