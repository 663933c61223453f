"""Kernel outputs in Python: patch tables against pyelftools and the kernel's rules, the
offsets header against the kernel's own nm | sed | sort pipeline, golden files, malformed
images, determinism, ``vdsotool build --emit``, ``vdsotool cpus``/``patch`` on the command
line, the CPU table as data and patches.json against docs/patches.schema.json.

The C side (compiling and running the blob, playing the kernel at boot) is in
test_emit_c.py and test_emit_boot.py.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
from pathlib import Path

import pytest
from conftest import check_golden, need_tool, run_vdsotool
from emit.support import dynsym_of, real_image  # real_image: vdsotool's build, once per process
from gnu import built_image, kernel_offsets_sed

from vdsotool.abi.cpus import Cpu, Patch, cpu_named, default_table
from vdsotool.abi.targets import TARGETS, Target
from vdsotool.emit import ALL_KINDS, parse_kinds
from vdsotool.emit import kernel_outputs as emitted_files
from vdsotool.emit.blob import exported_symbols
from vdsotool.emit.offsets import offsets_header
from vdsotool.elf import read
from vdsotool.emit.patches import patches_document
from vdsotool.kernel.patches import (apply_changes, datapage_fixup, patch_tables, patched_image,
                                     table_for)
from vdsotool.errors import ImageLoc, VdsoError


def kernel_outputs(image: bytes, dbg: bytes | None, *args, **kwargs) -> dict[Path, bytes]:
    """vdsotool.emit.kernel_outputs of the image bytes keyed by Path, as these tests look
    the files up."""
    parsed = read(image, "image"), None if dbg is None else read(dbg, "dbg")
    return {Path(p): data for p, data in emitted_files(*parsed, *args, **kwargs).items()}


TARGET_NAMES = list(TARGETS)


def dynsym_range(image: bytes) -> range:
    from elftools.elf.elffile import ELFFile

    sec = ELFFile(io.BytesIO(image)).get_section_by_name(".dynsym")
    return range(sec["sh_offset"], sec["sh_offset"] + sec["sh_size"])


# --- golden files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", TARGET_NAMES)
def test_golden_outputs(name):
    target = TARGETS[name]
    image, dbg = real_image(name)
    outputs = kernel_outputs(image, dbg, target, Path("out"))
    assert {p.name for p in outputs} == {f"{target.image}{suffix}" for suffix in (
        "-blob.c", "-blob.h", "-offsets.h", "-patches.json", "-wrapper.S")}
    for path, data in sorted(outputs.items()):
        check_golden(f"emit/{path.name}", data.decode())


def test_blob_header_is_marked_generated_and_page_aligned():
    image, dbg = real_image("ppc64")
    outputs = kernel_outputs(image, dbg, TARGETS["ppc64"], Path("o"), page_size=65536)
    header, source = outputs[Path("o/vdso64-blob.h")].decode(), outputs[Path("o/vdso64-blob.c")].decode()
    for text in (header, source, outputs[Path("o/vdso64-wrapper.S")].decode()):
        assert text.startswith("/* AUTOMATICALLY GENERATED -- DO NOT EDIT")
    assert "#define VDSO64_PAGE_SIZE 65536\n" in header
    assert "#define VDSO64_PAGES 1\n" in header
    assert "_Alignas(VDSO64_PAGE_SIZE) const unsigned char vdso64_image" in source
    # 65536 bytes at ten per line
    assert source.count("0x") >= 65536
    assert ".balign 65536" in outputs[Path("o/vdso64-wrapper.S")].decode()


# --- the offsets header is the kernel's -----------------------------------------------------

def kernel_offsets_pipeline(target: Target, dbg_path: Path) -> bytes:
    """``$(NM) vdsoNN.so.dbg | gen_vdsoNN_offsets.sh | LC_ALL=C sort``, with a sed program
    written from the reference's description of the script (§8)."""
    nm = need_tool(target.gnu_tool("nm"))
    script = kernel_offsets_sed(target)
    listing = subprocess.run([nm, str(dbg_path)], capture_output=True, check=True).stdout
    lines = subprocess.run(["sed", "-n", "-e", script], input=listing, capture_output=True,
                           check=True).stdout
    return subprocess.run(["sort"], input=lines, capture_output=True, check=True,
                          env={**os.environ, "LC_ALL": "C"}).stdout


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_offsets_header_equals_kernel_pipeline_on_gnu_dbg(name):
    target = TARGETS[name]
    so = built_image("gnu", target)
    dbg_path = so.parent / f"{target.image}.so.dbg"
    expected = kernel_offsets_pipeline(target, dbg_path)
    trampoline = "sigtramp_rt64" if target.bits == 64 else "sigtramp32"
    assert f"#define vdso{target.bits}_offset_{trampoline}\t0x".encode() in expected
    assert offsets_header(read(dbg_path.read_bytes())).encode() == expected
    # and vdsotool's own debug twin gives the same header
    assert offsets_header(read(real_image(name)[1])).encode() == expected


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_offsets_headers_hold_offsets_only(name):
    """Every #define of every offsets header - vdsotool's, and the kernel pipeline's on
    GNU's .dbg - names an exported symbol of the image with that value
    (vdsoNN_offset_<name> = __kernel_<name>), once: no assembler constant looks like an
    offset."""
    import re

    target = TARGETS[name]
    so = built_image("gnu", target)
    headers = {
        "gnu": (kernel_offsets_pipeline(target, so.parent / f"{target.image}.so.dbg").decode(),
                so.read_bytes()),
        "vdsotool": (offsets_header(read(real_image(name)[1])), real_image(name)[0]),
    }
    for builder, (header, image) in headers.items():
        exports = {n: s["st_value"] for n, s in dynsym_of(image).items()}
        lines = header.splitlines()
        assert lines and len(set(lines)) == len(lines), (builder, header)
        for line in lines:
            m = re.fullmatch(rf"#define vdso{target.bits}_offset_(\w+)\t0x([0-9a-f]+)", line)
            assert m, (builder, line)
            assert exports.get(f"__kernel_{m[1]}") == int(m[2], 16), (builder, line)


