"""The execution checks of the 6.1 ABI: every export run under qemu-user (harness61.c)
against the model (vdsotool/verify/model61.py).

Each check is named as in the exports manifest (vdsotool/abi/exports.py ``check``) and
returns the problems it found (empty: pass). :func:`run_checks` runs the manifest's checks
for an image and gives one row per export; an export whose check does not exist here is a
failure ("not verified"), never a pass.

Clock states: the exact checks use ``mult = 0`` (the result does not depend on the
timebase, as the reference's Q vectors) with distinct basetime values per clock, then a
time-namespace page in front; the timebase check uses the kernel's mult/shift for 512 MHz
with cycle_last near the current timebase, and the result must lie between the model's
predictions at two timebase reads bracketing the call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vdsotool.abi import datapage61 as dp
from vdsotool.abi.exports import Export
from vdsotool.abi.targets import Target
from vdsotool.util.records import record
from vdsotool.verify import harness61
from vdsotool.verify import model61 as m

CLK = dp.CLOCKS
SERVED = ("CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE",
          "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_TAI")
SYSCALL_IDS = (2, 3, 8, 9, 10, 12, 15, 16, -1)  # served by the real syscall
OFFSET = (86400, 600000000)  # the namespace offset (Q9)
HRTIMER_RES = 7  # not 1, so a wrong field is seen
SYSCALLS_SET = (0, 1, 78, 172, 246, 450)


@record(frozen=True)
class Context:
    target: Target
    image: Path
    page_size: int

    def run(self, commands: list[str]) -> list[dict[str, str]]:
        return harness61.run(self.target, self.image, self.page_size, commands)


def exact_clocks() -> m.Clocks:
    """mult 0: every clock's value is its basetime, normalised (Q1-Q5 of the reference)."""
    zero = m.ClockBase(mult=0, shift=24)
    basetime = {CLK["CLOCK_MONOTONIC"]: (1000, 2500000000 << 24),
                CLK["CLOCK_REALTIME"]: (1700000000, 999999999 << 24),
                CLK["CLOCK_BOOTTIME"]: (2000, 1 << 24),
                CLK["CLOCK_TAI"]: (1700000037, 0),
                CLK["CLOCK_MONOTONIC_RAW"]: (777, 5 << 24),
                CLK["CLOCK_MONOTONIC_COARSE"]: (1234, 999999999),
                CLK["CLOCK_REALTIME_COARSE"]: (1700000000, 123456789)}
    return m.Clocks(mono=zero, raw=zero, basetime=basetime, tz_minuteswest=-60, tz_dsttime=1,
                    hrtimer_res=HRTIMER_RES, syscall_map=SYSCALLS_SET)


def namespace_page() -> dict[str, object]:
    mono = {CLK[c]: OFFSET for c in ("CLOCK_MONOTONIC", "CLOCK_MONOTONIC_COARSE",
                                     "CLOCK_BOOTTIME")}
    return dp.timens_values(mono, {CLK["CLOCK_MONOTONIC_RAW"]: OFFSET})


class _Pages:
    """The two vvar pages of a state, as bytes for the harness and as field dicts for the
    model."""

    def __init__(self, ctx: Context, clocks: m.Clocks, timens: dict | None = None) -> None:
        size = ctx.page_size
        self.raw = m.vvar(ctx.target, size, clocks, timens)
        self.page0 = dp.unpack(ctx.target, self.raw[:size])
        self.page1 = dp.unpack(ctx.target, self.raw[size:]) if timens is not None else None
        self.commands = harness61.vvar_commands(self.raw, size)


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _clock_entry(target: Target, name: str) -> tuple[str, bool, int]:
    """(harness command, 64-bit result fields, fallback syscall) of a clock_gettime entry."""
    if name == "__kernel_clock_gettime64":
        return "cgt64", True, dp.SYSCALLS["__NR_clock_gettime64"]
    return "cgt", target.bits == 64, dp.SYSCALLS["__NR_clock_gettime"]


def _expect_values(problems: list, what: str, got: dict, expected: m.Result | str,
                   wide: bool) -> None:
    if expected == m.SPIN or expected.values is None:
        problems.append(f"{what}: the model has no value (internal)")
        return
    bits = 64 if wide else 32
    want = tuple(_signed(v, bits) for v in expected.values)
    have = (int(got.get("sec", "0")), int(got.get("nsec", "0")))
    if got.get("rc") != "0" or got.get("so") != "0" or have != want:
        problems.append(f"{what}: got rc={got.get('rc')} so={got.get('so')} {have}, "
                        f"expected rc=0 so=0 {want}")


