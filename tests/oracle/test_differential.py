"""The whole-image differential: vdsotool's build of asm/ == GNU as + GNU ld's, byte for byte.

For every target, with the shipped ``mftb`` time base and with ``-D VDSO_TEST_TIMEBASE=1``
(the execution tests' build), the shipped image and its debug twin must equal the GNU
reference build of the same sources and script (tests/gnu.py). On a mismatch the message
names the first thing that differs — ELF header, a program header, a section (by name,
with the offset inside it) or the section header table — so a failure says where to look.
``vdsotool build`` through the CLI, run from another directory, writes the same bytes.
"""

from __future__ import annotations

import io

import pytest
from conftest import copy_sources, run_vdsotool
from gnu import built_image

from vdsotool.abi.targets import TARGETS

TARGET_NAMES = sorted(TARGETS)


def first_difference(ours: bytes, gnu: bytes) -> str | None:
    """Where two ELF images first differ, in ELF terms (None: identical)."""
    if ours == gnu:
        return None
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        a, b = ELFFile(io.BytesIO(ours)), ELFFile(io.BytesIO(gnu))
    except ELFError as e:
        return f"not comparable as ELF ({e})"
    regions = [("ELF header", 0, a["e_ehsize"], 0, b["e_ehsize"])]
    regions.append(("program headers", a["e_phoff"], a["e_phnum"] * a["e_phentsize"],
                    b["e_phoff"], b["e_phnum"] * b["e_phentsize"]))
    names_a = [s.name for s in a.iter_sections()]
    names_b = [s.name for s in b.iter_sections()]
    if names_a != names_b:
        return f"section lists differ: ours {names_a[1:]}, GNU's {names_b[1:]}"
    for sa, sb in zip(a.iter_sections(), b.iter_sections()):
        if (sa["sh_addr"], sa["sh_offset"], sa["sh_size"]) != \
                (sb["sh_addr"], sb["sh_offset"], sb["sh_size"]):
            return (f"section {sa.name}: ours at {sa['sh_addr']:#x} (offset {sa['sh_offset']:#x}, "
                    f"size {sa['sh_size']:#x}), GNU's at {sb['sh_addr']:#x} (offset "
                    f"{sb['sh_offset']:#x}, size {sb['sh_size']:#x})")
        if sa["sh_type"] != "SHT_NOBITS":
            regions.append((f"section {sa.name}", sa["sh_offset"], sa["sh_size"],
                            sb["sh_offset"], sb["sh_size"]))
    regions.append(("section header table", a["e_shoff"], a["e_shnum"] * a["e_shentsize"],
                    b["e_shoff"], b["e_shnum"] * b["e_shentsize"]))
    for what, off_a, size_a, off_b, size_b in regions:
        part_a, part_b = ours[off_a:off_a + size_a], gnu[off_b:off_b + size_b]
        if part_a != part_b:
            at = next((i for i, (x, y) in enumerate(zip(part_a, part_b)) if x != y),
                      min(len(part_a), len(part_b)))
            return f"{what} differs at +{at:#x} (file offset {off_a + at:#x})"
    return "padding between sections differs"


@pytest.mark.parametrize("test_timebase", [False, True], ids=["mftb", "test-timebase"])
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_image_and_debug_twin_equal_gnu(name, test_timebase):
    target = TARGETS[name]
    gnu = built_image("gnu", target, test_timebase)
    ours = built_image("vdsotool", target, test_timebase)
    for suffix in ("", ".dbg"):
        a = ours.with_name(ours.name + suffix).read_bytes()
        b = gnu.with_name(gnu.name + suffix).read_bytes()
        where = first_difference(a, b)
        assert where is None, f"{target.image}.so{suffix} differs from GNU ld's: {where}"


def test_the_two_timebase_builds_differ():
    """The define reaches the code (else the parametrisation above would prove nothing)."""
    target = TARGETS["ppc64"]
    plain = built_image("vdsotool", target).read_bytes()
    tested = built_image("vdsotool", target, True).read_bytes()
    assert first_difference(plain, tested).startswith("section .text")


def test_first_difference_names_the_section():
    target = TARGETS["ppc32"]
    image = built_image("vdsotool", target).read_bytes()
    from elftools.elf.elffile import ELFFile

    eh = ELFFile(io.BytesIO(image)).get_section_by_name(".eh_frame")
    broken = bytearray(image)
    broken[eh["sh_offset"] + 9] ^= 1
    assert first_difference(bytes(broken), image) == \
        f"section .eh_frame differs at +0x9 (file offset {eh['sh_offset'] + 9:#x})"
    assert first_difference(image, image) is None


@pytest.mark.parametrize("bits,endian,name", [(32, "big", "ppc32"), (64, "big", "ppc64"),
                                              (64, "little", "ppc64le")])
def test_cli_build_from_another_directory_writes_gnu_bytes(bits, endian, name, tmp_path):
    """End to end as a user runs it, from a copy of the sources in another directory."""
    target = TARGETS[name]
    src = copy_sources(tmp_path / "src")
    res = run_vdsotool(["build", "--bits", bits, "--endian", endian, "--src", src,
                        "--out", tmp_path / "out"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    gnu = built_image("gnu", target)
    for suffix in (".so", ".so.dbg"):
        ours = (tmp_path / "out" / (target.image + suffix)).read_bytes()
        where = first_difference(ours, gnu.with_name(target.image + suffix).read_bytes())
        assert where is None, f"{target.image}{suffix}: {where}"