def test_offsets_value_format_follows_the_sed_script():
    """nm's zero-padded value with the leading run of zeros squeezed to one '0'."""
    from vdsotool.emit.offsets import _nm_value

    assert _nm_value(0x6F0, 64) == "06f0"  # reference §11.9
    assert _nm_value(0, 64) == "0"
    assert _nm_value(0x2F4, 32) == "02f4"
    assert _nm_value(0x80000000, 32) == "80000000"


# --- patch tables ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ppc32", "ppc64", "ppc64le"])
def test_coherent_icache_cpus_get_the_p5_code(name):
    image, _ = real_image(name)
    before = dynsym_of(image)
    gen, fix = before["__kernel_sync_dicache"], before["__kernel_sync_dicache_p5"]
    assert gen["st_value"] != fix["st_value"]
    for table in patch_tables(read(image)):
        after = dynsym_of(apply_changes(image, table.changes))
        sym = after["__kernel_sync_dicache"]
        if table.cpu.features & default_table().bit("COHERENT_ICACHE"):
            for field in ("st_value", "st_size", "st_info", "st_other", "st_shndx"):
                assert sym[field] == fix[field], (table.cpu.name, field)
        else:
            assert sym["st_value"] == gen["st_value"], table.cpu.name
            assert all(c.symbol != "__kernel_sync_dicache" for c in table.changes)
        for change in table.changes:
            assert change.offset in dynsym_range(image)
            assert image[change.offset:change.offset + len(change.old)] == change.old


