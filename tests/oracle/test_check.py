"""``vdsotool check``: the GNU reference images pass; each hand-broken image is reported
with the defect it has (and all defects, not only the first); the FDE reader agrees with
readelf."""

from __future__ import annotations

import json
import re
import struct
import subprocess

import pytest
from conftest import need_tool, run_vdsotool
from gnu import built_image

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import read
from vdsotool.inspect.check import check_image, read_fdes


@pytest.mark.parametrize("name", list(TARGETS))
def test_reference_image_passes(name):
    res = run_vdsotool(["check", built_image("gnu", name)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith("OK")


@pytest.mark.parametrize("name", list(TARGETS))
def test_fde_reader_agrees_with_readelf(name):
    """The pc ranges we decode are the ones binutils' readelf decodes."""
    path = built_image("gnu", name)
    readelf = need_tool(TARGETS[name].gnu_tool("readelf"))
    text = subprocess.run([readelf, "--debug-dump=frames", str(path)], capture_output=True,
                          text=True, check=True).stdout
    expected = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"FDE cie=\w+ pc=(\w+)\.\.(\w+)", text)]
    img = read(path.read_bytes(), str(path))
    eh = img.section(".eh_frame")
    got = [(f.pc_begin, f.pc_begin + f.pc_range) for f in read_fdes(img, eh.offset, eh.addr, eh.size)]
    assert expected and got == expected


# --- hand-broken images ------------------------------------------------------------------


class Breaker:
    """A writable copy of the ppc64 reference image with helpers to damage one field."""

    def __init__(self):
        path = built_image("gnu", "ppc64")
        self.data = bytearray(path.read_bytes())
        self.img = read(bytes(self.data), "broken.so")

    def put(self, fmt: str, offset: int, *values) -> None:
        struct.pack_into(">" + fmt, self.data, offset, *values)

    def get(self, fmt: str, offset: int):
        return struct.unpack_from(">" + fmt, self.data, offset)[0]

    def phdr(self, ptype: int):
        return next(p for p in self.img.phdrs if p.type == ptype)

    def messages(self) -> list[str]:
        return [d.message for d in check_image(read(bytes(self.data), "broken.so"))]


def test_not_et_dyn():
    b = Breaker()
    b.put("H", 16, 2)  # ET_EXEC
    assert any("not ET_DYN" in m for m in b.messages())


def test_two_load_segments():
    b = Breaker()
    b.put("I", b.phdr(4).at, 1)  # PT_NOTE -> PT_LOAD
    assert any("2 PT_LOAD segments" in m for m in b.messages())


def test_load_not_at_zero():
    b = Breaker()
    b.put("Q", b.phdr(1).at + 16, 0x10000)  # p_vaddr
    assert any("need offset 0 and vaddr 0" in m for m in b.messages())


def test_load_not_covering_headers():
    b = Breaker()
    load = b.phdr(1)
    b.put("Q", load.at + 32, 0x20)  # p_filesz
    b.put("Q", load.at + 40, 0x20)  # p_memsz, kept equal so only the cover check fires
    msgs = b.messages()
    assert any("does not cover the ELF and program headers" in m for m in msgs)
    assert not any("p_filesz" in m for m in msgs)


def test_filesz_differs_from_memsz():
    b = Breaker()
    load = b.phdr(1)
    b.put("Q", load.at + 40, load.memsz + 0x1000)
    assert any("p_filesz" in m and "!= p_memsz" in m for m in b.messages())


def test_no_pt_dynamic():
    b = Breaker()
    b.put("I", b.phdr(2).at, 0)  # PT_DYNAMIC -> PT_NULL
    assert "no PT_DYNAMIC segment" in b.messages()


@pytest.mark.parametrize("tag,name", [(22, "DT_TEXTREL"), (7, "DT_RELA"), (17, "DT_REL"),
                                      (23, "DT_JMPREL"), (1, "DT_NEEDED"), (15, "DT_RPATH"),
                                      (0x6FFFFFFE, "DT_VERNEED")])
def test_forbidden_dynamic_tag(tag, name):
    b = Breaker()
    b.put("q", b.phdr(2).offset, tag)  # first dynamic entry's tag
    assert any(m.startswith(f"dynamic table has {name}:") for m in b.messages())


def test_unversioned_export():
    b = Breaker()
    sym = next(s for s in b.img.dynsyms() if s.name == "__kernel_gettimeofday")
    b.put("H", b.img.section(".gnu.version").offset + 2 * sym.index, 1)
    assert "exported symbol '__kernel_gettimeofday' is not versioned" in b.messages()


