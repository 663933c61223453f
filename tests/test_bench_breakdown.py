"""bench/breakdown.py keeps working: one round, every piece of the cold build measured.

Nothing is timed against a limit (docs/performance.md is where the numbers are read); this
checks that each piece is measured at all and that the pieces are parts of the whole.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_one_round_of_the_breakdown():
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "breakdown.py"), "--rounds", "1",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    ms = json.loads(res.stdout)
    for piece in ("start", "imports", "dataclasses", "keystone", "includes", "assemble", "link",
                  "check", "offsets", "cold"):
        assert ms[piece] > 0, piece
    assert ms["dataclasses"] < ms["imports"]
    assert ms["start"] + ms["assemble"] < ms["cold"]
