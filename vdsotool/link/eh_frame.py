"""``.eh_frame`` from the assembler's frame descriptions: CIE and FDE records.

Record layout (``.eh_frame`` dialect of DWARF CFI; all fields in the image's byte order)::

    CIE: u32 length, u32 id (0), u8 version (1), augmentation "zR" ("zRS" for a signal
         frame), uleb code_align (4), sleb data_align (-4 on ppc32, -8 on ppc64),
         u8 return-address column (65 = LR unless .cfi_return_column), uleb aug length (1),
         u8 FDE pointer encoding 0x1b (pcrel|sdata4), initial instructions
         DW_CFA_def_cfa r1, 0 (what GNU as puts in every PowerPC CIE)
    FDE: u32 length, u32 CIE pointer (distance back to its CIE), s32 pc_begin (pcrel),
         u32 pc_range, uleb aug length (0), instructions

Each record is padded with DW_CFA_nop to a multiple of 4 bytes, as GNU as emits it.
Records that need the same CIE share it (GNU ld merges identical CIEs); a CIE is written
just before the first FDE that uses it. There is no zero terminator: GNU ld adds none (in
programs it comes from crtend.o, which a vDSO does not link); the unwinder stops at the
section end it gets from ``.eh_frame_hdr``/PT_GNU_EH_FRAME.
Instruction offsets become ``DW_CFA_advance_loc*`` deltas (cfi/encode.py picks the form).
"""

from __future__ import annotations

import struct

from vdsotool.abi.targets import Target
from vdsotool.cfi import model as M
from vdsotool.cfi.encode import CfiEncoding, encode_program, sleb128, uleb128
from vdsotool.util.records import field, record

LR_COLUMN = 65
R1 = 1
PCREL_SDATA4 = 0x1B


@record(frozen=True)
class FrameRecord:
    """One FDE to write: its code range (final addresses) and program."""

    pc_begin: int
    pc_range: int
    # (offset from pc_begin at which it takes effect, instruction), in order
    instructions: list[tuple[int, M.Instr]] = field(default_factory=list)
    signal_frame: bool = False
    return_column: int | None = None
    simple: bool = False  # ".cfi_startproc simple": no initial def_cfa in the CIE


def _pad4(body: bytes) -> bytes:
    return body + bytes(-(len(body) + 4) % 4)  # DW_CFA_nop is 0; +4: the length word


def cie_body(target: Target, rec: FrameRecord) -> bytes:
    enc = CfiEncoding.for_target(target)
    aug = b"zRS" if rec.signal_frame else b"zR"
    initial = b"" if rec.simple else encode_program([M.DefCfa(R1, 0)], enc)
    body = (bytes(4) + bytes([1]) + aug + b"\0" + uleb128(4) + sleb128(-target.wordsize)
            + bytes([rec.return_column or LR_COLUMN]) + uleb128(1) + bytes([PCREL_SDATA4])
            + initial)
    return _pad4(body)


def fde_program(target: Target, rec: FrameRecord) -> bytes:
    enc = CfiEncoding.for_target(target)
    program, at = [], 0
    for offset, instr in rec.instructions:
        if offset != at:
            program.append(M.AdvanceLoc(offset - at))
            at = offset
        program.append(instr)
    return encode_program(program, enc)


def build_eh_frame(target: Target, records: list[FrameRecord], address: int) -> bytes:
    """The section, for ``records`` in FDE order, placed at ``address``."""
    e = ">" if not target.little else "<"
    out = bytearray()
    cies: dict[bytes, int] = {}  # CIE body -> its offset in the section
    for rec in records:
        cie = cie_body(target, rec)
        if cie not in cies:
            cies[cie] = len(out)
            out += struct.pack(e + "I", len(cie)) + cie
        start = len(out)
        pc_field = address + start + 8
        body = (struct.pack(e + "IiI", start + 4 - cies[cie], rec.pc_begin - pc_field,
                            rec.pc_range) + uleb128(0) + fde_program(target, rec))
        body = _pad4(body)
        out += struct.pack(e + "I", len(body)) + body
    return bytes(out)
