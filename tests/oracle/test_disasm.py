"""``dump --disasm`` reads as GNU objdump: every instruction of vdsotool's images and of
Debian's kernels' vDSOs, ours against ``objdump -d -z`` (the oracle), mnemonic and operands.

Normalised only for what is layout, not instruction: spacing after commas and between
mnemonic and operands, and the form of branch targets (objdump writes ``450
<sym+0x10>``, the dump ``0x450`` with the symbol as a label).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import need_tool
from debian_images import VERSIONS
from gnu import built_image

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import read
from vdsotool.inspect.disasm import Disassembler, correct

_LINE = re.compile(r"\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} ){4})\s*(.*)$")


def objdump_text(path, target) -> dict[int, str]:
    """Address -> objdump's instruction text for every word of .text."""
    objdump = need_tool(target.gnu_tool("objdump"))
    listing = subprocess.run([objdump, "-d", "-z", "-j", ".text", str(path)],
                             capture_output=True, text=True, check=True).stdout
    return {int(m[1], 16): m[3] for m in map(_LINE.match, listing.splitlines()) if m}


def normal(text: str) -> tuple[str, tuple[str, ...]]:
    """(mnemonic, operands) with layout removed; a branch target as its integer value."""
    text = re.sub(r"\s*<[^>]*>", "", text).strip()
    mnemonic, _, operands = text.partition(" ")
    ops = [o.strip() for o in operands.split(",")] if operands.strip() else []
    if mnemonic.startswith("b") and ops and re.fullmatch(r"(0x)?[0-9a-f]+", ops[-1]) and \
            not mnemonic.startswith(("bcctr", "bclr")):
        ops[-1] = str(int(ops[-1], 16))
    return mnemonic, tuple(ops)


def disagreements(path, target) -> tuple[int, list[str]]:
    img = read(path.read_bytes(), str(path))
    text = img.section(".text")
    code = img.bytes_at(text.offset, text.size)
    oracle = objdump_text(path, target)
    dis = Disassembler(img.bits, img.little)
    wrong = []
    for at in range(0, len(code) - 3, 4):
        addr = text.addr + at
        ours = dis.text(code[at:at + 4], addr)
        if normal(ours) != normal(oracle.get(addr, "(missing)")):
            wrong.append(f"{addr:#x} {code[at:at + 4].hex()}: {ours!r} vs objdump "
                         f"{oracle.get(addr)!r}")
    return len(code) // 4, wrong


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("builder", ["vdsotool", "gnu"])
def test_our_images_disassemble_as_objdump(builder, name):
    target = TARGETS[name]
    count, wrong = disagreements(built_image(builder, target), target)
    assert count > 50 and wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("version", VERSIONS)
def test_debian_images_disassemble_as_objdump(version, debian_vdso):
    count, wrong = disagreements(debian_vdso(version), TARGETS["ppc64le"])
    assert count > 500 and wrong == [], "\n".join(wrong[:40])


def test_bcl_20_31_is_not_bdnzl():
    """The mis-decode that started this module: capstone says bdnzl."""
    assert correct(0x429F0005, 0x44C, "bdnzl", "0x450") == "bcl 20,4*cr7+so,0x450"
    assert Disassembler(64, False).text(bytes.fromhex("429f0005"), 0x44C) == \
        "bcl 20,4*cr7+so,0x450"
