"""Feature fixups on today's images (Debian's 6.1 and 6.12 vDSOs): the tables vdsotool decodes
are what readelf and pyelftools read from the same files, and ``vdsotool patch --cpu`` does
what the reference (§5) says a kernel does at boot — checked byte by byte against the
alternative code read independently. Crafted tables are located errors."""

from __future__ import annotations

import json
import re
import struct
import subprocess

import pytest
from conftest import need_tool, run_vdsotool
from debian_images import VERSIONS

ENTRY = 48  # a 64-bit kernel's fixup entry: six 8-byte fields (reference §5.1)
NOP = bytes.fromhex("00000060")  # little-endian `nop`


def _elf(path):
    from elftools.elf.elffile import ELFFile

    return ELFFile(open(path, "rb"))


def _section_size(path, name) -> int:
    out = subprocess.run([need_tool("readelf"), "-W", "-S", str(path)], capture_output=True,
                         text=True, check=True).stdout
    row = next(line for line in out.splitlines() if f" {name} " in line)
    fields = row.split("]", 1)[1].split()
    return int(fields[4], 16)  # Name Type Address Off Size


def _entries(path) -> list[tuple[int, ...]]:
    """(mask, value, start, end, alt_start, alt_end) as file offsets, via pyelftools."""
    elf = _elf(path)
    sec = elf.get_section_by_name("__ftr_fixup")
    data, base = sec.data(), sec["sh_offset"]
    out = []
    for at in range(0, len(data), ENTRY):
        mask, value, *offs = struct.unpack_from("<QQqqqq", data, at)
        out.append((mask, value, *(base + at + o for o in offs)))
    return out


def _symbol(path, name) -> int:
    return _elf(path).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


@pytest.mark.parametrize("version", VERSIONS)
def test_seven_entries_as_readelf_and_pyelftools_read_them(version, debian_vdso):
    image = debian_vdso(version)
    res = run_vdsotool(["dump", "--fixups", "--json", image])
    assert res.returncode == 0, res.stderr
    tables = json.loads(res.stdout)["fixups"]["tables"]
    ftr = next(t for t in tables if t["name"] == "__ftr_fixup")
    assert len(ftr["entries"]) == _section_size(image, "__ftr_fixup") // ENTRY == 7
    theirs = _entries(image)
    assert [(e["mask"], e["value"], e["start"], e["end"], e["alt_start"], e["alt_end"])
            for e in ftr["entries"]] == theirs
    # reference §5.2: COHERENT_ICACHE over the first word of sync_dicache, then six ARCH_31
    assert theirs[0][:4] == (0x1, 0x1, _symbol(image, "__kernel_sync_dicache"),
                             _symbol(image, "__kernel_sync_dicache") + 4)
    assert all(e[:2] == (0x0004000000000000, 0) for e in theirs[1:])
    assert ftr["entries"][0]["mask_names"] == ["COHERENT_ICACHE"]
    assert ftr["entries"][1]["mask_names"] == ["ARCH_31"]
    others = [t for t in tables if t["name"] != "__ftr_fixup"]
    assert others and all(t["entries"] == [] for t in others)
    text = run_vdsotool(["dump", "--fixups", image]).stdout
    assert "__ftr_fixup: 7 entries" in text and "pause_short" in text


def _patch(image, cpu, out, *extra):
    return run_vdsotool(["patch", "--cpu", cpu, *map(str, extra), str(image), "-o", str(out)])


@pytest.mark.parametrize("version", VERSIONS)
def test_power10_gets_pause_short_power9_nothing(version, debian_vdso, tmp_path):
    image = debian_vdso(version)
    before = image.read_bytes()
    res = _patch(image, "POWER10", tmp_path / "p10.so")
    assert res.returncode == 0, res.stderr
    after = (tmp_path / "p10.so").read_bytes()
    expected = bytearray(before)
    for mask, _value, start, end, alt_start, alt_end in _entries(image)[1:]:
        assert end - start == 8 and alt_end - alt_start == 4
        assert before[alt_start:alt_end] == bytes.fromhex("3c00407c")  # pause_short
        expected[start:end] = before[alt_start:alt_end] + NOP
    assert after == bytes(expected) and after != before
    assert image.read_bytes() == before  # read-only input
    res = _patch(image, "POWER9", tmp_path / "p9.so")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "p9.so").read_bytes() == before