def check_clock_gettime(ctx: Context, export: str) -> list[str]:
    cmd, wide, nr = _clock_entry(ctx.target, export)
    problems: list[str] = []
    exact = _Pages(ctx, exact_clocks())
    ns = _Pages(ctx, exact_clocks(), namespace_page())
    ids = [CLK[c] for c in SERVED]
    commands = exact.commands + [f"{cmd} {i}" for i in ids]
    commands += [f"{cmd} {i}" for i in SYSCALL_IDS] + [f"cgtsys {i}" for i in SYSCALL_IDS]
    commands += ns.commands + [f"{cmd} {i}" for i in ids]
    # the timebase path: the kernel's mult/shift, cycle_last a little in the past
    results = ctx.run(commands)
    at = 0
    for pages, label in ((exact, ""), (ns, " in a time namespace")):
        for clk in ids:
            r = results[at]
            at += 1
            _expect_values(problems, f"{export}({clk}){label}", r,
                           m.clock_gettime(pages.page0, pages.page1, clk, 0, nr), wide)
        if pages is exact:
            sys_results = results[at + len(SYSCALL_IDS):at + 2 * len(SYSCALL_IDS)]
            for clk, r, sysr in zip(SYSCALL_IDS, results[at:], sys_results):
                errno = int(sysr["errno"])
                want = ("0", "0") if sysr["rc"] == "0" else (str(errno), "1")
                if (r.get("rc"), r.get("so")) != want:
                    problems.append(f"{export}({clk}) must be the syscall: rc={r.get('rc')} "
                                    f"so={r.get('so')}, the syscall gives rc/so {want}")
            at += 2 * len(SYSCALL_IDS)
    problems += _timebase_check(ctx, cmd, wide, export)
    problems += _seqlock_check(ctx, export)
    return problems


