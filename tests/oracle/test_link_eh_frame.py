""".eh_frame differential: GNU's records decoded (vdsotool.cfi.decode) back into frame
records and re-encoded by our writer give GNU ld's section bytes for every target."""

from __future__ import annotations

import pytest
from gnu import gnu_elf

from vdsotool.abi.targets import TARGETS
from vdsotool.cfi import model as M
from vdsotool.cfi.decode import decode_eh_frame
from vdsotool.link.eh_frame import EhFrame, FrameRecord


def records_of(img, eh):
    frame = decode_eh_frame(img.data, eh.offset, eh.size, eh.addr, img.little, img.bits // 8)
    out = []
    for fde in frame.fdes:
        cie = frame.cies[fde.cie_offset]
        at, program = 0, []
        for d in fde.instrs:
            if isinstance(d.instr, M.AdvanceLoc):
                at += d.instr.delta
            elif not isinstance(d.instr, M.Nop):
                program.append((at, d.instr))
        out.append((fde.pc_begin, FrameRecord(fde.pc_range, program, cie.signal_frame,
                                              cie.ra_reg if cie.ra_reg != 65 else None)))
    return out


@pytest.mark.parametrize("name", list(TARGETS))
def test_eh_frame_identical_to_gnu_ld(name):
    target = TARGETS[name]
    img = gnu_elf(target)
    eh = img.section(".eh_frame")
    records = records_of(img, eh)
    chunk = EhFrame(target, [rec for _, rec in records])
    assert chunk.size == eh.size
    assert chunk.write_at(eh.addr, [pc for pc, _ in records]) == \
        img.data[eh.offset:eh.offset + eh.size]


def test_signal_frame_gets_its_own_cie_and_return_column():
    from vdsotool.abi.targets import PPC64

    recs = [FrameRecord(8), FrameRecord(8, signal_frame=True), FrameRecord(8),
            FrameRecord(8, return_column=67)]
    data = EhFrame(PPC64, recs).write_at(0x400, [0x100, 0x108, 0x110, 0x118])
    assert data.count(b"zRS\0") == 1 and data.count(b"zR\0") == 2
    assert len(data) % 4 == 0
