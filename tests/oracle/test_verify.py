"""``vdsotool verify``: passes a good image of every target, fails a broken one with the
function and the reason, handles non-images as input errors."""

from __future__ import annotations

import json

import pytest
from conftest import need_tool, run_vdsotool
from gnu import built_image

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import load
from vdsotool.verify.run import defined_dynsyms


def need_exec(name):
    target = TARGETS[name]
    need_tool(target.gnu_tool("gcc"))
    need_tool(target.qemu)


@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_passes_good_image(name):
    need_exec(name)
    res = run_vdsotool(["verify", "--json", built_image("gnu", name)])
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["target"] == name and report["ok"]
    statuses = {r["symbol"]: r["status"] for r in report["results"]}
    for fn in ("__kernel_gettimeofday", "__kernel_get_syscall_map", "__kernel_sync_dicache",
               "__kernel_sync_dicache_p5", "__kernel_datapage_offset"):
        assert statuses[fn] == "pass"


@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_catches_broken_function(name, tmp_path):
    """Replace gettimeofday's first instructions by 'li r3,1; blr': verify must fail it."""
    need_exec(name)
    target = TARGETS[name]
    path = built_image("gnu", name)
    data = bytearray(path.read_bytes())
    at = defined_dynsyms(load(str(path)))["__kernel_gettimeofday"]
    order = "little" if target.little else "big"
    data[at:at + 8] = (0x38600001).to_bytes(4, order) + (0x4E800020).to_bytes(4, order)
    broken = tmp_path / "broken.so"
    broken.write_bytes(bytes(data))
    res = run_vdsotool(["verify", broken])
    assert res.returncode == 1
    line = next(l for l in res.stdout.splitlines() if "__kernel_gettimeofday" in l)
    assert "FAIL" in line and "returned 1" in line
    assert "PASS  __kernel_sync_dicache " in res.stdout






@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_no_exec_structure_only(name):
    res = run_vdsotool(["verify", "--no-exec", built_image("gnu", name)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SKIP" in res.stdout and "execution not requested" in res.stdout


@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_checks_sigtramp_sequence(name, tmp_path):
    """A trampoline whose sc is gone is not recognisable by unwinders: verify fails it."""
    target = TARGETS[name]
    path = built_image("gnu", name)
    tramp = "__kernel_sigtramp_rt64" if target.bits == 64 else "__kernel_sigtramp_rt32"
    at = defined_dynsyms(load(str(path)))[tramp]
    data = bytearray(path.read_bytes())
    words = [int.from_bytes(data[at + i:at + i + 4], target.byteorder) for i in range(0, 16, 4)]
    sc = words.index(0x44000002)
    data[at + 4 * sc:at + 4 * sc + 4] = (0x60000000).to_bytes(4, target.byteorder)  # nop
    broken = tmp_path / "broken.so"
    broken.write_bytes(bytes(data))
    res = run_vdsotool(["verify", "--no-exec", broken])
    assert res.returncode == 1
    line = next(l for l in res.stdout.splitlines() if tramp in l)
    assert "FAIL" in line and "sigreturn sequence" in line


@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_reports_corrupted_structure(name, tmp_path):
    """A PT_LOAD without PF_X and an emptied .hash: verify runs the image check of
    'vdsotool check' and fails the image with one (structure) row per defect, at its
    image offset."""
    from vdsotool.elf import read

    target = TARGETS[name]
    data = bytearray(built_image("gnu", name).read_bytes())
    img = read(bytes(data), "x")
    load = next(p for p in img.phdrs if p.type == 1)
    flags_at = load.at + (4 if target.bits == 64 else 24)
    flags = int.from_bytes(data[flags_at:flags_at + 4], target.byteorder) & ~1  # drop PF_X
    data[flags_at:flags_at + 4] = flags.to_bytes(4, target.byteorder)
    hash_sec = img.section(".hash")
    data[hash_sec.offset + 8:hash_sec.offset + hash_sec.size] = bytes(hash_sec.size - 8)
    broken = tmp_path / "broken.so"
    broken.write_bytes(bytes(data))
    res = run_vdsotool(["verify", "--no-exec", broken])
    assert res.returncode == 1 and "Traceback" not in res.stderr
    rows = [l for l in res.stdout.splitlines() if "(structure)" in l]
    assert len(rows) == 2 and all(r.split()[0] == "FAIL" for r in rows)
    assert "PT_LOAD flags R--, need R-X" in rows[0] and f"[+{load.at:#x}]" in rows[0]
    assert "DT_HASH (.hash) loses" in rows[1] and "__kernel_gettimeofday" in rows[1]
    assert res.stdout.rstrip().endswith("FAILED")
    res = run_vdsotool(["verify", "--no-exec", "--json", broken])
    report = json.loads(res.stdout)
    assert not report["ok"] and [r["status"] for r in report["results"]
                                 if r["symbol"] == "(structure)"] == ["fail", "fail"]


@pytest.mark.parametrize("name", list(TARGETS))
def test_verify_structure_row_passes_on_good_image(name):
    res = run_vdsotool(["verify", "--no-exec", built_image("gnu", name)])
    assert "PASS  (structure)" in res.stdout and "no defects" in res.stdout


def test_harness_key_covers_the_compiler(tmp_path):
    """A different compiler (path, size, mtime) means a different harness binary; where the
    binaries live and why they may be run: tests/unit/test_harness_private.py and
    tests/oracle/test_verify_harness.py."""
    from vdsotool.verify import harness

    fake = tmp_path / "gcc"
    fake.write_text("one")
    first = harness.compiler_identity(str(fake))
    fake.write_text("two, longer")
    assert harness.compiler_identity(str(fake)) != first
