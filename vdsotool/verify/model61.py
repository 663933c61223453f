"""The model of the Linux 6.1 vDSO: fill a vvar area from chosen clock states and predict
every call's result exactly (modern-vdso-abi.md §2, §4).

A :class:`Clocks` value is what the kernel's timekeeping publishes: the mono and raw clock
bases (cycle_last, mult, shift), the basetime slot of each clock id, tz, hrtimer_res, the
timebase frequency, the cache geometry and the syscall map. :func:`data_page_values` turns
it into the fields of ``vdsotool.abi.datapage61``; :func:`vvar` lays out the two vvar pages
(with or without a time-namespace page in front). The prediction functions read the same
field dicts (``datapage61.unpack``), so they also serve images whose vvar someone else filled.

Calls (§4.2–§4.7), for a timebase value ``tb`` the call observes:

* ``clock_gettime``: ids ≥ 16 (unsigned) and the ids the vDSO does not serve go to the
  syscall (246; 403 for ppc32's ``__kernel_clock_gettime64``). HRES ids use data[0], RAW
  data[1]: ``ns = (((tb − cycle_last)·mult mod 2^64) + basetime.nsec) mod 2^64 >> shift``,
  whole seconds carried into ``basetime.sec``. COARSE ids copy their slot verbatim.
  ``clock_mode`` is never consulted except for TIMENS; an odd ``seq`` that is not a
  namespace page makes the reader spin (:data:`SPIN`).
* A namespace page (page 0 with odd seq and clock_mode TIMENS) sends every time read one
  page up and adds the page's ``offset[clk]`` before normalising.
* ``clock_getres``: ``hrtimer_res`` for HRES/RAW ids, ``LOW_RES_NSEC`` for COARSE ones,
  syscall 247 otherwise; nothing stored for a NULL pointer.
* ``gettimeofday``: REALTIME as above, ``usec = (u32)nsec // 1000``; tz from data[0].
* ``time``: ``basetime[REALTIME].sec`` without the seqlock.
* ``get_tbfreq``, ``get_syscall_map``, cache geometry: from the real data page (page 1 when
  page 0 is a namespace page).

The 32-bit time entries (ppc32 ``__kernel_clock_gettime``, ``gettimeofday``, ``time``)
store the low 32 bits of each value.
"""

from __future__ import annotations

from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import Target
from vdsotool.util.records import field, record

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
SPIN = "spin"  # the call cannot return: seq is odd and the page is no namespace page
TPS = 512_000_000  # the usual POWER server timebase (reference §3.5)
MULT, SHIFT = 32_768_000, 24  # the kernel's mult/shift for TPS


@record(frozen=True)
class ClockBase:
    """One ``tk_read_base`` as the vDSO sees it (data[0]: mono, data[1]: raw)."""
    cycle_last: int = 0
    mult: int = MULT
    shift: int = SHIFT
    mask: int = MASK64


@record(frozen=True)
class Clocks:
    """The kernel's published state. ``basetime`` maps clock id -> (sec, nsec) as stored
    (shifted nsec for the high-resolution ids, plain for the coarse ones); id 4
    (MONOTONIC_RAW) goes into data[1]."""
    mono: ClockBase = ClockBase()
    raw: ClockBase = ClockBase()
    basetime: dict = field(default_factory=dict)
    seq: int = 0
    clock_mode: int = dp.CLOCKMODE_ARCHTIMER
    tz_minuteswest: int = 0
    tz_dsttime: int = 0
    hrtimer_res: int = 1
    tb_ticks_per_sec: int = TPS
    dcache_block_size: int = 128
    icache_block_size: int = 128
    syscall_map: tuple = ()


@record(frozen=True)
class Result:
    """What a call returns: r3, CR0.SO and the stored values (None: nothing stored)."""
    rc: int = 0
    so: int = 0
    values: tuple | None = None
    syscall: int | None = None  # the syscall number the vDSO issued instead


def data_page_values(target: Target, clocks: Clocks) -> dict[str, object]:
    """The data-page fields (datapage61's names) of ``clocks``."""
    raw_id = dp.CLOCKS["CLOCK_MONOTONIC_RAW"]
    slots0 = [(0, 0)] * dp.VDSO_BASES
    slots1 = [(0, 0)] * dp.VDSO_BASES
    for clk, pair in clocks.basetime.items():
        (slots1 if clk == raw_id else slots0)[clk] = pair

    def element(base: ClockBase, slots: list) -> dict[str, object]:
        return {"seq": clocks.seq, "clock_mode": clocks.clock_mode & MASK32,
                "cycle_last": base.cycle_last, "mask": base.mask, "mult": base.mult,
                "shift": base.shift, "basetime": slots}

    d0 = element(clocks.mono, slots0)
    d0.update(tz_minuteswest=clocks.tz_minuteswest & MASK32,
              tz_dsttime=clocks.tz_dsttime & MASK32, hrtimer_res=clocks.hrtimer_res)
    values: dict[str, object] = {"tb_ticks_per_sec": clocks.tb_ticks_per_sec,
                                 "syscall_map": dp.syscall_map(clocks.syscall_map),
                                 "data": [d0, element(clocks.raw, slots1)]}
    if target.bits == 64:
        values.update(dcache_block_size=clocks.dcache_block_size,
                      icache_block_size=clocks.icache_block_size,
                      dcache_log_block_size=clocks.dcache_block_size.bit_length() - 1,
                      icache_log_block_size=clocks.icache_block_size.bit_length() - 1)
    return values


def vvar(target: Target, page_size: int, clocks: Clocks,
         timens: dict[str, object] | None = None) -> bytes:
    """The two vvar pages: the data page then zeros, or (in a time namespace) the namespace
    page (``datapage61.timens_values``) then the data page."""
    data = dp.pack(target, data_page_values(target, clocks), page_size)
    if timens is None:
        return data + bytes(page_size)
    return dp.pack(target, timens, page_size) + data


