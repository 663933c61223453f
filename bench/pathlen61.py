"""Fast-path instruction counts of today's (6.1) vDSO exports, for ``make bench``.

Our ppc64le 6.1 image (``vdsotool build --bits 64 --endian little --abi 6.1``) and the
Debian 6.1 and 6.12 ppc64el images (``scripts/fetch-debian-vdso.py`` caches them; a missing
one is a row that says so) each run once under the 6.1 execution harness of ``vdsotool
verify`` (vdsotool/verify/harness/harness61.c) with ``qemu-ppc64le -singlestep -d
exec,nochain``: with one instruction per translation block and no chaining, qemu logs every
executed guest instruction as a ``Trace`` line with its PC. Every image gets the same data
page (:func:`clocks`), its page size read from its own code (``run61.vvar_page_size``); the
calls of :data:`CALLS` run one after another in that one process. The harness's own code
runs between two calls, so the log's in-image PCs come in one unbroken run per call
(:func:`runs_in_range`), from the entry to the final ``blr`` — as reference §6 counts the
kernel's. Each call's result must be the model's fast-path prediction (vdsotool/verify/
model61.py): a call that fell back to the syscall or retried is an error, not a count.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import TARGETS
from vdsotool.verify import harness61
from vdsotool.verify import model61 as m
from vdsotool.verify.run61 import vvar_page_size

TARGET = TARGETS["ppc64le"]
CLK = dp.CLOCKS
QEMU_TRACE = ("-singlestep", "-d", "exec,nochain")

# (row label, harness command): the fast path of every time export of the 6.1 manifest
CALLS = (
    ("clock_gettime(REALTIME)", f"cgt {CLK['CLOCK_REALTIME']}"),
    ("clock_gettime(MONOTONIC)", f"cgt {CLK['CLOCK_MONOTONIC']}"),
    ("clock_gettime(MONOTONIC_RAW)", f"cgt {CLK['CLOCK_MONOTONIC_RAW']}"),
    ("clock_gettime(REALTIME_COARSE)", f"cgt {CLK['CLOCK_REALTIME_COARSE']}"),
    ("clock_gettime(MONOTONIC_COARSE)", f"cgt {CLK['CLOCK_MONOTONIC_COARSE']}"),
    ("gettimeofday(tv, NULL)", "gtod_nulltz"),
    ("gettimeofday(tv, tz)", "gtod"),
    ("time(&t)", "time"),
    ("time(NULL)", "timenull"),
    ("clock_getres(MONOTONIC, &ts)", f"res {CLK['CLOCK_MONOTONIC']}"),
    ("get_tbfreq()", "tbfreq"),
    ("get_syscall_map(&n)", "map"),
)

_TRACE_PC = re.compile(r"^Trace [^\[]*\[[0-9a-fA-F]+/([0-9a-fA-F]+)/")


def clocks() -> m.Clocks:
    """The data page every image runs on: ``mult`` 0, so each time value is its basetime
    whatever the timebase reads (no run can cross a second and take the kernel's
    subtract-a-second loop), and every nanosecond value below one second; seq even."""
    zero = m.ClockBase(mult=0, shift=m.SHIFT)
    basetime = {CLK["CLOCK_REALTIME"]: (1700000000, 123456789 << m.SHIFT),
                CLK["CLOCK_MONOTONIC"]: (1000, 500000000 << m.SHIFT),
                CLK["CLOCK_BOOTTIME"]: (2000, 1 << m.SHIFT),
                CLK["CLOCK_TAI"]: (1700000037, 123456789 << m.SHIFT),
                CLK["CLOCK_MONOTONIC_RAW"]: (777, 5 << m.SHIFT),
                CLK["CLOCK_REALTIME_COARSE"]: (1700000000, 120000000),
                CLK["CLOCK_MONOTONIC_COARSE"]: (1000, 490000000)}
    return m.Clocks(mono=zero, raw=zero, basetime=basetime, tz_minuteswest=-60, tz_dsttime=0,
                    hrtimer_res=1, syscall_map=(78, 172, 246, 247))


def traced_pcs(log: Iterable[str]):
    """The PC of every ``Trace`` line of a qemu ``-d exec`` log, in order."""
    for line in log:
        found = _TRACE_PC.match(line)
        if found:
            yield int(found.group(1), 16)


def runs_in_range(pcs: Iterable[int], lo: int, hi: int) -> list[int]:
    """The lengths of the maximal unbroken runs of PCs in ``[lo, hi)``: one per call into
    the image when the caller's code runs between calls."""
    runs: list[int] = []
    inside = False
    for pc in pcs:
        if lo <= pc < hi:
            if inside:
                runs[-1] += 1
            else:
                runs.append(1)
            inside = True
        else:
            inside = False
    return runs


def _fast_path_problem(command: str, got: dict[str, str], page0: dict) -> str | None:
    """Why ``got`` is not the model's fast-path result of ``command`` (None: it is)."""
    name, _, arg = command.partition(" ")
    want_rc = m.time(page0, None).rc if name in ("time", "timenull") else 0
    if got.get("so", "0") != "0" or int(got.get("rc", want_rc)) != want_rc:
        return f"rc={got.get('rc')} so={got.get('so')}"
    if name == "cgt":
        want = m.clock_gettime(page0, None, int(arg), 0)
        if not isinstance(want, m.Result) or want.syscall is not None \
                or (int(got["sec"]), int(got["nsec"])) != want.values:
            return f"sec={got['sec']} nsec={got['nsec']}, the model says {want}"
    if name == "tbfreq" and int(got["freq"]) != m.TPS:
        return f"freq={got['freq']}"
    return None


def count_image(image: Path) -> dict[str, int]:
    """Instructions executed in ``image`` by each call of :data:`CALLS`, by label."""
    data = image.read_bytes()
    page_size, how = vvar_page_size(TARGET, data)
    if page_size is None:
        raise RuntimeError(f"{image}: {how}")
    raw = m.vvar(TARGET, page_size, clocks())
    page0 = dp.unpack(TARGET, raw[:page_size])
    commands = ["info", *harness61.vvar_commands(raw, page_size), *(c for _, c in CALLS)]
    with tempfile.NamedTemporaryFile(prefix="vdsotool-trace-", suffix=".log") as log:
        results = harness61.run(TARGET, image, page_size, commands, timeout=600,
                                qemu_args=(*QEMU_TRACE, "-D", log.name))
        info, calls = results[0], results[1:]
        if len(calls) != len(CALLS):
            raise RuntimeError(f"{image}: {len(calls)} results for {len(CALLS)} calls")
        for (label, command), got in zip(CALLS, calls):
            problem = _fast_path_problem(command, got, page0)
            if problem:
                raise RuntimeError(f"{image}: {label} did not take its fast path: {problem}")
        text = int(info["text"], 16)
        with open(log.name, errors="replace") as lines:
            runs = runs_in_range(traced_pcs(lines), text, text + len(data))
    if len(runs) != len(CALLS):
        raise RuntimeError(f"{image}: {len(runs)} runs of instructions for {len(CALLS)} calls")
    return {label: n for (label, _), n in zip(CALLS, runs)}