def test_cpus_of_each_image():
    """Each image has the tables of the CPUs whose kernels map it, in table order: every
    CPU at least as wide for a big-endian image, the little-endian ones for ppc64le."""
    cpus = default_table().cpus
    for name in TARGET_NAMES:
        target = TARGETS[name]
        names = [t.cpu.name for t in patch_tables(read(real_image(name)[0]))]
        assert names == [c.name for c in cpus if (c.little_endian if target.little
                                                  else c.bits >= target.bits)]
        assert names, f"no CPU maps {name}"


def test_601_hides_gettimeofday():
    image, _ = real_image("ppc32")
    table = table_for(read(image), cpu_named("601"))
    assert [(c.symbol, c.field, c.new) for c in table.changes] == \
        [("__kernel_gettimeofday", "st_name", bytes(4))]
    assert "__kernel_gettimeofday" not in dynsym_of(apply_changes(image, table.changes))


def test_a_cpu_without_timebase_hides_gettimeofday_in_64_bit_images_too():
    image, _ = real_image("ppc64le")
    no_tb = Cpu("test-no-tb", 0, 0, default_table().bit("COHERENT_ICACHE"), 64, True)
    table = table_for(read(image), no_tb)
    after = dynsym_of(apply_changes(image, table.changes))
    assert "__kernel_gettimeofday" not in after
    assert after["__kernel_sync_dicache"]["st_value"] == \
        dynsym_of(image)["__kernel_sync_dicache_p5"]["st_value"]


def rename_in_dynstr(image: bytes, old: str, new: str) -> bytes:
    assert len(old) == len(new)
    at = image.index(b"\0" + old.encode() + b"\0") + 1
    return image[:at] + new.encode() + image[at + len(old):]


def test_missing_fix_symbol_is_skipped_with_a_note_as_the_kernel_does():
    image, _ = real_image("ppc64")
    broken = rename_in_dynstr(image, "__kernel_sync_dicache_p5", "__kernel_sync_dicache_q5")
    table = table_for(read(broken), cpu_named("POWER5"))
    assert table.changes == ()
    assert table.notes == ("__kernel_sync_dicache_p5 not in the image: the kernel skips this patch",)


def test_kernel_name_matching_cuts_at_at_sign():
    image, _ = real_image("ppc64")
    renamed = rename_in_dynstr(image, "__kernel_get_syscall_map", "__kernel_get@syscall_map")
    patch = Patch(0, 0, "__kernel_get", "__kernel_sync_dicache_p5")
    table = table_for(read(renamed), cpu_named("POWER4"), patches=(patch,))
    assert {c.symbol for c in table.changes} == {"__kernel_get@syscall_map"}
    assert table.notes == ()


def test_patches_apply_in_order_on_the_evolving_table():
    """A hidden symbol is no longer found by a later patch (st_name == 0 is skipped)."""
    image, _ = real_image("ppc64")
    hide = Patch(0, 0, "__kernel_gettimeofday", "")
    redirect = Patch(0, 0, "__kernel_gettimeofday", "__kernel_sync_dicache_p5")
    table = table_for(read(image), cpu_named("POWER4"), patches=(hide, redirect))
    assert [c.field for c in table.changes] == ["st_name"]
    assert table.notes == ("__kernel_gettimeofday not in the image: the kernel skips this patch",)


