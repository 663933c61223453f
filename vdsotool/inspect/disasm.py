"""PowerPC disassembly that reads as GNU objdump's: capstone, corrected in this one place.

``dump --disasm`` decodes each 4-byte word with capstone and then applies the corrections
below, so that the text is what ``objdump -d`` prints for the same word (a test compares
every instruction of vdsotool's images and of Debian's with ``objdump -d -z``):

* **mis-decodes** — capstone 5 reads a ``bc``/``bcl`` with BO = 20 ("branch always") as
  ``bdnz``/``bdnzl``: ``bcl 20,31,.+4`` (``0x429f0005``, the POWER8 link-stack-safe way
  to read the PC, in our images and in every modern vDSO) came out as ``bdnzl``, a
  decrement-and-branch that would corrupt CTR. It is written ``bcl 20,4*cr7+so,<target>``
  as objdump does.
* **names objdump uses** — condition-register bits ``4*crN+lt|gt|eq|so`` (``lt`` … for cr0)
  where capstone writes ``crNlt``/``cr0un``; ``mftb``/``mftbu``/``mfusprg3`` for the
  time-base and user SPRG3 reads capstone leaves as ``mfspr``; ``hwsync`` for ``sync 0``;
  ``mr.`` for ``or.`` of one register; ``srdi``/``rotldi``/``clrrdi`` for the ``rldicl``/
  ``rldicr`` forms objdump names so; ``pause_short`` for ``wait 2``.
* **layout** — operands separated by a bare comma, as objdump separates them.
* **numbers** — immediates and displacements in signed decimal as objdump prints them
  (capstone prints hex); branch targets stay ``0x``-prefixed addresses (objdump adds
  ``<symbol+offset>``, which the dump shows as labels instead); an undecodable word is
  ``.long 0x<value>`` of the word in the image's byte order.
"""

from __future__ import annotations

import re

_CR_BITS = ("lt", "gt", "eq", "so")
_CAPSTONE_CR_BIT = re.compile(r"\bcr([0-7])(lt|gt|eq|un)\b")
_HEX = re.compile(r"(-?)0x([0-9a-f]+)")
_SPR_READS = {268: "mftb", 269: "mftbu", 259: "mfusprg3"}


class Disassembler:
    """One capstone handle for a word size and byte order."""

    def __init__(self, bits: int, little: bool) -> None:
        import capstone

        mode = capstone.CS_MODE_64 if bits == 64 else capstone.CS_MODE_32
        mode |= capstone.CS_MODE_LITTLE_ENDIAN if little else capstone.CS_MODE_BIG_ENDIAN
        self._cs = capstone.Cs(capstone.CS_ARCH_PPC, mode)
        self._order = "little" if little else "big"

    def text(self, word: bytes, addr: int) -> str:
        """The instruction at ``addr`` (4 bytes of the image) as objdump prints it."""
        value = int.from_bytes(word, self._order)
        insn = next(self._cs.disasm(word, addr), None)
        if insn is None:
            return f".long {value:#x}"
        return correct(value, addr, insn.mnemonic, insn.op_str)


def cr_bit(bit: int) -> str:
    """A condition-register bit as objdump names it: ``so``, ``4*cr7+so``."""
    field, name = divmod(bit, 4)
    return _CR_BITS[name] if field == 0 else f"4*cr{field}+{_CR_BITS[name]}"


def _cr_names(operands: str) -> str:
    return _CAPSTONE_CR_BIT.sub(
        lambda m: cr_bit(4 * int(m[1]) + ("lt", "gt", "eq", "un").index(m[2])), operands)


def _decimal(operands: str) -> str:
    return _HEX.sub(lambda m: str(int(m[2], 16) * (-1 if m[1] else 1)), operands)


def correct(word: int, addr: int, mnemonic: str, operands: str) -> str:
    """capstone's ``mnemonic operands`` for ``word`` at ``addr``, as objdump prints it."""
    opcode = word >> 26
    if opcode == 16 and (word >> 21) & 0x1F == 20:  # bc BO=20: branch always
        bd = word & 0xFFFC
        bd -= 0x10000 if bd & 0x8000 else 0
        absolute = word & 2
        target = bd & 0xFFFFFFFFFFFFFFFF if absolute else addr + bd
        name = "bc" + ("l" if word & 1 else "") + ("a" if absolute else "")
        return f"{name} 20,{cr_bit((word >> 16) & 0x1F)},{target:#x}"
    if mnemonic == "mfspr":
        spr = ((word >> 16) & 0x1F) | ((word >> 6) & 0x3E0)
        if spr in _SPR_READS:
            return f"{_SPR_READS[spr]} r{(word >> 21) & 0x1F}"
    if mnemonic == "sync" and word == 0x7C0004AC:
        return "hwsync"
    if mnemonic == "waitimpl" and word == 0x7C40003C:
        return "pause_short"
    rs, ra, rb = (word >> 21) & 0x1F, (word >> 16) & 0x1F, (word >> 11) & 0x1F
    if mnemonic == "or." and rs == rb:
        return f"mr. r{ra},r{rs}"
    if opcode == 30 and (word >> 2) & 7 in (0, 1):  # rldicl / rldicr
        sh = ((word >> 11) & 0x1F) | ((word << 4) & 0x20)
        mb = ((word >> 6) & 0x1F) | (word & 0x20)
        dot = "." if word & 1 else ""
        if (word >> 2) & 7 == 0 and mb and sh == 64 - mb:
            return f"srdi{dot} r{ra},r{rs},{mb}"
        if (word >> 2) & 7 == 0 and mb == 0 and sh:
            return f"rotldi{dot} r{ra},r{rs},{sh}"
        if (word >> 2) & 7 == 1 and sh == 0:
            return f"clrrdi{dot} r{ra},r{rs},{63 - mb}"
    operands = _cr_names(operands).replace(", ", ",")
    if not (mnemonic.startswith("b") and opcode in (16, 18)):  # branch targets stay addresses
        operands = _decimal(operands)
    return f"{mnemonic} {operands}".strip()
