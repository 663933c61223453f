"""The Linux 6.1 sources, built by GNU as/ld, run under qemu-user against the 6.1 model
(vdsotool/verify/checks61.py): every export of the manifest, both page sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import need_tool
from gnu import gnu_build

from vdsotool.abi import abis
from vdsotool.abi.targets import TARGETS
from vdsotool.verify import checks61

ABI = abis.ABI_6_1
CASES = [("ppc64le", 65536), ("ppc64le", 4096), ("ppc64", 65536), ("ppc64", 4096),
         ("ppc32", 4096)]
_BUILT: dict[tuple[str, int], Path] = {}


def gnu_image(name: str, page_size: int, tmp_path_factory) -> Path:
    target = TARGETS[name]
    for tool in (target.gnu_tool("gcc"), target.qemu):
        need_tool(tool)
    key = (name, page_size)
    if key not in _BUILT:
        work = tmp_path_factory.mktemp(f"gnu61-{name}-{page_size}")
        _BUILT[key] = gnu_build(target, work, abi=ABI, page_size=page_size)
    return _BUILT[key]


@pytest.mark.parametrize("name,page_size", CASES)
def test_every_export_against_the_model(name, page_size, tmp_path_factory):
    target = TARGETS[name]
    image = gnu_image(name, page_size, tmp_path_factory)
    rows = checks61.run_checks(target, image, page_size, ABI.exports_for(target))
    failed = [row for row in rows if row[1] != "pass"]
    assert not failed, failed
    callable_exports = {e.name for e in ABI.exports_for(target) if e.kind == "function"}
    assert {row[0] for row in rows} == callable_exports


def test_a_broken_clock_path_fails_naming_the_export(tmp_path_factory, tmp_path):
    """The shift of the high-resolution path replaced by a nop: clock_gettime must fail."""
    target = TARGETS["ppc64le"]
    image = gnu_image("ppc64le", 65536, tmp_path_factory)
    data = bytearray(image.read_bytes())
    srd = (0x7C000436 | 9 << 21 | 9 << 16 | 6 << 11).to_bytes(4, "little")  # srd r9,r9,r6
    at = data.index(srd)
    data[at:at + 4] = (0x60000000).to_bytes(4, "little")
    broken = tmp_path / "broken.so"
    broken.write_bytes(bytes(data))
    rows = dict((row[0], row[1:]) for row in checks61.run_checks(
        target, broken, 65536, ABI.exports_for(target)))
    assert rows["__kernel_clock_gettime"][0] == "fail"
    assert "__kernel_clock_gettime(1)" in rows["__kernel_clock_gettime"][1]
    assert rows["__kernel_time"][0] == "pass"


def test_an_export_without_a_check_is_not_verified(tmp_path_factory):
    target = TARGETS["ppc64le"]
    image = gnu_image("ppc64le", 65536, tmp_path_factory)
    checks = dict(checks61.CHECKS)
    del checks["getcpu"]
    rows = {row[0]: row[1:] for row in checks61.run_checks(
        target, image, 65536, ABI.exports_for(target), checks)}
    assert rows["__kernel_getcpu"] == ("fail", "not verified: no check 'getcpu'")
