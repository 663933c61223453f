"""``.eh_frame_hdr`` (PT_GNU_EH_FRAME): the unwinder's sorted index of FDEs.

Layout as GNU ld writes it with ``--eh-frame-hdr``::

    u8 version (1)
    u8 eh_frame_ptr_enc  0x1b  DW_EH_PE_pcrel | DW_EH_PE_sdata4
    u8 fde_count_enc     0x03  DW_EH_PE_udata4
    u8 table_enc         0x3b  DW_EH_PE_datarel | DW_EH_PE_sdata4 (relative to this section)
    s32 eh_frame_ptr     .eh_frame address minus the address of this field
    u32 fde_count
    (s32 initial_location, s32 fde_address) * fde_count, sorted by initial_location
"""

from __future__ import annotations

from vdsotool.cfi import dwarf as D
from vdsotool.elf import ElfKind
from vdsotool.link.chunk import Chunk, s32

VERSION = 1
ENCODINGS = bytes([VERSION, D.DW_EH_PE_pcrel | D.DW_EH_PE_sdata4, D.DW_EH_PE_udata4,
                   D.DW_EH_PE_datarel | D.DW_EH_PE_sdata4])


def build_eh_frame_hdr(kind: ElfKind, hdr_addr: int, eh_frame_addr: int,
                       fdes: list[tuple[int, int]], script: str = "") -> bytes:
    """``fdes``: (pc_begin, address of the FDE record) for every FDE, any order; ``script``
    is blamed for an offset the 32-bit fields cannot hold."""
    offsets = [eh_frame_addr - (hdr_addr + 4)]
    for pc, fde_addr in sorted(fdes):
        offsets += [pc - hdr_addr, fde_addr - hdr_addr]
    words = [s32(w, script, "code or .eh_frame seen from .eh_frame_hdr") for w in offsets]
    return (ENCODINGS + kind.word.pack(words[0])
            + kind.word.pack(len(fdes)) + b"".join(map(kind.word.pack, words[1:])))


class EhFrameHdr(Chunk):
    def __init__(self, kind: ElfKind, eh_frame) -> None:
        super().__init__(".eh_frame_hdr", 12 + 8 * len(eh_frame.fde_offsets), 4)
        self.kind, self.eh_frame = kind, eh_frame

    def write(self, image) -> bytes:
        return build_eh_frame_hdr(self.kind, image.address[self.name],
                                  image.address[self.eh_frame.name], self.eh_frame.fdes(image),
                                  image.script.path)
