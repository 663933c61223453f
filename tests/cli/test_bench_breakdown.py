"""bench/breakdown.py keeps working: one round, every piece of the cold build measured.

Nothing is timed against a limit (docs/performance.md is where the numbers are read); this
checks that each piece is measured at all.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

from conftest import ROOT


def test_one_round_of_the_breakdown():
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "breakdown.py"), "--rounds", "1",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    ms = json.loads(res.stdout)
    pieces = ("start", "imports", "records", "keystone", "includes", "assemble", "link",
              "check", "offsets", "cold")
    # Only that every piece was measured: some pieces are differences of two timings, which a
    # busy machine can make negative, and the suite never judges timings (make bench does).
    assert set(pieces) <= set(ms), sorted(set(pieces) - set(ms))
    assert all(isinstance(ms[p], (int, float)) and math.isfinite(ms[p]) for p in pieces), ms
    assert ms["cold"] > 0, "a whole cold build took some time"


def test_the_imports_row_imports_what_a_cold_build_imports(tmp_path):
    """The "imports" piece imports BUILD_IMPORTS: each must be a module a cold
    ``build --emit offsets`` really imports (keystone's binding aside), or the row would
    charge the build for modules it no longer loads."""
    from conftest import imported_modules, run_vdsotool

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from breakdown import BUILD_IMPORTS
    finally:
        sys.path.remove(str(ROOT / "bench"))
    res = run_vdsotool(["build", "--bits", "64", "--emit", "offsets", "--out", tmp_path / "out"],
                       tmp_path, importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    imported = imported_modules(res.stderr)
    assert set(BUILD_IMPORTS) <= imported, sorted(set(BUILD_IMPORTS) - imported)
    assert "vdsotool.assemble.keystone_lib" not in BUILD_IMPORTS
