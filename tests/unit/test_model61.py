"""The 6.1 clock model (vdsotool/verify/model61.py) on the reference's test vectors
(modern-vdso-abi.md §4.11: V1-V4, V6 derived, Q1-Q9 observed on Debian's images)."""

from __future__ import annotations

import pytest

from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import TARGETS
from vdsotool.verify import model61 as m

C = 0x0000001000000000
HALF = 500000000 << 24
T64 = TARGETS["ppc64le"]
CLK = dp.CLOCKS


def page(clocks, target=T64):
    return dp.unpack(target, dp.pack(target, m.data_page_values(target, clocks)))


def pages(clocks, timens=None, target=T64, size=4096):
    raw = m.vvar(target, size, clocks, timens)
    return dp.unpack(target, raw[:size]), dp.unpack(target, raw[size:])


def mono(**basetime):
    return m.Clocks(mono=m.ClockBase(cycle_last=C), raw=m.ClockBase(cycle_last=C),
                    basetime=basetime)


def test_v1_v3_v4_monotonic():
    p = page(m.Clocks(mono=m.ClockBase(cycle_last=C), basetime={1: (1000, HALF)}))
    assert m.clock_gettime(p, None, CLK["CLOCK_MONOTONIC"], C + 512000000).values \
        == (1001, 500000000)
    assert m.clock_gettime(p, None, CLK["CLOCK_MONOTONIC"], C - 1).values == (1000, 499999998)
    p = page(m.Clocks(mono=m.ClockBase(cycle_last=C), basetime={1: (77, 999999990 << 24)}))
    assert m.clock_gettime(p, None, CLK["CLOCK_MONOTONIC"], C + 12345).values == (78, 24101)


def test_v2_gettimeofday():
    p = page(m.Clocks(mono=m.ClockBase(cycle_last=C), basetime={0: (1700000000, HALF)}))
    r = m.gettimeofday(p, None, C + 512000000, want_tz=False)
    assert r.values == ((1700000001, 500000), None)


def test_v6_getcpu():
    assert m.getcpu(0x00030011).values == (17, 3)


# Q: mult 0 (TB irrelevant), shift 24, seq 0, clock_mode 1, hrtimer_res 1, tz {-60, 1}
def q_clocks(**kw):
    zero = m.ClockBase(mult=0, shift=24)
    basetime = {1: (1000, 2500000000 << 24), 0: (1700000000, 999999999 << 24),
                7: (2000, 1 << 24), 11: (1700000037, 0), 4: (777, 5 << 24),
                6: (1234, 999999999), 5: (1700000000, 123456789)}
    return m.Clocks(mono=zero, raw=zero, basetime=basetime, tz_minuteswest=-60, tz_dsttime=1,
                    **kw)


@pytest.mark.parametrize("clk,expected", [
    ("CLOCK_MONOTONIC", (1002, 500000000)), ("CLOCK_REALTIME", (1700000000, 999999999)),
    ("CLOCK_BOOTTIME", (2000, 1)), ("CLOCK_TAI", (1700000037, 0)),
    ("CLOCK_MONOTONIC_RAW", (777, 5)), ("CLOCK_MONOTONIC_COARSE", (1234, 999999999)),
    ("CLOCK_REALTIME_COARSE", (1700000000, 123456789))])
def test_q1_q5_clocks(clk, expected):
    p0, p1 = pages(q_clocks())
    assert m.clock_gettime(p0, p1, CLK[clk], 12345).values == expected


def test_q2_q6_q7_q8():
    p0, p1 = pages(q_clocks())
    assert m.gettimeofday(p0, p1, 0).values == ((1700000000, 999999), (-60, 1))
    assert m.clock_getres(p0, p1, CLK["CLOCK_MONOTONIC"]).values == (0, 1)
    assert m.clock_getres(p0, p1, CLK["CLOCK_MONOTONIC_RAW"]).values == (0, 1)
    assert m.clock_getres(p0, p1, CLK["CLOCK_MONOTONIC_COARSE"]).values == (0, 4000000)
    assert m.clock_getres(p0, p1, CLK["CLOCK_MONOTONIC"], null=True) == m.Result()
    assert m.time(p0, p1).rc == 1700000000
    p0, p1 = pages(q_clocks(clock_mode=0))
    assert m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC"], 0).values == (1002, 500000000)


def test_q9_namespace():
    off = (86400, 600000000)
    ns = dp.timens_values({1: off, 6: off}, {4: off})
    p0, p1 = pages(q_clocks(), ns)
    assert m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC"], 0).values == (87403, 100000000)
    assert m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC_RAW"], 0).values == (87177, 600000005)
    assert m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC_COARSE"], 0).values \
        == (87635, 599999999)
    assert m.clock_gettime(p0, p1, CLK["CLOCK_REALTIME"], 0).values == (1700000000, 999999999)
    assert m.gettimeofday(p0, p1, 0).values[1] == (-60, 1)
    assert m.syscall_map(T64, p0, p1).values == (128, 451) and m.syscall_map(T64, p0, p1).rc == 1
    assert m.get_tbfreq(p0, p1).rc == m.TPS


def test_fallbacks_and_spin():
    p0, p1 = pages(q_clocks())
    for clk in (2, 3, 8, 9, 10, 12, 15, 16, -1):
        assert m.clock_gettime(p0, p1, clk, 0).syscall == 246
        assert m.clock_getres(p0, p1, clk).syscall == 247
    assert m.clock_gettime(p0, p1, 2, 0, syscall=403).syscall == 403
    p0, p1 = pages(q_clocks(seq=3))
    assert m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC"], 0) == m.SPIN


def test_32bit_truncation():
    t32 = TARGETS["ppc32"]
    clocks = m.Clocks(mono=m.ClockBase(mult=0), basetime={1: (0x1_0000_0005, 2500000000 << 24),
                                                           0: (0x80000000, 0)})
    p0, p1 = pages(clocks, target=t32)
    r = m.clock_gettime(p0, p1, CLK["CLOCK_MONOTONIC"], 0)
    assert r.values == (4294967303, 500000000)
    assert m.truncate32(r).values == (7, 500000000)
    assert m.truncate32(m.time(p0, p1)).rc == 0x80000000