def first_fde_pc_field(b: Breaker) -> int:
    eh = b.img.section(".eh_frame")
    fde = read_fdes(b.img, eh.offset, eh.addr, eh.size)[0]
    return fde.offset + 8  # length, CIE pointer, then pc_begin (pcrel|sdata4)


def test_fde_outside_text():
    b = Breaker()
    at = first_fde_pc_field(b)
    b.put("i", at, b.get("i", at) + 0x100000)
    assert any("is not inside .text" in m for m in b.messages())


def hdr_rows(b: Breaker) -> tuple[int, int]:
    """File offset of the search table and its row count (GNU: udata4 count, sdata4 rows)."""
    hdr = b.img.section(".eh_frame_hdr")
    assert b.data[hdr.offset:hdr.offset + 4] == bytes([1, 0x1B, 0x03, 0x3B])
    return hdr.offset + 12, b.get("I", hdr.offset + 8)


def test_hdr_table_unsorted():
    b = Breaker()
    table, count = hdr_rows(b)
    assert count >= 2
    first, second = bytes(b.data[table:table + 8]), bytes(b.data[table + 8:table + 16])
    b.data[table:table + 16] = second + first
    assert any("table not sorted" in m for m in b.messages())


def test_hdr_table_incomplete():
    b = Breaker()
    hdr = b.img.section(".eh_frame_hdr")
    _, count = hdr_rows(b)
    b.put("I", hdr.offset + 8, count - 1)
    assert any("missing from .eh_frame_hdr table" in m for m in b.messages())


def test_dump_shows_the_hdr_defects_check_reports(tmp_path):
    """dump's .eh_frame_hdr check is check's: same defects, and the CFI is still decoded
    when a header pointer cannot be read."""
    from vdsotool.elf import load
    from vdsotool.inspect.dump import build_report

    b = Breaker()
    table, _ = hdr_rows(b)
    first, second = bytes(b.data[table:table + 8]), bytes(b.data[table + 8:table + 16])
    b.data[table:table + 16] = second + first
    path = tmp_path / "unsorted.so"
    path.write_bytes(bytes(b.data))
    hdr = build_report(load(str(path)), ("cfi",))["cfi"]["eh_frame_hdr"]
    hdr_defects = [m for m in b.messages() if ".eh_frame_hdr" in m]
    assert hdr_defects and hdr["problems"] == hdr_defects
    base = b.img.section(".eh_frame_hdr").addr  # rows are datarel|sdata4 from there
    pcs = [row["pc"] for row in hdr["table"][:2]]
    assert pcs == [base + b.get("i", table), base + b.get("i", table + 8)] and pcs[0] > pcs[1]
    b.data[b.img.section(".eh_frame_hdr").offset + 1] = 0x24  # textrel: not computable
    path.write_bytes(bytes(b.data))
    cfi = build_report(load(str(path)), ("cfi",))["cfi"]
    assert cfi["records"] and cfi["eh_frame_hdr"]["problems"] == [
        "unsupported pointer encoding 0x24"]
    assert "unsupported pointer encoding 0x24" in b.messages()


def test_every_defect_reported(tmp_path):
    b = Breaker()
    b.put("H", 16, 2)
    b.put("I", b.phdr(2).at, 0)
    at = first_fde_pc_field(b)
    b.put("i", at, b.get("i", at) + 0x100000)
    path = tmp_path / "broken.so"
    path.write_bytes(bytes(b.data))
    res = run_vdsotool(["check", "--json", path])
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert not report["ok"]
    text = " | ".join(d["message"] for d in report["defects"])
    for expected in ("not ET_DYN", "no PT_DYNAMIC", "not inside .text"):
        assert expected in text
    assert all(isinstance(d["offset"], int) for d in report["defects"])


def test_check_renders_locations(tmp_path):
    b = Breaker()
    b.put("H", 16, 2)
    path = tmp_path / "broken.so"
    path.write_bytes(bytes(b.data))
    res = run_vdsotool(["check", path])
    assert res.returncode == 1
    assert f"{path}+0x10: error: e_type is 2, not ET_DYN (3)" in res.stderr


def test_check_truncated_image(tmp_path):
    cut = tmp_path / "cut.so"
    cut.write_bytes(built_image("gnu", "ppc32").read_bytes()[:40])
    res = run_vdsotool(["check", cut])
    assert res.returncode == 1 and "truncated image" in res.stderr
    assert "Traceback" not in res.stderr


# --- PT_LOAD flags and hash tables ---------------------------------------------------------