def _timebase_check(ctx: Context, cmd: str, wide: bool, export: str) -> list[str]:
    """MONOTONIC and REALTIME with the real timebase: between the model at tb0 and tb1."""
    tb = int(ctx.run([f"{cmd} 0"])[0]["tb0"])
    base = m.ClockBase(cycle_last=tb - 3 * m.TPS // 2)  # 1.5 s before now, wide margins
    clocks = m.Clocks(mono=base, raw=base,
                      basetime={0: (1700000000, 999999000 << 24), 1: (5000, 0),
                                4: (6000, 123 << 24)})
    pages = _Pages(ctx, clocks)
    problems = []
    for clk in (0, 1, 4):
        r = ctx.run(pages.commands + [f"{cmd} {clk}"])[0]
        lo = m.clock_gettime(pages.page0, None, clk, int(r["tb0"])).values
        hi = m.clock_gettime(pages.page0, None, clk, int(r["tb1"])).values
        bits = 64 if wide else 32
        have = (int(r["sec"]) & ((1 << bits) - 1), int(r["nsec"]))
        lo = (lo[0] & ((1 << bits) - 1), lo[1])
        hi = (hi[0] & ((1 << bits) - 1), hi[1])
        if r["rc"] != "0" or r["so"] != "0" or not lo <= have <= hi:
            problems.append(f"{export}({clk}) with the timebase: {have} not within "
                            f"[{lo}, {hi}]")
    return problems


def _seqlock_check(ctx: Context, export: str) -> list[str]:
    """An odd seq (the kernel mid-update) must hold the reader until it is even, and the
    callee-saved registers must survive a call."""
    if export != "__kernel_clock_gettime":
        return []
    pages = _Pages(ctx, exact_clocks())
    problems = []
    for clk in (CLK["CLOCK_MONOTONIC"], CLK["CLOCK_MONOTONIC_RAW"], CLK["CLOCK_MONOTONIC_COARSE"]):
        r = ctx.run(pages.commands + [f"oddwait {clk} 150"])[0]
        if r != {"cmd": "oddwait", "blocked": "1", "done": "1",
                 "sec": str(m.clock_gettime(pages.page0, None, clk, 0).values[0])}:
            problems.append(f"torn read of clock {clk} (odd seq): {r}")
    r = ctx.run(pages.commands + ["regs 1"])[0]
    if r != {"cmd": "regs", "bad": "0", "r2": "1", "r13": "1", "cr_kept": "1"}:
        problems.append(f"callee-saved registers not kept: {r}")
    return problems


def check_clock_getres(ctx: Context, export: str) -> list[str]:
    problems: list[str] = []
    for pages, label in ((_Pages(ctx, exact_clocks()), ""),
                         (_Pages(ctx, exact_clocks(), namespace_page()), " in a namespace")):
        ids = [CLK[c] for c in SERVED]
        results = ctx.run(pages.commands + [f"res {i}" for i in ids] + ["resnull 1"]
                          + [f"res {i}" for i in SYSCALL_IDS]
                          + [f"ressys {i}" for i in SYSCALL_IDS])
        for clk, r in zip(ids, results):
            want = m.clock_getres(pages.page0, pages.page1, clk).values
            have = (int(r["sec"]), int(r["nsec"]))
            if r["rc"] != "0" or r["so"] != "0" or have != want:
                problems.append(f"{export}({clk}){label}: {have}, expected {want}")
        null = results[len(ids)]
        if (null["rc"], null["so"], null["untouched"]) != ("0", "0", "1"):
            problems.append(f"{export}(1, NULL): {null}")
        calls = results[len(ids) + 1:len(ids) + 1 + len(SYSCALL_IDS)]
        for clk, r, sysr in zip(SYSCALL_IDS, calls, results[len(ids) + 1 + len(SYSCALL_IDS):]):
            want = ("0", "0") if sysr["rc"] == "0" else (sysr["errno"], "1")
            if (r["rc"], r["so"]) != want:
                problems.append(f"{export}({clk}){label} must be the syscall: rc={r['rc']} "
                                f"so={r['so']}, the syscall gives rc/so {want}")
    return problems


def check_gettimeofday(ctx: Context, export: str) -> list[str]:
    problems: list[str] = []
    for pages, label in ((_Pages(ctx, exact_clocks()), ""),
                         (_Pages(ctx, exact_clocks(), namespace_page()), " in a namespace")):
        results = ctx.run(pages.commands + ["gtod", "gtod_nulltz", "gtod_nulltv"])
        want = m.gettimeofday(pages.page0, pages.page1, 0).values
        bits = ctx.target.bits
        tv = tuple(_signed(v, bits) for v in want[0])
        for r, with_tv, with_tz in zip(results, (1, 1, 0), (1, 0, 1)):
            have_tv = (int(r["sec"]), int(r["usec"]))
            have_tz = (int(r["minw"]), int(r["dst"]))
            ok = r["rc"] == "0" and r["so"] == "0"
            ok &= have_tv == (tv if with_tv else (-1, -1))
            ok &= have_tz == (want[1] if with_tz else (0x5A5A5A5A, 0x5A5A5A5A))
            if not ok:
                problems.append(f"{export}{label} (tv {'set' if with_tv else 'NULL'}, tz "
                                f"{'set' if with_tz else 'NULL'}): {r}, expected tv {tv} "
                                f"tz {want[1]}")
    return problems + _gettimeofday_timebase(ctx, export)


def _gettimeofday_timebase(ctx: Context, export: str) -> list[str]:
    """tv with the real timebase: between the model's values at tb0 and tb1."""
    tb = int(ctx.run(["gtod_nulltz"])[0]["tb0"])
    base = m.ClockBase(cycle_last=tb - 3 * m.TPS // 2)
    pages = _Pages(ctx, m.Clocks(mono=base, basetime={0: (1700000000, 999999000 << 24)}))
    r = ctx.run(pages.commands + ["gtod_nulltz"])[0]
    lo, hi = (m.gettimeofday(pages.page0, None, int(r[k]), want_tz=False).values[0]
              for k in ("tb0", "tb1"))
    have = (int(r["sec"]), int(r["usec"]))
    if r["rc"] != "0" or r["so"] != "0" or not lo <= have <= hi:
        return [f"{export} with the timebase: {have} not within [{lo}, {hi}]"]
    return []


def check_time(ctx: Context, export: str) -> list[str]:
    problems: list[str] = []
    for pages, label in ((_Pages(ctx, exact_clocks()), ""),
                         (_Pages(ctx, exact_clocks(), namespace_page()), " in a namespace")):
        want = _signed(m.time(pages.page0, pages.page1).rc, ctx.target.bits)
        r, rnull = ctx.run(pages.commands + ["time", "timenull"])
        if (int(r["rc"]), r["so"], int(r["stored"])) != (want, "0", want):
            problems.append(f"{export}(&t){label}: {r}, expected {want}")
        if (int(rnull["rc"]), rnull["so"], int(rnull["stored"])) != (want, "0", 0x5A5A5A5A):
            problems.append(f"{export}(NULL){label}: {rnull}, expected {want}")
    return problems


def check_tbfreq(ctx: Context, export: str) -> list[str]:
    problems: list[str] = []
    clocks = m.Clocks(tb_ticks_per_sec=0x1_2345_6789)  # both words matter on ppc32
    for pages in (_Pages(ctx, clocks), _Pages(ctx, clocks, namespace_page())):
        r = ctx.run(pages.commands + ["tbfreq"])[0]
        want = m.get_tbfreq(pages.page0, pages.page1).rc
        if (int(r["freq"]), r["so"]) != (want, "0"):
            problems.append(f"{export}: {r}, expected {want}")
    return problems


def check_syscall_map(ctx: Context, export: str) -> list[str]:
    problems: list[str] = []
    for pages in (_Pages(ctx, exact_clocks()), _Pages(ctx, exact_clocks(), namespace_page())):
        want = m.syscall_map(ctx.target, pages.page0, pages.page1)
        r, rnull = ctx.run(pages.commands + ["map", "map_null"])
        expected = {"cmd": "map", "page": str(want.rc), "off": str(want.values[0]),
                    "count": str(want.values[1]), "so": "0"}
        if r != expected:
            problems.append(f"{export}: {r}, expected {expected}")
        if rnull != expected | {"count": str(0xDEADBEEF)}:
            problems.append(f"{export}(NULL): {rnull}")
    return problems


def check_getcpu(ctx: Context, export: str) -> list[str]:
    # qemu-user reads USPRG3 as 0; a 32-bit UP kernel's getcpu stores 0 (§4.7)
    want = m.getcpu(0).values
    r, rnull = ctx.run(["getcpu", "getcpu_null"])
    problems = []
    if (r["rc"], r["so"], int(r["cpu"]), int(r["node"])) != ("0", "0", *want):
        problems.append(f"{export}: {r}, expected cpu/node {want}")
    if (rnull["rc"], rnull["so"], rnull["cpu"], rnull["node"]) != ("0", "0", str(0xDEADBEEF),
                                                                   str(0xDEADBEEF)):
        problems.append(f"{export}(NULL, NULL): {rnull}")
    return problems


def check_sync_dicache(ctx: Context, export: str) -> list[str]:
    pages = _Pages(ctx, exact_clocks())
    r = ctx.run(pages.commands + ["icache"])[0]
    want = {"cmd": "icache", "rc": "0,0,0", "so": "0,0,0", "first": "111", "second": "222"}
    return [] if r == want else [f"{export} on self-modified code: {r}, expected {want}"]


CHECKS: dict[str, Callable[[Context, str], list[str]]] = {
    "clock_gettime": check_clock_gettime,
    "clock_getres": check_clock_getres,
    "gettimeofday": check_gettimeofday,
    "time": check_time,
    "tbfreq": check_tbfreq,
    "syscall_map": check_syscall_map,
    "getcpu": check_getcpu,
    "sync_dicache": check_sync_dicache,
}


def run_checks(target: Target, image: str | Path, page_size: int,
               exports: tuple[Export, ...],
               checks: dict[str, Callable] | None = None) -> list[tuple[str, str, str]]:
    """(export, "pass"|"fail", reason) for each export of the manifest, in its order.
    Exports of kind "sigtramp" are left to the structural checks (not run here)."""
    table = CHECKS if checks is None else checks
    ctx = Context(target, Path(image), page_size)
    rows = []
    for export in exports:
        if export.kind == "sigtramp":
            continue
        check = table.get(export.check)
        if check is None:
            rows.append((export.name, "fail", f"not verified: no check '{export.check}'"))
            continue
        try:
            problems = check(ctx, export.name)
        except harness61.HarnessError as err:
            problems = [str(err)]
        rows.append((export.name, "fail" if problems else "pass", "; ".join(problems)))
    return rows
