"""``vdsotool verify`` on images of the Linux 6.1 ABI: the ABI and the page size are read
from the image, every export of the 6.1 manifest runs under qemu-user against the model —
on our images and on Debian's kernel images — and a broken clock path fails, naming the
export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import need_tool, run_vdsotool

from vdsotool import pipeline
from vdsotool.abi import abis
from vdsotool.abi.targets import TARGETS


def verify_json(image: Path) -> tuple[int, dict]:
    res = run_vdsotool(["verify", "--json", image])
    assert "Traceback" not in res.stderr, res.stderr
    return res.returncode, json.loads(res.stdout)


def rows(report: dict) -> dict[str, tuple[str, str]]:
    return {r["symbol"]: (r["status"], r["reason"]) for r in report["results"]}


def tools(name: str) -> None:
    target = TARGETS[name]
    need_tool(target.gnu_tool("gcc"))
    need_tool(target.qemu)


@pytest.mark.parametrize("name,page_size", [("ppc64le", 65536), ("ppc64", 4096),
                                            ("ppc32", 4096)])
def test_our_images_pass(name, page_size, tmp_path):
    tools(name)
    target = TARGETS[name]
    outputs = pipeline.build_outputs(target, pipeline.find_source_root(None), tmp_path, None,
                                     page_size=page_size, abi=abis.ABI_6_1)
    image = Path(pipeline.image_path(tmp_path, target))
    image.write_bytes(outputs[str(image)])
    status, report = verify_json(image)
    got = rows(report)
    assert status == 0 and report["ok"], got
    assert got["(abi)"] == ("pass", f"Linux 6.1; vvar: 2 pages of {page_size // 1024} KiB "
                                    "before the text")
    exports = {e.name for e in abis.ABI_6_1.exports_for(target)}
    assert exports <= set(got) and all(got[n][0] == "pass" for n in exports)


def test_debian_6_1_passes(debian_vdso):
    tools("ppc64le")
    status, report = verify_json(debian_vdso("6.1"))
    got = rows(report)
    assert status == 0, got
    assert got["(abi)"][1].endswith("2 pages of 64 KiB before the text")
    assert got["__kernel_clock_gettime"][0] == "pass"


@pytest.mark.parametrize("version", ["6.12", "6.12-64k"])
def test_debian_6_12_needs_what_6_1_lacks(version, debian_vdso):
    """6.12 adds __kernel_getrandom (no 6.1 manifest entry: not verified) and has 463
    syscalls instead of 451; everything else passes the 6.1 checks."""
    tools("ppc64le")
    status, report = verify_json(debian_vdso(version))
    got = rows(report)
    failed = {n for n, (s, _) in got.items() if s == "fail"}
    assert status == 1 and failed == {"__kernel_getrandom", "__kernel_get_syscall_map"}, got
    assert got["__kernel_getrandom"][1].startswith("not verified")
    assert "count': '463'" in got["__kernel_get_syscall_map"][1]


def test_a_broken_copy_of_debian_6_1_fails_naming_the_export(debian_vdso, tmp_path):
    """The TB reads of the clock code replaced by li: clock_gettime and gettimeofday fail."""
    tools("ppc64le")
    data = bytearray(debian_vdso("6.1").read_bytes())
    mftb = [at for at in range(0, len(data) - 3, 4)
            if int.from_bytes(data[at:at + 4], "little") & 0xFC1FFFFF == 0x7C0C42A6]
    assert mftb, "the image reads the timebase"
    for at in mftb:  # mfspr rX,268 -> li rX,0 (the same register)
        reg = (int.from_bytes(data[at:at + 4], "little") >> 21) & 31
        data[at:at + 4] = (0x38000000 | reg << 21).to_bytes(4, "little")
    broken = tmp_path / "broken.so"
    broken.write_bytes(bytes(data))
    status, report = verify_json(broken)
    got = rows(report)
    assert status == 1
    assert got["__kernel_clock_gettime"][0] == "fail"
    assert "with the timebase" in got["__kernel_clock_gettime"][1]
    assert got["__kernel_gettimeofday"][0] == "fail"
    assert got["__kernel_time"][0] == "pass"
