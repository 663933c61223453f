"""What is generated from the 6.1 data-page tables, checked by the cross tools: the asm
include as GNU as reads it, and the C header's static asserts under each cross gcc."""

from __future__ import annotations

import subprocess

import pytest
from conftest import compile_header, need_tool

from vdsotool.abi import abis
from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import TARGETS
from vdsotool.assemble.includes import asm_includes


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("page_size", dp.PAGE_SIZES)
def test_asm_include_assembles_to_the_offsets(name, page_size, tmp_path):
    target = TARGETS[name]
    gas = need_tool(target.gnu_tool("as"))
    nm = need_tool(target.gnu_tool("nm"))
    for file, text in asm_includes(target, abis.ABI_6_1, page_size).items():
        (tmp_path / file).write_text(text)
    names = ["CFG_DATA", "CFG_CLOCKMODE", "CFG_SYSCALL_MAP", "VD_BASETIME",
             "VVAR_SIZE", "PAGE_SHIFT", "ABI_VERSION_CODE"]
    src = tmp_path / "t.S"
    src.write_text('.include "vdso_datapage.inc"\n.include "vdso_abi.inc"\n' +
                   "".join(f".globl {n}\n" for n in names))
    subprocess.run([gas, *target.gnu_as_flags, "-I", str(tmp_path), "-o",
                    str(tmp_path / "t.o"), str(src)], check=True)
    out = subprocess.run([nm, str(tmp_path / "t.o")], capture_output=True, text=True,
                         check=True).stdout
    got = {line.split()[2]: int(line.split()[0], 16) for line in out.splitlines()
           if line.split()[2] in names}
    ppc64 = target.bits == 64
    assert got == {"CFG_DATA": 248 if ppc64 else 72,
                   "CFG_CLOCKMODE": 252 if ppc64 else 76,
                   "CFG_SYSCALL_MAP": 128 if ppc64 else 8, "VD_BASETIME": 32,
                   "VVAR_SIZE": 2 * page_size, "PAGE_SHIFT": page_size.bit_length() - 1,
                   "ABI_VERSION_CODE": 0x060100}


@pytest.mark.parametrize("gcc", ["gcc", "powerpc-linux-gnu-gcc", "powerpc64-linux-gnu-gcc",
                                 "powerpc64le-linux-gnu-gcc"])
def test_c_header_static_asserts_hold(gcc, tmp_path):
    compiler = need_tool(gcc)
    ok = compile_header(compiler, tmp_path, "vdso_datapage61.h", dp.c_header())
    assert ok.returncode == 0, ok.stderr
    bad = compile_header(compiler, tmp_path, "vdso_datapage61.h",
                         dp.c_header().replace("hrtimer_res) == 0xe8", "hrtimer_res) == 0xe0"))
    assert bad.returncode != 0 and "vdso61_data.hrtimer_res" in bad.stderr


def test_includes_command_writes_the_abis_files(tmp_path):
    """``vdsotool includes --abi 6.1``: the 6.1 includes and header, as the build uses them;
    the default ABI's files are the 2005 ones."""
    from conftest import run_vdsotool

    target = TARGETS["ppc64le"]
    res = run_vdsotool(["includes", "--bits", "64", "--endian", "little", "--abi", "6.1",
                        "--page-size", "65536", "-o", "inc"], tmp_path)
    assert res.returncode == 0, res.stderr
    written = {p.name: p.read_text() for p in (tmp_path / "inc").iterdir()}
    assert written["vdso_datapage.h"] == dp.c_header()
    for name, text in asm_includes(target, abis.ABI_6_1, 65536).items():
        assert written[name] == text
    res = run_vdsotool(["includes", "--bits", "64", "-o", "old"], tmp_path)
    assert res.returncode == 0
    assert "vdso_abi.inc" not in {p.name for p in (tmp_path / "old").iterdir()}
    bad = run_vdsotool(["includes", "--bits", "64", "--abi", "6.1", "--page-size", "8192",
                        "-o", "x"], tmp_path)
    assert bad.returncode == 2 and "--abi" in bad.stderr