def test_non_coherent_cpu_nops_the_sync_dicache_branch(debian_vdso, tmp_path):
    image = debian_vdso("6.1")
    table = tmp_path / "cpus.toml"
    table.write_text('[[today.cpu]]\nname = "NONCOH"\npvr_value = 0x00990000\n'
                     'pvr_mask = 0xFFFF0000\nfeatures = ["LWSYNC"]\nbits = 64\n'
                     'little_endian = true\n')
    res = _patch(image, "NONCOH", tmp_path / "out.so", "--cpus", table)
    assert res.returncode == 0, res.stderr
    before, after = image.read_bytes(), (tmp_path / "out.so").read_bytes()
    at = _symbol(image, "__kernel_sync_dicache")
    assert before[at + 3] >> 2 == 18  # a `b` (primary opcode 18) ...
    assert after[at:at + 4] == NOP  # ... becomes a nop
    diff = [i for i in range(len(before)) if before[i] != after[i]]
    # and the six ARCH_31 pairs too (no ARCH_31 either): only code ranges changed
    ranges = [(s, e) for _m, _v, s, e, _a, _b in _entries(image)]
    assert diff and all(any(s <= i < e for s, e in ranges) for i in diff)


def test_patches_part_says_which_entries_apply(debian_vdso):
    res = run_vdsotool(["dump", "--patches", "--json", debian_vdso("6.12")])
    assert res.returncode == 0, res.stderr
    cpus = {c["name"]: c for c in json.loads(res.stdout)["patches"]["cpus"]}
    assert set(cpus) == {"POWER7", "POWER8", "POWER9", "POWER10"}  # today's LE CPUs
    assert [e["kept"] for e in cpus["POWER9"]["fixups"]] == [True] * 7
    assert [e["kept"] for e in cpus["POWER10"]["fixups"]] == [True] + [False] * 6


def _crafted(image, tmp_path, edit) -> tuple[str, int]:
    data = bytearray(image.read_bytes())
    base = _elf(image).get_section_by_name("__ftr_fixup")["sh_offset"]
    edit(data, base)
    path = tmp_path / "crafted.so"
    path.write_bytes(bytes(data))
    return str(path), base


@pytest.mark.parametrize("field,value,message", [
    (2, -(1 << 40), "lies outside the image"),  # code start far before the image
    (3, 1 << 20, "lies outside the image"),
    (2, 2, "word-aligned"),
])
def test_crafted_entry_is_a_located_error(field, value, message, debian_vdso, tmp_path):
    def edit(data, base):
        struct.pack_into("<q", data, base + 8 * field, value)

    path, base = _crafted(debian_vdso("6.1"), tmp_path, edit)
    for args in (["patch", "--cpu", "POWER10", path, "-o", str(tmp_path / "o.so")],
                 ["dump", "--fixups", path]):
        res = run_vdsotool(args)
        assert res.returncode == 1, res.stderr
        assert f"{path}+{base:#x}: error: __ftr_fixup entry 0: " in res.stderr
        assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o.so").exists()


def test_alternative_longer_than_code_is_refused(debian_vdso, tmp_path):
    def edit(data, base):  # entry 1's alternative: 4 bytes -> 12, longer than its 8
        alt_start = struct.unpack_from("<q", data, base + ENTRY + 32)[0]
        struct.pack_into("<q", data, base + ENTRY + 40, alt_start + 12)

    path, base = _crafted(debian_vdso("6.1"), tmp_path, edit)
    res = run_vdsotool(["patch", "--cpu", "POWER9", path, "-o", str(tmp_path / "o.so")])
    assert res.returncode == 1
    assert re.search(rf"\+{base + ENTRY:#x}: error: __ftr_fixup entry 1: alternative of 12 "
                     r"bytes is longer than the code's 8", res.stderr), res.stderr


def test_branch_leaving_the_alternative_is_retargeted():
    """A `b` copied from the alternative keeps its target; one inside it is kept as is."""
    from vdsotool.kernel.fixups import _retarget

    b = 0x48000000 | 0x100  # b .+0x100, at 0x2000 (the alternative 0x2000..0x2010)
    assert _retarget(b, 0x2000, 0x1000, (0x2000, 0x2010)) == 0x48000000 | 0x1100
    inside = 0x48000000 | 0x8  # b .+8: within the alternative
    assert _retarget(inside, 0x2000, 0x1000, (0x2000, 0x2010)) == inside
    bc = 0x41820000 | 0x40  # beq .+0x40 at 0x2004, to 0x2044
    assert _retarget(bc, 0x2004, 0x1004, (0x2000, 0x2010)) == 0x41820000 | 0x1040
    assert _retarget(bc, 0x2004, 0x100000, (0x2000, 0x2010)) is None  # out of bc's reach


@pytest.mark.parametrize("version", VERSIONS)
def test_fixups_json_matches_schema(version, debian_vdso):
    from test_dump import SCHEMA, schema_errors

    res = run_vdsotool(["dump", "--all", "--json", debian_vdso(version)])
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["fixups"]["tables"] and doc["patches"]["cpus"]
    assert schema_errors(doc, json.loads(SCHEMA.read_text())) == []


