"""Reference model of the vDSO functions: what each must return, computed in Python.

gettimeofday (reference 3): xsec (units of 2^-20 s) =
``stamp_xsec + floor(((TB - tb_orig_stamp) mod 2^64) * tb_to_xs / 2^64)`` (mod 2^64);
``tv_sec = xsec >> 20``, ``tv_usec = ((xsec & 0xFFFFF) * 10^6) >> 20``. The 32-bit vDSO
computes the same value from 32-bit word pairs, but only while the tick count fits in one
word; otherwise it makes the real gettimeofday syscall, so the result is the host's time.

sync_dicache (reference 4): the 128-byte lines touched by [start, end); none when
end <= start.
"""

from __future__ import annotations

from vdsotool.abi import datapage
from vdsotool.abi.targets import Target
from vdsotool.util.records import record

MASK64 = (1 << 64) - 1
LINE_SIZE = 128


@record(frozen=True)
class TimeState:
    tb_orig_stamp: int
    tb_to_xs: int
    stamp_xsec: int
    timebase: int  # the timebase value the call observes
    tz_minuteswest: int = 0
    tz_dsttime: int = 0

    def page_values(self, tb_update_count: int = 0) -> dict[str, object]:
        """Data-page fields for this state (the timebase in the test field)."""
        return {"tb_orig_stamp": self.tb_orig_stamp, "tb_to_xs": self.tb_to_xs,
                "stamp_xsec": self.stamp_xsec, "test_timebase": self.timebase,
                "tb_update_count": tb_update_count,
                "tz_minuteswest": self.tz_minuteswest & 0xFFFFFFFF,
                "tz_dsttime": self.tz_dsttime & 0xFFFFFFFF}


@record(frozen=True)
class Timeval:
    sec: int
    usec: int


def tb_to_xs(ticks_per_sec: int) -> int:
    """The kernel's conversion factor: low 64 bits of floor(2^84 / ticks_per_sec)."""
    return ((1 << 84) // ticks_per_sec) & MASK64


def ticks(state: TimeState) -> int:
    return (state.timebase - state.tb_orig_stamp) & MASK64


def xsec(state: TimeState) -> int:
    return (state.stamp_xsec + (ticks(state) * state.tb_to_xs >> 64)) & MASK64


def xsec_32bit_words(state: TimeState) -> int:
    """xsec as the 32-bit code computes it (high(t*H) + carry(low(t*H) + high(t*L))),
    written independently of :func:`xsec` so the two can be checked against each other."""
    t = ticks(state)
    assert t >> 32 == 0, "the 32-bit path only runs for one-word tick counts"
    hi, lo = state.tb_to_xs >> 32, state.tb_to_xs & 0xFFFFFFFF
    th, tl = t * hi, t * lo
    carry = ((th & 0xFFFFFFFF) + (tl >> 32)) >> 32
    product = (th >> 32) + carry
    return (state.stamp_xsec + product) & MASK64


def rebase(state: TimeState, timebase: int, new_tb_to_xs: int | None = None) -> TimeState:
    """What the kernel publishes when it rebases the time at ``timebase`` (possibly with a
    new tick rate): the stamp moves to that timebase and stamp_xsec to the time it had there,
    so the time stays continuous (reference 10.1: a rebase that left a field stale made the
    time jump)."""
    at = TimeState(state.tb_orig_stamp, state.tb_to_xs, state.stamp_xsec, timebase)
    return TimeState(timebase, state.tb_to_xs if new_tb_to_xs is None else new_tb_to_xs,
                     xsec(at), timebase, state.tz_minuteswest, state.tz_dsttime)


def uses_syscall(target: Target, state: TimeState) -> bool:
    """True when the image falls back to the real gettimeofday syscall."""
    return target.bits == 32 and ticks(state) >> 32 != 0


def timeval(target: Target, state: TimeState) -> Timeval:
    """What gettimeofday stores in tv (as the target's unsigned long words)."""
    x = xsec(state)
    sec = x >> 20
    usec = ((x & 0xFFFFF) * 1_000_000) >> 20
    if target.bits == 32:
        sec &= 0xFFFFFFFF
    return Timeval(sec, usec)


def syscall_bit(words: list[int], n: int) -> bool:
    """Whether syscall ``n`` is marked in a map (MSB first within each word)."""
    return bool(words[n // 32] & (0x80000000 >> (n % 32)))


def syscall_map_offset(target: Target) -> int:
    """get_syscall_map's result, relative to the data page."""
    return datapage.syscall_map_offset(target)


def flushed_lines(start: int, end: int) -> list[int]:
    """Start addresses of the cache lines sync_dicache(start, end) touches."""
    if end <= start:
        return []
    first = start & ~(LINE_SIZE - 1)
    return list(range(first, end, LINE_SIZE))
