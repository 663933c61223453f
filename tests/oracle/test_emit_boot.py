"""Kernel outputs at boot: a C program plays the kernel with the generated blob, under qemu.

``tests/oracle/emit/boot_check.c`` (compiled once per target with the cross gcc, together with
the execution harness ``vdsotool/verify/harness/harness.c`` for mapping and name+version
resolution) does for every CPU of the blob what that CPU's 2.6.15 kernel does: copies the
embedded image, applies the CPU's patch table from the C arrays, stores the data-page
word, maps the result with its data page, resolves ``__kernel_sync_dicache`` and
``__kernel_gettimeofday`` through both hash tables, runs sync_dicache on freshly written
code and finds the data page through ``__kernel_get_syscall_map``. It writes each patched
image out; ``vdsotool patch IMAGE --cpu NAME -o OUT`` must write the same bytes.

Expected values come from pyelftools' reading of the unpatched image and from the CPU
table's feature bits (``vdsotool/abi/cpus.toml``), not from the patch tables under test.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from conftest import need_tool, run_vdsotool
from emit.support import (C_DIR, Emitted, compile_c, dynsym_of, emitted, run_program,
                          scratch_dir)

from vdsotool.abi import datapage
from vdsotool.abi.cpus import cpu_named, cpus_for, default_table
from vdsotool.abi.targets import TARGETS
from vdsotool.verify.harness import SOURCE as HARNESS_SOURCE
from vdsotool.verify.harness import harness_defines, parse_line

TARGET_NAMES = list(TARGETS)


def dynsym_values(image: bytes) -> dict[str, int]:
    return {name: s["st_value"] for name, s in dynsym_of(image).items()}


def compile_boot_check(e: Emitted, blob_c: Path, exe: Path) -> str:
    """Compile boot_check with the harness (the harness's own flags) and ``blob_c``;
    returns the qemu to run it with."""
    gcc, qemu = need_tool(e.target.gnu_tool("gcc")), need_tool(e.target.qemu)
    defines = [f"-D{k}={v:#x}" for k, v in sorted(harness_defines().items())]
    compile_c(gcc, ["-static", "-O2", "-pthread", "-Wall", "-Werror", *defines,
                    f"-I{HARNESS_SOURCE.parent}", *e.blob_defines(), "-o", str(exe),
                    str(C_DIR / "boot_check.c"), str(blob_c)], "boot_check")
    return qemu


@functools.lru_cache(maxsize=None)
def boot_program(name: str) -> tuple[Emitted, Path, str]:
    """boot_check for ``name``, compiled once per process: (outputs, program, qemu)."""
    e = emitted(name)
    exe = scratch_dir() / f"boot_check-{name}"
    return e, exe, compile_boot_check(e, e.file("-blob.c"), exe)


BootResults = dict[str, dict[str, dict[str, str]]]  # CPU -> line kind -> parsed line


def run_boot_check(exe: Path, qemu: str, images: Path) -> BootResults:
    """Run boot_check, writing the C-patched images to ``images``."""
    images.mkdir()
    proc = run_program(exe, [str(images)], qemu)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results: BootResults = {}
    cpu = None
    for line in proc.stdout.splitlines():
        parsed = parse_line(line)
        if parsed["cmd"] == "boot":
            cpu = parsed["cpu"]
            results[cpu] = {}
        results[cpu][parsed["cmd"]] = parsed
    return results


@functools.lru_cache(maxsize=None)
def booted(name: str) -> tuple[Emitted, Path, BootResults]:
    """Run boot_check once: (outputs, directory of C-patched images, results)."""
    e, exe, qemu = boot_program(name)
    images = scratch_dir() / f"booted-{name}"
    return e, images, run_boot_check(exe, qemu, images)


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_every_cpu_boots_with_its_patch_table(name):
    e, _, results = booted(name)
    t = e.target
    before = dynsym_values(e.image)
    generic, p5 = before["__kernel_sync_dicache"], before["__kernel_sync_dicache_p5"]
    assert generic != p5
    assert list(results) == [c.name for c in cpus_for(t.bits, t.little)]
    for cpu_name, lines in results.items():
        cpu = cpu_named(cpu_name)
        boot, icache, syscall_map = lines["boot"], lines["icache"], lines["map"]
        assert boot["stale"] == "0", cpu_name  # every old byte was where the table says
        sync = p5 if cpu.features & default_table().bit("COHERENT_ICACHE") else generic
        assert boot["sync"] == boot["sync_sysv"] == str(sync), cpu_name
        gtod = before["__kernel_gettimeofday"] if cpu.features & default_table().bit("USE_TB") \
            else -1
        assert boot["gtod"] == boot["gtod_sysv"] == str(gtod), cpu_name
        # the resolved sync_dicache runs: new code is seen after each flush, rc 0, SO clear
        assert (icache["rc"], icache["so"]) == ("0,0,0", "0,0,0"), cpu_name
        assert (icache["first"], icache["second"]) == ("111", "222"), cpu_name
        # the data-page word stored from the blob's values leads to the data page
        assert syscall_map["off"] == str(datapage.syscall_map_offset(t)), cpu_name
        assert syscall_map["count"] == str(datapage.NR_SYSCALLS), cpu_name


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_power5_runs_the_p5_code_and_power4_the_generic_code(name):
    e, _, results = booted(name)
    before = dynsym_values(e.image)
    if name == "ppc64le":  # no little-endian kernel runs on POWER4/POWER5
        assert not {"POWER4", "POWER5"} & set(results)
        return
    assert results["POWER5"]["boot"]["sync"] == str(before["__kernel_sync_dicache_p5"])
    assert results["POWER4"]["boot"]["sync"] == str(before["__kernel_sync_dicache"])


def test_a_601_no_longer_finds_gettimeofday():
    e, _, results = booted("ppc32")
    boot = results["601"]["boot"]
    assert (boot["gtod"], boot["gtod_sysv"]) == ("-1", "-1")
    # ... while every CPU with a timebase still does
    found = str(dynsym_values(e.image)["__kernel_gettimeofday"])
    assert all(r["boot"]["gtod"] == found for cpu, r in results.items() if cpu != "601")


def cli_patch(image: Path, cpu: str, out: Path, *extra: str) -> None:
    from typer.testing import CliRunner

    from vdsotool.cli import typer_app

    result = CliRunner().invoke(typer_app(), ["patch", str(image), "--cpu", cpu, "-o", str(out),
                                              *extra])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_vdsotool_patch_writes_what_the_c_kernel_made(name):
    e, images, results = booted(name)
    out = scratch_dir() / f"cli-patched-{name}"
    out.mkdir()
    for cpu in results:
        cli_patch(e.file(".so"), cpu, out / f"{cpu}.so")
        c_applied = (images / f"{cpu}.so").read_bytes()
        assert (out / f"{cpu}.so").read_bytes() == c_applied, cpu
        assert c_applied != e.image, cpu  # at least the data-page word was stored


def test_vdsotool_patch_as_a_user_runs_it(tmp_path):
    """The real command line (a fresh process) for one CPU."""
    e, images, _ = booted("ppc64")
    proc = run_vdsotool(["patch", e.file(".so"), "--cpu", "power5", "-o", tmp_path / "p5.so"])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "p5.so").read_bytes() == (images / "POWER5.so").read_bytes()


def test_patched_image_runs_under_the_harness_itself():
    """The POWER5 image from the C kernel also passes through the harness's own main (which
    re-stores the same data-page word): sync_dicache resolves to the _p5 code there too."""
    from vdsotool.verify import harness

    e, images, _ = booted("ppc64")
    [lookup] = harness.run(e.target, images / "POWER5.so", ["lookup __kernel_sync_dicache"])
    assert lookup["gnu"] == str(dynsym_values(e.image)["__kernel_sync_dicache_p5"])


def test_boot_check_notices_stale_old_bytes():
    """A blob whose table does not fit the bytes it embeds is reported (stale=1)."""
    e = emitted("ppc32")
    text = e.file("-blob.c").read_text()
    # make POWER5's first recorded old byte wrong
    marker = "vdso32_patches_POWER5[2] = {\n\t{ "
    at = text.index(marker) + len(marker)
    start = text.index("{ 0x", at) + 2
    broken = text[:start] + ("0xff" if text[start:start + 4] != "0xff" else "0xfe") + \
        text[start + 4:]
    directory = scratch_dir() / "stale"
    directory.mkdir()
    (directory / "vdso32-blob.c").write_text(broken)
    exe = directory / "boot_check"
    qemu = compile_boot_check(e, directory / "vdso32-blob.c", exe)
    results = run_boot_check(exe, qemu, directory / "images")
    assert results["POWER5"]["boot"]["stale"] == "1"
    assert results["POWER4"]["boot"]["stale"] == "0"


@pytest.mark.parametrize("name", ["ppc64", "ppc64le"])
def test_a_64_bit_cpu_without_timebase_added_with_a_cpus_file_hides_gettimeofday(name):
    """No 64-bit CPU of the table lacks a timebase, so hiding in the 64-bit images is shown
    with one added by a --cpus file (adding a CPU needs no change to vdsotool): its kernel
    no longer finds gettimeofday, still redirects sync_dicache, and vdsotool patch agrees."""
    from vdsotool.abi.cpus import load_table
    from vdsotool.elf import read
    from vdsotool.emit import kernel_outputs

    e = emitted(name)
    directory = scratch_dir() / f"no-tb-{name}"
    directory.mkdir()
    no_tb = directory / "no-tb.toml"
    no_tb.write_text('[[cpu]]\nname = "NO_TB"\npvr_value = 0x7FFF0000\npvr_mask = 0xFFFF0000\n'
                     'features = ["COHERENT_ICACHE"]\nbits = 64\nlittle_endian = true\n')
    blob = kernel_outputs(read(e.image, "image"), None, e.target, directory, kinds=frozenset({"c"}),
                          cpus=load_table([no_tb]))
    for path, data in blob.items():
        Path(path).write_bytes(data)
    with_no_tb = Emitted(e.target, directory, e.page_size)
    exe = directory / "boot_check"
    qemu = compile_boot_check(with_no_tb, with_no_tb.file("-blob.c"), exe)
    results = run_boot_check(exe, qemu, directory / "images")
    before = dynsym_values(e.image)
    boot = results["NO_TB"]["boot"]
    assert (boot["gtod"], boot["gtod_sysv"]) == ("-1", "-1")
    assert boot["sync"] == str(before["__kernel_sync_dicache_p5"])
    assert results["NO_TB"]["icache"]["second"] == "222"
    assert all(r["boot"]["gtod"] == str(before["__kernel_gettimeofday"])
               for cpu, r in results.items() if cpu != "NO_TB")
    cli_patch(e.file(".so"), "NO_TB", directory / "cli.so", "--cpus", str(no_tb))
    assert (directory / "cli.so").read_bytes() == (directory / "images" / "NO_TB.so").read_bytes()
