"""Output chunks: each output section knows its header fields and its size before any
address is known, and writes its bytes once the one layout has placed every chunk.

A chunk's ``write(image)`` gets the :class:`~vdsotool.link.image.Image` (addresses and
indices of every output section, the exports' final values, the relocated input
sections). Sizes never depend on addresses — hash tables and version records on names,
``.eh_frame`` on the frame programs, ``.dynamic`` on the ELF class — so the layout is
computed once (link/layout.py), as mold does it.
"""

from __future__ import annotations

from vdsotool.elf.constants import SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOTE, SHT_PROGBITS
from vdsotool.errors import SourceLoc, VdsoError

FLAG_BITS = {"a": SHF_ALLOC, "w": SHF_WRITE, "x": SHF_EXECINSTR}  # GNU's flag letters


def flag_bits(letters: str) -> int:
    return sum(bit for letter, bit in FLAG_BITS.items() if letter in letters)


def s32(value: int, script: str, what: str) -> int:
    """``value`` as the unsigned 32-bit word of a signed 32-bit offset field
    (``.eh_frame``, ``.eh_frame_hdr``), refused when it does not fit: the script placed the
    sections too far apart."""
    if not -(1 << 31) <= value < 1 << 31:
        raise VdsoError.at(SourceLoc(script, 0), f"{what} is {value:#x} bytes away, more than "
                                                 "its 32-bit field holds: the script places "
                                                 "the sections too far apart")
    return value & 0xFFFFFFFF


class Chunk:
    """One output section: header fields, alignment, size; ``link`` names the section
    whose index ``sh_link`` holds."""

    def __init__(self, name: str, size: int, align: int, flags: int = SHF_ALLOC, *,
                 sh_type: int = SHT_PROGBITS, link: str | None = None, info: int = 0,
                 entsize: int = 0) -> None:
        self.name, self.size, self.align, self.flags = name, size, align, flags
        self.sh_type, self.link, self.info, self.entsize = sh_type, link, info, entsize

    def write(self, image) -> bytes:
        raise NotImplementedError(self.name)


class Blob(Chunk):
    """A chunk whose bytes are known before the layout (string, hash and version tables)."""

    def __init__(self, name: str, data: bytes, align: int, flags: int = SHF_ALLOC,
                 **header) -> None:
        super().__init__(name, len(data), align, flags, **header)
        self.data = data

    def write(self, image) -> bytes:
        return self.data


class InputSections(Chunk):
    """An output section filled from input sections (``.text``, ``.note``…): each at its
    alignment in fill order; the bytes are the relocated ones (``image.relocated``)."""

    def __init__(self, name: str, members: list[tuple[tuple[int, str], object]]) -> None:
        size, align, letters, self.offsets = 0, 1, "", {}
        for key, sec in members:
            size += -size % max(sec.align, 1)
            self.offsets[key] = size
            size += sec.size
            align, letters = max(align, sec.align), letters + sec.flags
        note = members[0][1].type == "note"
        super().__init__(name, size, align, flag_bits(letters),
                         sh_type=SHT_NOTE if note else SHT_PROGBITS)

    def write(self, image) -> bytes:
        data = bytearray(self.size)
        for key, at in self.offsets.items():
            relocated = image.relocated[key]
            data[at:at + len(relocated)] = relocated
        return bytes(data)
