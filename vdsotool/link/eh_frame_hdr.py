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

import struct

VERSION = 1
PCREL_SDATA4, UDATA4, DATAREL_SDATA4 = 0x1B, 0x03, 0x3B


def eh_frame_hdr_size(fde_count: int) -> int:
    return 12 + 8 * fde_count


def build_eh_frame_hdr(hdr_addr: int, eh_frame_addr: int, fdes: list[tuple[int, int]],
                       big_endian: bool) -> bytes:
    """``fdes``: (pc_begin, address of the FDE record) for every FDE, any order."""
    e = ">" if big_endian else "<"
    out = struct.pack(e + "BBBBiI", VERSION, PCREL_SDATA4, UDATA4, DATAREL_SDATA4,
                      eh_frame_addr - (hdr_addr + 4), len(fdes))
    for pc, fde_addr in sorted(fdes):
        out += struct.pack(e + "ii", pc - hdr_addr, fde_addr - hdr_addr)
    return out