@pytest.mark.parametrize("page_size", [4096, 8192, 65536])
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_datapage_fixup_is_the_distance_to_the_page_after_the_image(name, page_size):
    image, _ = real_image(name)
    target = TARGETS[name]
    word_at = dynsym_of(image)["__kernel_datapage_offset"]["st_value"]
    pages = -(-len(image) // page_size)
    fix = datapage_fixup(read(image), page_size)
    assert fix.offset == word_at
    assert int.from_bytes(fix.new, target.byteorder) == pages * page_size - word_at
    patched = patched_image(read(image), cpu_named("POWER9" if target.little else "POWER4"),
                            page_size)
    assert patched[word_at:word_at + 4] == fix.new


def test_patch_refuses_a_cpu_that_does_not_map_the_image():
    image, _ = real_image("ppc64")
    with pytest.raises(VdsoError) as err:
        patched_image(read(image, "x.so"), cpu_named("601"))
    assert "601 kernel does not map a 64-bit big-endian image" in str(err.value)
    assert isinstance(err.value.diagnostics[0].loc, ImageLoc)


def test_patches_document_describes_the_image():
    image, _ = real_image("ppc32")
    doc = patches_document(read(image), "vdso32")
    assert doc["format_version"] == 1 and doc["target"] == "ppc32"
    assert doc["image_size"] == len(image) and doc["pages"] == -(-len(image) // 4096)
    power5 = next(c for c in doc["cpus"] if c["name"] == "POWER5")
    assert power5["pvr_value"] == "0x003a0000" and power5["pvr_mask"] == "0xffff0000"
    assert {c["field"] for c in power5["changes"]} == {"st_value", "st_size"}
    assert [c["name"] for c in doc["cpus"]] == [t.cpu.name for t in patch_tables(read(image))]


# --- malformed images -----------------------------------------------------------------------

def every_reader(data: bytes) -> None:
    img = read(data, "bad.so")
    patch_tables(img)
    exported_symbols(img)
    datapage_fixup(img, 4096)
    offsets_header(img)


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_malformed_images_are_diagnostics_with_an_image_location(name):
    image, dbg = real_image(name)
    rng = random.Random(f"emit-{name}")
    cases = [dbg[:n] for n in range(0, len(dbg), 97)]
    for _ in range(300):  # corrupt header and table areas: ELF/section headers, .dynsym, .dynstr
        data = bytearray(dbg)
        for _ in range(rng.randint(1, 4)):
            at = rng.choice([rng.randrange(0, 0x300), rng.randrange(len(image), len(dbg))])
            data[at] = rng.randrange(256)
        cases.append(bytes(data))
    failures = 0
    for data in cases:
        try:
            every_reader(data)
        except VdsoError as err:
            failures += 1
            assert all(isinstance(d.loc, ImageLoc) and d.loc.path == "bad.so"
                       for d in err.diagnostics), str(err)
    assert failures > len(cases) // 4  # most truncations must be caught, not read past


def test_no_dynsym_is_a_diagnostic():
    image, _ = real_image("ppc64")
    broken = image.replace(b".dynsym\0", b".dynsyx\0")
    with pytest.raises(VdsoError, match="no .dynsym section"):
        patch_tables(read(broken, "x.so"))


# --- kinds, determinism, the build command --------------------------------------------------

def test_parse_kinds():
    assert parse_kinds("all") == ALL_KINDS
    assert parse_kinds("none") == frozenset()
    assert parse_kinds("c, offsets") == {"c", "offsets"}
    for bad in ("", "c,blob", "none,c"):
        with pytest.raises(ValueError):
            parse_kinds(bad)


def test_emit_only_the_asked_kinds():
    image, dbg = real_image("ppc64")
    out = emitted_files(read(image), read(dbg), TARGETS["ppc64"], Path("d"),
                        kinds=frozenset({"offsets"}))
    assert list(out) == ["d/vdso64-offsets.h"]  # out_dir joined with the name, as a string
    assert kernel_outputs(image, dbg, TARGETS["ppc64"], Path("d"), kinds=frozenset()) == {}


def test_build_emits_everything_deterministically_and_leaves_unchanged_files_alone(tmp_path):
    first, second = tmp_path / "a" / "out", tmp_path / "elsewhere" / "deeper" / "out"
    for out in (first, second):
        proc = run_vdsotool(["build", "--bits", "32", "--out", out])
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in first.iterdir())
    assert names == ["vdso32-blob.c", "vdso32-blob.h", "vdso32-offsets.h",
                     "vdso32-patches.json", "vdso32-wrapper.S", "vdso32.so", "vdso32.so.dbg"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    old = 1_000_000_000
    for p in first.iterdir():
        os.utime(p, (old, old))
    proc = run_vdsotool(["build", "--bits", "32", "--out", first])
    assert proc.returncode == 0, proc.stderr
    assert {p.name: p.stat().st_mtime for p in first.iterdir()} == {n: old for n in names}


# --- vdsotool cpus and vdsotool patch on the command line -----------------------------------

def test_cpus_json_is_the_cpu_table():
    import json

    table = default_table()
    proc = run_vdsotool(["cpus", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [c["name"] for c in doc["cpus"]] == [c.name for c in table.cpus]
    by_name = {c["name"]: c for c in doc["cpus"]}
    assert by_name["POWER5"]["pvr_value"] == "0x003a0000"
    assert "COHERENT_ICACHE" in by_name["POWER5"]["feature_names"]
    assert "COHERENT_ICACHE" not in by_name["POWER4"]["feature_names"]
    assert by_name["POWER9"]["maps"] == ["vdso32", "vdso64", "vdso64le"]
    assert by_name["601"]["maps"] == ["vdso32"]
    assert [(p["gen_name"], p["fix_name"]) for p in doc["patches"]] == \
        [(p.gen_name, p.fix_name) for p in table.patches]




def test_patch_command_with_64k_pages(tmp_path):
    """The same image with 64 KiB pages: only the data-page word differs from 4 KiB pages."""
    image, _ = real_image("ppc32")
    good = tmp_path / "vdso32.so"
    good.write_bytes(image)
    out = tmp_path / "out.so"
    proc = run_vdsotool(["patch", good, "--cpu", "601", "-o", out, "--page-size", "65536"])
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == patched_image(read(image), cpu_named("601"), 65536)


def test_page_size_must_be_a_power_of_two():
    image, _ = real_image("ppc64")
    for bad in (0, -4096, 1000, 2048):
        with pytest.raises(VdsoError, match="want a power of two"):
            patched_image(read(image), cpu_named("POWER5"), bad)
        with pytest.raises(VdsoError, match="want a power of two"):
            kernel_outputs(image, None, TARGETS["ppc64"], Path("o"), bad, frozenset({"patches"}))


POWER10 = """\
[[cpu]]
name = "POWER10"
pvr_value = 0x00800000
pvr_mask = 0xFFFF0000
features = ["USE_TB", "COHERENT_ICACHE", "ALTIVEC"]
bits = 64
little_endian = true
"""


def test_adding_a_cpu_with_a_cpus_file(tmp_path):
    """A CPU added with --cpus (no change to vdsotool) is listed by cpus, gets its patch
    table, its C array and its patches.json entry from build, and patch uses it."""
    import json

    from vdsotool.abi.cpus import default_table, load_table

    my = tmp_path / "my.toml"
    my.write_text(POWER10)
    proc = run_vdsotool(["cpus", "--json", "--cpus", my])
    assert proc.returncode == 0, proc.stderr
    listed = [c["name"] for c in json.loads(proc.stdout)["cpus"]]
    assert "POWER10" in listed and listed[-1] == default_table().cpus[-1].name
    proc = run_vdsotool(["build", "--bits", "64", "--endian", "little", "--cpus", my,
                         "--out", "o"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "vdso64_patches_POWER10[2]" in (tmp_path / "o" / "vdso64le-blob.c").read_text()
    doc = json.loads((tmp_path / "o" / "vdso64le-patches.json").read_text())
    power10 = next(c for c in doc["cpus"] if c["name"] == "POWER10")
    assert power10["changes"] == doc["cpus"][0]["changes"]  # as POWER7
    image = (tmp_path / "o" / "vdso64le.so").read_bytes()
    proc = run_vdsotool(["patch", tmp_path / "o" / "vdso64le.so", "--cpu", "power10",
                         "--cpus", my, "-o", tmp_path / "p10.so"])
    assert proc.returncode == 0, proc.stderr
    table = load_table([my])
    assert (tmp_path / "p10.so").read_bytes() == patched_image(
        read(image), table.named("POWER10"), patches=table.patches)
    proc = run_vdsotool(["patch", tmp_path / "o" / "vdso64le.so", "--cpu", "POWER10",
                         "-o", tmp_path / "no.so"])  # without the file: no such CPU
    assert proc.returncode == 2 and "unknown CPU 'POWER10'" in proc.stderr


def test_a_bad_cpus_file_is_a_located_error_on_every_command(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[cpu]]\nname = \"X\"\npvr_value = 0\npvr_mask = 0\nfeatures = [\"NOPE\"]\n"
                   "bits = 32\n")
    image = tmp_path / "o" / "vdso32.so"
    assert run_vdsotool(["build", "--bits", "32", "--emit", "none", "--out", "o"],
                        cwd=tmp_path).returncode == 0
    for command in (["cpus"], ["build", "--bits", "32", "--out", "o2"],
                    ["patch", image, "--cpu", "601", "-o", "p.so"], ["dump", "--patches", image]):
        proc = run_vdsotool([*command, "--cpus", bad], cwd=tmp_path)
        assert proc.returncode == 1, (command, proc.stderr)
        assert proc.stderr.startswith(f"{bad}:1: error: CPU X: features: unknown feature 'NOPE'")
        assert "Traceback" not in proc.stderr and not (tmp_path / "o2").exists()


# --- patches.json follows its documented schema (docs/patches.schema.json) ------------------

PATCHES_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "patches.schema.json"


def extra_schema_errors(value, schema: dict, where: str = "$") -> list[str]:
    """What test_dump's small validator leaves out and this schema uses: keys outside
    ``properties`` under ``additionalProperties: false``, and ``pattern``."""
    import re

    errors = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            errors += [f"{where}: unexpected {k}" for k in value if k not in props]
        for key, item in value.items():
            if key in props:
                errors += extra_schema_errors(item, props[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += extra_schema_errors(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, str) and "pattern" in schema and not re.fullmatch(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    return errors


def patches_schema_errors(value, schema: dict) -> list[str]:
    from test_dump import schema_errors

    return schema_errors(value, schema) + extra_schema_errors(value, schema)


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_patches_json_follows_the_documented_schema(name):
    import json

    schema = json.loads(PATCHES_SCHEMA.read_text())
    image, dbg = real_image(name)
    outputs = kernel_outputs(image, dbg, TARGETS[name], Path("o"), kinds=frozenset({"patches"}))
    doc = json.loads(outputs[Path(f"o/{TARGETS[name].image}-patches.json")])
    assert patches_schema_errors(doc, schema) == []
    # and the validator does reject what the schema forbids
    power5 = {**doc["cpus"][-1], "pvr_mask": "ffff0000", "extra": 1}
    assert patches_schema_errors({**doc, "cpus": [power5], "format_version": 2}, schema) == [
        "$.format_version: expected 1", "$.cpus[0]: unexpected extra",
        "$.cpus[0].pvr_mask: 'ffff0000' does not match ^0x[0-9a-f]{8}$"]


def test_each_cpu_is_identified_by_its_own_pvr_first_match_as_the_kernel_does():
    from vdsotool.abi.cpus import cpu_for_pvr

    cpus = default_table().cpus
    for cpu in cpus:
        assert cpu_for_pvr(cpu.pvr_value | (0x1234 & ~cpu.pvr_mask)) is cpu, cpu.name
    catch_all = cpus[-1]
    assert catch_all.pvr_mask == 0 and cpu_for_pvr(0x12340201) is catch_all  # last
    catch_all_first = (catch_all, *cpus[:-1])
    assert all(cpu_for_pvr(c.pvr_value, catch_all_first) is catch_all for c in cpus)
