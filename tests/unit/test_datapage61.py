"""The 6.1 data-page tables (vdsotool/abi/datapage61.py) against the reference's offsets
(modern-vdso-abi.md §3), and the pack/unpack model generated from them."""

from __future__ import annotations

import pytest

from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import TARGETS

# §3.1/§3.2/§3.3, typed from the reference, not from our tables.
REF_VDSO_DATA = {"seq": 0, "clock_mode": 4, "cycle_last": 8, "mask": 16, "mult": 24,
                 "shift": 28, "basetime": 32, "tz_minuteswest": 224, "tz_dsttime": 228,
                 "hrtimer_res": 232}
REF_PPC64 = {"tb_ticks_per_sec": 0x38, "dcache_block_size": 0x70, "icache_block_size": 0x74,
             "dcache_log_block_size": 0x78, "icache_log_block_size": 0x7C,
             "syscall_map": 0x80, "compat_syscall_map": 0xBC, "data": 0xF8}
REF_PPC32 = {"tb_ticks_per_sec": 0x00, "syscall_map": 0x08, "data": 0x48}
# §3.4: page offsets of basetime[clk].sec, (ppc64, ppc32)
REF_SLOTS = {0: (280, 104), 1: (296, 120), 4: (584, 408), 5: (360, 184), 6: (376, 200),
             7: (392, 216), 11: (456, 280)}


def test_offsets_match_reference():
    got = {f.name: f.offset for f in dp.VDSO_DATA_FIELDS}
    assert {k: got[k] for k in REF_VDSO_DATA} == REF_VDSO_DATA
    assert dp.VDSO_DATA_SIZE == 240 and dp.SYSCALL_MAP_SIZE == 15
    for layout, ref in ((dp.PPC64_LAYOUT, REF_PPC64), (dp.PPC32_LAYOUT, REF_PPC32)):
        assert {k: layout.field(k).offset for k in ref} == ref
    assert dp.PPC64_LAYOUT.size == 728 and dp.PPC32_LAYOUT.size == 552
    assert (dp.VDSO_HRES, dp.VDSO_COARSE, dp.VDSO_RAW) == (0x883, 0x60, 0x10)
    assert dp.LOW_RES_NSEC == 4_000_000


@pytest.mark.parametrize("name", list(TARGETS))
def test_slot_offsets(name):
    target = TARGETS[name]
    consts = dp.asm_constants(target, 4096)
    column = 0 if target.bits == 64 else 1
    for clk, offsets in REF_SLOTS.items():
        element = dp.CS_RAW if clk == 4 else 0
        at = consts["CFG_DATA"] + element * consts["VD_SIZE"] + consts["VD_BASETIME"] \
            + clk * consts["VD_BASETIME_SIZE"]
        assert at == offsets[column], clk
    assert consts["CFG_CLOCKMODE"] == (252 if target.bits == 64 else 76)


@pytest.mark.parametrize("name", list(TARGETS))
def test_pack_unpack_round_trip(name):
    target = TARGETS[name]
    slots = [(i * 3 + 1, (i << 40) | 7) for i in range(dp.VDSO_BASES)]
    values = {"tb_ticks_per_sec": 0x0102030405060708,
              "syscall_map": dp.syscall_map([0, 172, 450]),
              "data": [{"seq": 2, "clock_mode": dp.CLOCKMODE_TIMENS, "cycle_last": 1 << 63,
                        "mult": 0xFFFFFFFF, "shift": 24, "basetime": slots,
                        "tz_minuteswest": 0xFFFFFFC4, "hrtimer_res": 1}]}
    raw = dp.pack(target, values)
    assert len(raw) == dp.layout_for(target).size
    back = dp.unpack(target, raw)
    assert back["tb_ticks_per_sec"] == values["tb_ticks_per_sec"]
    assert back["syscall_map"] == values["syscall_map"]
    d0 = back["data"][0]
    assert d0["basetime"] == slots and d0["cycle_last"] == 1 << 63
    assert d0["clock_mode"] == 0x7FFFFFFF and d0["tz_minuteswest"] == -60
    assert back["data"][1]["basetime"] == [(0, 0)] * dp.VDSO_BASES
    at = dp.layout_for(target).field("tb_ticks_per_sec").offset
    assert raw[at:at + 8] == (bytes(range(8, 0, -1)) if target.little else bytes(range(1, 9)))
    with pytest.raises(KeyError):
        dp.pack(target, {"no_such_field": 1})
    with pytest.raises(KeyError):
        dp.pack(target, {"data": [{"bogus": 1}]})


def test_page_size_is_checked():
    with pytest.raises(ValueError):
        dp.asm_include(TARGETS["ppc64le"], 8192)
    text = dp.asm_include(TARGETS["ppc64le"], 65536)
    assert ".set PAGE_SHIFT, 0x10\n" in text and ".set VVAR_SIZE, 0x20000\n" in text
