"""The instruction counting of ``make bench``'s 6.1 fast paths (bench/pathlen61.py) on a
tiny known trace in qemu-user's ``-d exec,nochain`` format: one run of in-image PCs per
call, the caller's instructions and other log lines not counted."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import pathlen61  # noqa: E402

TEXT, SIZE = 0x7F0000020000, 0x1000


def trace(pc: int, symbol: str = "") -> str:
    return f"Trace 0: 0x7f8e18000100 [0000000000000000/{pc:016x}/02806105/00000201] {symbol}"


def test_one_run_per_call_caller_not_counted():
    caller = [trace(0x10002218, "main"), trace(0x1000221C, "main")]
    first = [trace(TEXT + 0x800 + 4 * i) for i in range(5)]  # entry .. blr
    second = [trace(TEXT + 0xF00), trace(TEXT + 0xF04), trace(TEXT)]  # a branch back to 0
    log = [*caller, *first, "IN: unrelated line", trace(0x10002220, "main"), *second,
           trace(TEXT + SIZE), *caller]  # TEXT + SIZE is outside [TEXT, TEXT + SIZE)
    pcs = list(pathlen61.traced_pcs(log))
    assert len(pcs) == len(log) - 1  # every Trace line, nothing else
    assert pathlen61.runs_in_range(pcs, TEXT, TEXT + SIZE) == [5, 3]


def test_no_call_no_run():
    assert pathlen61.runs_in_range(pathlen61.traced_pcs([trace(0x10002218)]), TEXT,
                                   TEXT + SIZE) == []
