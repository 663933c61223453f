"""@ha/@l of ``symbol - label`` (label in the same section) is PC-relative, as in GNU as:
R_PPC_REL16_HA/LO with the field's place in the addend, resolved by the linker to
``S + A - P``. GNU as's relocations for the same source are the oracle; the link against
a linker-script symbol gives the words GNU ld gives (checked whole-image by
test_build61.py)."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import need_tool

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE, TARGETS
from vdsotool.assemble import assemble
from vdsotool.errors import VdsoError
from vdsotool.link.resolve import apply_relocations

SOURCE = ("\t.text\n\tnop\n\tbcl 20,31,1f\n1:\tmflr 3\n"
          "\taddis 3,3,(sym-1b+0x48)@ha\n\taddi 3,3,(sym-1b+0x48)@l\n"
          "\taddis 4,4,(sym-1b)@h\n")


@pytest.mark.parametrize("name", list(TARGETS))
def test_relocations_match_gnu_as(name, tmp_path):
    target = TARGETS[name]
    gas = need_tool(target.gnu_tool("as"))
    readelf = need_tool(target.gnu_tool("readelf"))
    src = tmp_path / "t.S"
    src.write_text(SOURCE)
    subprocess.run([gas, *target.gnu_as_flags, "-o", str(tmp_path / "t.o"), str(src)],
                   check=True)
    out = subprocess.run([readelf, "-rW", str(tmp_path / "t.o")], capture_output=True,
                         text=True, check=True).stdout
    gnu = [(int(m[1], 16), m[2].lower(), int(m[3], 16))
           for m in re.finditer(r"^([0-9a-f]+)\s+\S+\s+R_PPC(?:64)?_(REL16_\w+)\s+\S+\s+sym"
                                r" \+ ([0-9a-f]+)", out, re.M)]
    ours = [(r.offset, r.kind, r.addend) for r in
            assemble(SOURCE, "t.S", target).sections[".text"].relocations]
    assert len(gnu) == 3 and ours == gnu


def test_the_link_stores_s_plus_a_minus_p():
    obj = assemble(SOURCE, "t.S", PPC64LE)
    out = apply_relocations([obj], {(0, ".text"): 0x400}, PPC64LE.elf, {"sym": -0x20000})
    words = [int.from_bytes(out[(0, ".text")][i:i + 4], "little") for i in range(12, 24, 4)]
    value = -0x20000 - 0x408 + 0x48  # sym - 1b + 0x48, 1b at 0x408
    assert words[0] & 0xFFFF == ((value + 0x8000) >> 16) & 0xFFFF
    assert words[1] & 0xFFFF == value & 0xFFFF
    assert words[2] & 0xFFFF == ((-0x20000 - 0x408) >> 16) & 0xFFFF


@pytest.mark.parametrize("target", [PPC32, PPC64])
def test_a_difference_with_another_section_is_an_error(target):
    with pytest.raises(VdsoError, match="another section"):
        assemble(".data\n2: .long 0\n.text\n1: addis 3,3,(sym-2b)@ha\n", "t.S", target)