def test_lwsync_entry_is_rewritten_on_a_cpu_with_lwsync(debian_vdso, tmp_path):
    """Debian's __lwsync_fixup is empty (VDSO_lwsync_fixup_start == _end): widen it over 8
    bytes of .dynamic holding one entry that points at the first ARCH_31 pair's `or 1,1,1`.
    A CPU with LWSYNC makes that word `lwsync`; one without leaves it."""
    image = debian_vdso("6.1")
    elf = _elf(image)
    symtab = elf.get_section_by_name(".symtab")
    start = symtab.get_symbol_by_name("VDSO_lwsync_fixup_start")[0]["st_value"]
    end_index = next(i for i, s in enumerate(symtab.iter_symbols())
                     if s.name == "VDSO_lwsync_fixup_end")
    target = _entries(image)[1][2]
    data = bytearray(image.read_bytes())
    struct.pack_into("<q", data, start, target - start)  # linked at 0: address = offset
    struct.pack_into("<Q", data, symtab["sh_offset"] + 24 * end_index + 8, start + 8)
    path = tmp_path / "lwsync.so"
    path.write_bytes(bytes(data))
    table = tmp_path / "cpus.toml"
    table.write_text('[[today.cpu]]\nname = "NOLWSYNC"\npvr_value = 0x00990000\n'
                     'pvr_mask = 0xFFFF0000\nfeatures = ["COHERENT_ICACHE"]\nbits = 64\n'
                     'little_endian = true\n')
    res = run_vdsotool(["dump", "--fixups", "--json", path])
    assert res.returncode == 0, res.stderr
    lwsync = next(t for t in json.loads(res.stdout)["fixups"]["tables"]
                  if t["name"] == "__lwsync_fixup")
    assert [(e["offset"], e["target"]) for e in lwsync["entries"]] == [(start, target)]
    assert _patch(path, "POWER9", tmp_path / "p9.so").returncode == 0
    after = (tmp_path / "p9.so").read_bytes()
    assert after[target:target + 4] == bytes.fromhex("ac04207c")  # lwsync, little-endian
    assert after[:target] == bytes(data[:target]) and after[target + 4:] == data[target + 4:]
    assert _patch(path, "NOLWSYNC", tmp_path / "no.so", "--cpus", table).returncode == 0
    assert (tmp_path / "no.so").read_bytes()[target:target + 4] == data[target:target + 4]


def test_fixup_code_is_bounded(debian_vdso, tmp_path):
    """A table grown over the rest of the file, every entry's code the whole image: reading
    stops at the bound (a located error at the entry that crosses it), quickly, instead of
    making patch nop the image hundreds of times."""
    from vdsotool.kernel.fixups import MAX_CODE

    image = debian_vdso("6.1")
    elf = _elf(image)
    index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == "__ftr_fixup")
    symtab = elf.get_section_by_name(".symtab")["sh_offset"]  # keep the symbols readable
    data = bytearray(image.read_bytes())
    base = elf.get_section(index)["sh_offset"]
    count = (symtab - base) // ENTRY
    whole = len(data) // 8 * 8
    for i in range(count):
        at = base + i * ENTRY
        struct.pack_into("<QQqqqq", data, at, 1, 0, -at, whole - at, 0, 0)
    struct.pack_into("<Q", data, elf["e_shoff"] + index * elf["e_shentsize"] + 32,
                     count * ENTRY)
    assert count * whole > MAX_CODE  # the crafted table would exceed the bound
    path = tmp_path / "big.so"
    path.write_bytes(bytes(data))
    crossing = MAX_CODE // whole  # entries 0..crossing-1 fit, this one crosses
    for args in (["patch", "--cpu", "POWER9", path, "-o", str(tmp_path / "o.so")],
                 ["dump", "--fixups", path]):
        res = run_vdsotool(args, timeout=60)
        assert res.returncode == 1, res.stderr
        assert f"{path}+{base + crossing * ENTRY:#x}: error: __ftr_fixup entry {crossing}: " \
               f"the fixup tables cover more than {MAX_CODE} bytes of code in all" in res.stderr


def test_cpus_lists_today_cpus_as_the_file_has_them():
    import tomllib

    from vdsotool.abi.cpus import TABLE_FILE

    with open(TABLE_FILE, "rb") as f:
        today = tomllib.load(f)["today"]
    res = run_vdsotool(["cpus", "--json"])
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)["today"]
    assert doc["features"] == today["features"]
    assert [(c["name"], c["feature_names"], int(c["features"], 16)) for c in doc["cpus"]] == [
        (c["name"], sorted(c["features"], key=today["features"].get),
         sum(today["features"][f] for f in c["features"])) for c in today["cpu"]]
    assert "Today's kernels' CPUs" in run_vdsotool(["cpus"]).stdout
