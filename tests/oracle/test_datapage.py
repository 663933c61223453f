"""The data-page table (vdsotool/abi/datapage.py) against the reference layout (§2.1), and
everything generated from it: the asm include, the C header, the pack/unpack model."""

from __future__ import annotations

import subprocess

import pytest
from conftest import compile_header, need_tool, run_vdsotool
from gnu import write_includes

from vdsotool.abi import datapage
from vdsotool.abi.targets import TARGETS

# Reference §2.1 (2.6.12 struct systemcfg) — typed from the reference, not from our output.
REFERENCE_OFFSETS = {
    "eye_catcher": 0x00, "version_major": 0x10, "version_minor": 0x14, "platform": 0x18,
    "processor": 0x1C, "processorCount": 0x20, "physicalMemorySize": 0x28,
    "tb_orig_stamp": 0x30, "tb_ticks_per_sec": 0x38, "tb_to_xs": 0x40, "stamp_xsec": 0x48,
    "tb_update_count": 0x50, "tz_minuteswest": 0x58, "tz_dsttime": 0x5C,
    "dcache_size": 0x60, "dcache_line_size": 0x64, "icache_size": 0x68,
    "icache_line_size": 0x6C, "syscall_map_64": 0x70, "syscall_map_32": 0x94,
}


def test_offsets_match_reference():
    kernel = {f.name: f.offset for f in datapage.FIELDS if f.kernel}
    assert kernel == REFERENCE_OFFSETS
    assert datapage.KERNEL_SIZE == 0xB8 and datapage.SYSCALL_MAP_SIZE == 9
    extra = [f for f in datapage.FIELDS if not f.kernel]
    assert [f.name for f in extra] == ["test_timebase"] and extra[0].offset >= 0xB8


@pytest.mark.parametrize("name", list(TARGETS))
def test_pack_unpack_round_trip(name):
    target = TARGETS[name]
    values = {"tb_orig_stamp": 0x0102030405060708, "tz_minuteswest": 0xFFFFFFC4,
              "syscall_map_32": datapage.syscall_map([78, 119]), "test_timebase": 7}
    raw = datapage.pack(target, values)
    assert len(raw) == datapage.SIZE
    back = datapage.unpack(target, raw)
    for key, value in values.items():
        assert back[key] == value
    assert back["eye_catcher"] == b"SYSTEMCFG:PPC64\0"
    field = raw[0x30:0x38]
    assert field == (bytes(range(8, 0, -1)) if target.little else bytes(range(1, 9)))
    with pytest.raises(KeyError):
        datapage.pack(target, {"no_such_field": 1})


@pytest.mark.parametrize("name", list(TARGETS))
def test_asm_include_assembles_to_the_offsets(name, tmp_path):
    """GNU as reads the generated include; the symbol values it sees are the table's."""
    target = TARGETS[name]
    gas = need_tool(target.gnu_tool("as"))
    nm = need_tool(target.gnu_tool("nm"))
    write_includes(target, tmp_path)
    names = ["CFG_TB_ORIG_STAMP", "CFG_TB_UPDATE_COUNT_LO", "CFG_STAMP_XSEC_HI",
             "CFG_SYSCALL_MAP", "CFG_TEST_TIMEBASE", "__NR_gettimeofday", "__NR_syscalls"]
    src = tmp_path / "t.S"
    src.write_text('.include "vdso_datapage.inc"\n' +
                   "".join(f".globl {n}\n" for n in names))
    subprocess.run([gas, *target.gnu_as_flags, "-I", str(tmp_path), "-o",
                    str(tmp_path / "t.o"), str(src)], check=True)
    out = subprocess.run([nm, str(tmp_path / "t.o")], capture_output=True, text=True,
                         check=True).stdout
    got = {line.split()[2]: int(line.split()[0], 16) for line in out.splitlines()
           if line.split()[2] in names}
    low_word = 0x50 if target.little else 0x54
    stamp_hi = 0x4C if target.little else 0x48
    map_off = 0x70 if target.bits == 64 else 0x94
    assert got == {"CFG_TB_ORIG_STAMP": 0x30, "CFG_TB_UPDATE_COUNT_LO": low_word,
                   "CFG_STAMP_XSEC_HI": stamp_hi, "CFG_SYSCALL_MAP": map_off,
                   "CFG_TEST_TIMEBASE": 0xB8, "__NR_gettimeofday": 78, "__NR_syscalls": 273}


@pytest.mark.parametrize("gcc", ["gcc", "powerpc-linux-gnu-gcc", "powerpc64-linux-gnu-gcc",
                                 "powerpc64le-linux-gnu-gcc"])
def test_c_header_static_asserts_hold(gcc, tmp_path):
    compiler = need_tool(gcc)
    ok = compile_header(compiler, tmp_path, "vdso_datapage.h", datapage.c_header())
    assert ok.returncode == 0, ok.stderr
    # and the asserts bite: a wrong offset must not compile
    bad = compile_header(compiler, tmp_path, "vdso_datapage.h",
                         datapage.c_header().replace("tb_to_xs) == 0x40", "tb_to_xs) == 0x48"))
    assert bad.returncode != 0 and "tb_to_xs offset" in bad.stderr


def test_includes_command_writes_header_and_includes(tmp_path):
    res = run_vdsotool(["includes", "--bits", "32", "-o", tmp_path])
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "vdso_datapage.h").read_text() == datapage.c_header()
    text = (tmp_path / "vdso_datapage.inc").read_text()
    assert ".set CFG_SYSCALL_MAP, 0x94" in text
    assert {p.name for p in tmp_path.iterdir()} >= {"vdso_target.inc", "vdso_sigframe.inc"}