# --- predictions --------------------------------------------------------------------------

def _is_timens(page0: dict) -> bool:
    return page0["data"][0]["clock_mode"] == dp.CLOCKMODE_TIMENS


def real_page(page0: dict, page1: dict | None) -> dict:
    """The data page non-time functions read (§2.4)."""
    if _is_timens(page0):
        if page1 is None:
            raise ValueError("a namespace page needs the real data page after it")
        return page1
    return page0


def _hres(vd: dict, clk: int, tb: int) -> tuple[int, int]:
    """(sec, ns) before normalisation: the shifted nanoseconds of ``basetime[clk]``."""
    sec, nsec = vd["basetime"][clk]
    delta = (tb - vd["cycle_last"]) & MASK64
    ns = ((delta * vd["mult"]) & MASK64) + nsec & MASK64
    shift = vd["shift"] & 0x7F  # srd uses the low 7 bits
    return sec, ns >> shift if shift < 64 else 0


def _normalise(sec: int, ns: int) -> tuple[int, int]:
    carry, ns = divmod(ns, dp.NSEC_PER_SEC)
    return (sec + carry) & MASK64, ns


def _fallback(nr: int) -> Result:
    return Result(syscall=nr)


def clock_gettime(page0: dict, page1: dict | None, clk: int, tb: int,
                  syscall: int = dp.SYSCALLS["__NR_clock_gettime"]) -> Result | str:
    """``clock_gettime(clk, &ts)``: Result with values (sec, nsec), a syscall Result, or
    :data:`SPIN`."""
    clk &= MASK32
    if clk >= dp.MAX_CLOCKS:
        return _fallback(syscall)
    bit = 1 << clk
    if bit & dp.VDSO_HRES:
        index = dp.CS_HRES_COARSE
    elif bit & dp.VDSO_RAW:
        index = dp.CS_RAW
    elif bit & dp.VDSO_COARSE:
        index = None
    else:
        return _fallback(syscall)
    element = page0["data"][index or 0]
    offset, in_namespace = (0, 0), False
    if element["seq"] & 1:
        if element["clock_mode"] != dp.CLOCKMODE_TIMENS:
            return SPIN
        offset, in_namespace = element["basetime"][clk], True
        if page1 is None:
            raise ValueError("a namespace page needs the real data page after it")
        element = page1["data"][index or 0]
        if element["seq"] & 1:
            return SPIN
    if index is None:
        sec, ns = element["basetime"][clk]
    else:
        sec, ns = _hres(element, clk, tb)
    if in_namespace or index is not None:  # the coarse slots are copied verbatim
        sec, ns = _normalise((sec + offset[0]) & MASK64, (ns + offset[1]) & MASK64)
    return Result(values=(sec, ns))


def clock_getres(page0: dict, page1: dict | None, clk: int, null: bool = False) -> Result:
    clk &= MASK32
    nr = dp.SYSCALLS["__NR_clock_getres"]
    if clk >= dp.MAX_CLOCKS:
        return _fallback(nr)
    page = real_page(page0, page1) if _is_timens(page0) else page0
    bit = 1 << clk
    if bit & (dp.VDSO_HRES | dp.VDSO_RAW):
        ns = page["data"][0]["hrtimer_res"]
    elif bit & dp.VDSO_COARSE:
        ns = dp.LOW_RES_NSEC
    else:
        return _fallback(nr)
    return Result(values=None if null else (0, ns))


def gettimeofday(page0: dict, page1: dict | None, tb: int, want_tv: bool = True,
                 want_tz: bool = True) -> Result | str:
    tv = None
    if want_tv:
        ts = clock_gettime(page0, page1, dp.CLOCKS["CLOCK_REALTIME"], tb)
        if ts == SPIN:
            return SPIN
        sec, nsec = ts.values
        tv = (sec, (nsec & MASK32) // 1000)
    tz = None
    if want_tz:
        d0 = real_page(page0, page1)["data"][0] if _is_timens(page0) else page0["data"][0]
        tz = (d0["tz_minuteswest"], d0["tz_dsttime"])
    return Result(values=(tv, tz))


def time(page0: dict, page1: dict | None) -> Result:
    page = real_page(page0, page1) if _is_timens(page0) else page0
    sec = page["data"][0]["basetime"][dp.CLOCKS["CLOCK_REALTIME"]][0]
    return Result(rc=sec, values=(sec,))


def get_tbfreq(page0: dict, page1: dict | None) -> Result:
    freq = real_page(page0, page1)["tb_ticks_per_sec"]
    return Result(rc=freq, values=(freq,))


def syscall_map(target: Target, page0: dict, page1: dict | None) -> Result:
    """Which vvar page get_syscall_map points into (0 or 1), the map's offset in it, and
    the count it stores."""
    which = 1 if _is_timens(page0) else 0
    offset = dp.layout_for(target).field("syscall_map").offset
    return Result(rc=which, values=(offset, dp.NR_SYSCALLS))


def getcpu(sprg: int) -> Result:
    """``getcpu(&cpu, &node)`` with the per-CPU SPRG value the kernel wrote."""
    return Result(values=(sprg & 0xFFFF, (sprg >> 16) & 0xFFFF))


def truncate32(result: Result | str) -> Result | str:
    """A result as the 32-bit-time entries store it (low 32 bits of each value)."""
    if not isinstance(result, Result) or result.values is None:
        return result
    return Result(result.rc & MASK32, result.so,
                  tuple(v & MASK32 if isinstance(v, int) else v for v in result.values),
                  result.syscall)