@pytest.mark.parametrize("flags,shown", [(4, "R--"), (7, "RWX"), (5 | 8, None)])
def test_load_flags(flags, shown):
    b = Breaker()
    b.put("I", b.phdr(1).at + 4, flags)  # p_flags (ELF64: right after p_type)
    msgs = [m for m in b.messages() if m.startswith("PT_LOAD flags")]
    if shown is None:  # bits other than R/W/X (OS/processor-specific) are not ours to judge
        assert msgs == []
    else:
        assert msgs == [f"PT_LOAD flags {shown}, need R-X (the kernel maps a vDSO "
                        "read+execute, it has no writable data)"]


def _hash_sections(data: bytes):
    import io

    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    return elf, {name: elf.get_section_by_name(name) for name in (".hash", ".gnu.hash")}


def _found_by_pyelftools(data: bytes, name: str, exported: list[str]) -> set[str]:
    _elf, tables = _hash_sections(data)
    return {n for n in exported if tables[name].get_symbol(n) is not None}


def _found_by_us(data: bytes, name: str) -> set[str]:
    from vdsotool.inspect.check import exported_symbols
    from vdsotool.inspect.hash_check import gnu_lookup, sysv_lookup

    img = read(data, "x")
    lookup = sysv_lookup if name == ".hash" else gnu_lookup
    exported = exported_symbols(img)
    _problems, found = lookup(img, img.section(name).offset, img.dynsyms(), exported)
    return {s.name for s in exported if s.index in found}


def _mutations(data: bytes, name: str, bits: int, little: bool):
    """Copies of ``data`` with one bucket word (every symbol index) or one Bloom-filter bit
    changed: pyelftools' walks stay finite on these (chains are left intact)."""
    import random

    _elf, tables = _hash_sections(data)
    params, sec = tables[name].params, tables[name]
    order = "little" if little else "big"
    nsyms = params["nchains"] if name == ".hash" else len(read(data, "x").dynsyms())
    if name == ".hash":
        buckets_at = sec["sh_offset"] + 8
    else:
        buckets_at = sec["sh_offset"] + 16 + params["bloom_size"] * bits // 8
        rng = random.Random(1)
        for bit in rng.sample(range(params["bloom_size"] * bits), 24):
            out = bytearray(data)
            word_at = sec["sh_offset"] + 16 + bit // bits * bits // 8
            word = int.from_bytes(out[word_at:word_at + bits // 8], order) ^ (1 << bit % bits)
            out[word_at:word_at + bits // 8] = word.to_bytes(bits // 8, order)
            yield bytes(out)
    for i in range(params["nbuckets"]):
        for value in range(nsyms):
            out = bytearray(data)
            out[buckets_at + 4 * i:buckets_at + 4 * i + 4] = value.to_bytes(4, order)
            yield bytes(out)


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("table", [".hash", ".gnu.hash"])
def test_hash_lookups_agree_with_pyelftools(name, table):
    """On the reference image and on every single-bucket / Bloom-bit mutation of it, the
    symbols our lookup finds are the ones pyelftools' get_symbol finds."""
    target = TARGETS[name]
    base = built_image("gnu", name).read_bytes()
    exported = sorted(_found_by_us(base, table))
    assert len(exported) >= 6  # the reference finds every export
    cases = 0
    for data in _mutations(base, table, target.bits, target.little):
        assert _found_by_us(data, table) == _found_by_pyelftools(data, table, exported)
        cases += 1
    assert cases >= 10


def test_broken_hash_reported_with_lost_symbols():
    b = Breaker()
    sec = b.img.section(".hash")
    b.data[sec.offset + 8:sec.offset + sec.size] = bytes(sec.size - 8)  # empty buckets
    msg = next(m for m in b.messages() if m.startswith("DT_HASH (.hash) loses"))
    assert "__kernel_gettimeofday" in msg and "__kernel_sigtramp_rt64" in msg
    b = Breaker()
    sec = b.img.section(".hash")
    b.put("I", sec.offset + 4, 99)  # nchain
    assert any(".hash nchain is 99" in m for m in b.messages())


def test_hash_chain_cycle_terminates():
    """A chain that points back at itself: the lookup stops (bounded), reports the loss."""
    b = Breaker()
    sec = b.img.section(".hash")
    nbucket, nchain = b.get("I", sec.offset), b.get("I", sec.offset + 4)
    for i in range(1, nchain):
        b.put("I", sec.offset + 8 + 4 * (nbucket + i), i)  # chain[i] = i
    msgs = b.messages()  # without the bound this would never return
    assert any(m.startswith("DT_HASH (.hash) loses") for m in msgs)
