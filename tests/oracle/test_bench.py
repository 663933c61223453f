"""``make bench`` keeps working: one short round of bench/bench.py, and its verdicts.

Nothing here is timed — the benchmark is where speed is judged (docs/performance.md). This
checks what the benchmark's numbers rest on: it runs the GNU pipeline and vdsotool on the
same sources, finds the image and the offsets header byte-identical, counts the same
instructions on the fast paths under qemu in both images, and writes its JSON report with
a verdict for every target of issue 8.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, need_tool

sys.path.insert(0, str(ROOT / "bench"))
import bench  # noqa: E402

from vdsotool.abi.targets import TARGETS  # noqa: E402


def test_one_round_of_the_benchmark(tmp_path):
    target = TARGETS["ppc64"]
    for tool in ("as", "ld", "nm", "objcopy", "gcc"):
        need_tool(target.gnu_tool(tool))
    need_tool(target.qemu)
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--rounds", "1",
                          "--targets", "ppc64", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(out.read_text())
    entry = report["targets"]["ppc64"]
    assert entry["image_identical"] and entry["offsets_identical"]
    assert entry["size"]["vdsotool"] == entry["size"]["gnu"] > 0
    for variant in bench.VARIANTS:
        assert entry["build"]["median_seconds"][variant] > 0, variant
    for fn in bench.PATH_FUNCTIONS:
        counts = entry["path_length"][fn]
        assert counts["vdsotool"] == counts["gnu"] > 5, fn
    assert 40 * 1024 <= report["dump"]["image_bytes"] < 48 * 1024
    assert report["python_bytecode"] is True
    verdicts = report["verdicts"]
    for name in ("build (every output) <= 1.5x GNU", "check <= 0.15 s", "dump <= 0.15 s",
                 "image size <= GNU ld's", "__kernel_gettimeofday path length equal to GNU's"):
        assert f"ppc64: {name}" in verdicts
    assert any(v.startswith("dump --all of a 40 KB image") for v in verdicts)
    for line in ("build time", "instructions executed", "6.1 fast paths", "PASS"):
        assert line in res.stdout
    ours = report["abi61"]["images"]["vdsotool"]["counts"]
    assert set(ours) == set(report["abi61"]["calls"]) and min(ours.values()) > 5


def _results(build: float, check: float, vd_size: int, gnu_size: int, dump: float) -> dict:
    timings = {"build_ratio": build, "median_seconds": {"check": check, "dump": 0.1}}
    return {"targets": {"ppc64": {"build": timings, "size": {"vdsotool": vd_size, "gnu": gnu_size},
                                  "image_identical": True, "offsets_identical": True,
                                  "path_length": {"f": {"vdsotool": 3, "gnu": 3}}}},
            "dump": {"median_seconds": dump},
            "abi61": {"calls": ["f"], "images": {"vdsotool": {"counts": {"f": 10}},
                                                 "Debian 6.1": {"counts": {"f": 10}},
                                                 "Debian 6.12": {"missing": "not cached"}}}}


@pytest.mark.parametrize("build,check,size,dump,failed", [
    (1.5, 0.15, 100, 0.5, set()),
    (1.51, 0.15, 100, 0.5, {"ppc64: build (every output) <= 1.5x GNU"}),
    (1.0, 0.16, 100, 0.5, {"ppc64: check <= 0.15 s"}),
    (1.0, 0.1, 101, 0.5, {"ppc64: image size <= GNU ld's"}),
    (1.0, 0.1, 100, 0.51, {"dump --all of a 40 KB image <= 0.5 s"}),
])
def test_verdicts_apply_the_limits(build, check, size, dump, failed):
    verdicts = bench.verdicts(_results(build, check, size, 100, dump))
    assert {name for name, ok in verdicts.items() if not ok} == failed


@pytest.mark.parametrize("ours,kernel,missing,failed", [
    (10, 10, False, set()),
    (11, 10, False, {"ppc64le 6.1: f path length <= the kernel's (Debian 6.1)"}),
    (11, 10, True, set()),  # no kernel image measured: no verdict, the table says so
])
def test_modern_path_verdicts(ours, kernel, missing, failed):
    results = _results(1.0, 0.1, 100, 100, 0.1)
    images = results["abi61"]["images"]
    images["vdsotool"]["counts"]["f"] = ours
    images["Debian 6.1"] = {"missing": "not cached"} if missing else {"counts": {"f": kernel}}
    verdicts = bench.verdicts(results)
    assert {name for name, ok in verdicts.items() if not ok} == failed
    assert any(name.startswith("ppc64le 6.1: f") for name in verdicts) is not missing
