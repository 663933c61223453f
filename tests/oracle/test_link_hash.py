""".hash and .gnu.hash: built from the .dynsym of GNU ld's image, ours are byte-identical
to GNU ld's sections, for every target; and GNU's .dynsym order is our bucket order."""

from __future__ import annotations

import pytest
from gnu import gnu_elf, section_bytes

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import ElfKind
from vdsotool.elf.hashes import elf_hash, gnu_hash
from vdsotool.link.gnu_hash import build_gnu_hash, order_for_buckets
from vdsotool.link.hash import bucket_count, build_hash


@pytest.mark.parametrize("name", list(TARGETS))
def test_sysv_hash_identical_to_gnu_ld(name):
    img = gnu_elf(name)
    names = [s.name for s in img.dynsyms()]
    assert build_hash(ElfKind(img.bits, img.little), names) == section_bytes(img, ".hash")


@pytest.mark.parametrize("name", list(TARGETS))
def test_gnu_hash_identical_to_gnu_ld(name):
    img = gnu_elf(name)
    names = [s.name for s in img.dynsyms()]
    ours = build_gnu_hash(ElfKind(img.bits, img.little), names, 1)
    assert ours == section_bytes(img, ".gnu.hash")


@pytest.mark.parametrize("name", list(TARGETS))
def test_dynsym_order_is_bucket_order(name):
    names = [s.name for s in gnu_elf(name).dynsyms()][1:]
    assert order_for_buckets(names) == names


def test_hash_functions_reference_values():
    # values from the System V ABI and the GNU hash specification examples
    assert elf_hash("") == 0 and gnu_hash("") == 5381
    assert elf_hash("printf") == 0x077905A6
    assert gnu_hash("printf") == 0x156B2BB8
    assert [bucket_count(n) for n in (0, 1, 2, 3, 16, 17, 36, 37)] == [1, 1, 1, 3, 3, 17, 17, 37]


@pytest.mark.parametrize("name", list(TARGETS))
def test_gnu_ld_dynsym_order_from_any_input_order(name):
    from vdsotool.link.gnu_hash import gnu_ld_dynsym_order

    names = [s.name for s in gnu_elf(name).dynsyms()][1:]
    assert gnu_ld_dynsym_order(sorted(names)) == names
    assert gnu_ld_dynsym_order(sorted(names, reverse=True)) == names
