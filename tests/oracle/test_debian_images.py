"""The real kernel's images (Debian 6.1, 6.12 with 4 KiB and 64 KiB pages, fetched by
scripts/fetch-debian-vdso.py): ``vdsotool check`` finds no defect and ``vdsotool dump``
reads every part, and what dump shows is what GNU readelf reads from the same file
(nothing here is retyped from the images: readelf is the oracle)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import need_tool, run_vdsotool
from debian_images import VERSIONS, manifest


def readelf(*args) -> str:
    return subprocess.run([need_tool("readelf"), "-W", *map(str, args)], capture_output=True,
                          text=True, check=True).stdout


def test_images_are_what_their_manifest_says(debian_vdso):
    """The cut image is an ELF64 little-endian PowerPC shared object whose bytes hash as
    recorded, and the manifest names the Debian package it came from."""
    import hashlib

    for version in VERSIONS:
        image = debian_vdso(version)
        facts = manifest(image)
        assert re.fullmatch(r"linux-image-6\.1\.0-\d+-powerpc64le" if version == "6.1" else
                            r"linux-image-6\.12\.\d+\+deb12-powerpc64le" +
                            ("-64k" if version.endswith("64k") else ""), facts["package"])
        entry = next(i for i in facts["images"] if i["file"] == image.name)
        data = image.read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
        header = readelf("-h", image)
        assert "ELF64" in header and "little endian" in header
        assert "DYN (Shared object file)" in header and "PowerPC64" in header


@pytest.mark.parametrize("version", VERSIONS)
def test_check_passes(version, debian_vdso):
    image = debian_vdso(version)
    res = run_vdsotool(["check", image])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == f"{image}: OK" and res.stderr == ""


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_all_reads_every_part(version, debian_vdso):
    image = debian_vdso(version)
    text = run_vdsotool(["dump", "--all", image])
    assert text.returncode == 0 and text.stderr == "", text.stderr
    res = run_vdsotool(["dump", "--all", "--json", image])
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert json.loads(res.stdout)["problems"] == []


def _dump(image) -> dict:
    res = run_vdsotool(["dump", "--json", image])
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_headers_match_readelf(version, debian_vdso):
    """ELF header, program headers, sections, dynamic tags and notes as readelf reads them."""
    image = debian_vdso(version)
    headers = _dump(image)["headers"]

    elf = readelf("-h", image)
    field = lambda name: re.search(rf"^\s*{name}:\s*(.*)$", elf, re.M).group(1)
    assert headers["elf"]["type"] == 3 and field("Type").startswith("DYN ")
    assert headers["elf"]["flags"] == int(field("Flags").split(",")[0], 16)
    assert headers["elf"]["phnum"] == int(field("Number of program headers"))

    want = []
    for line in readelf("-l", image).splitlines():
        m = re.match(r"\s+([A-Z_]+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) "
                     r"0x([0-9a-f]+) ([RWE ]{3}) 0x[0-9a-f]+$", line)
        if m:
            flags = sum(bit for letter, bit in zip("RWE", (4, 2, 1)) if letter in m.group(6))
            want.append((m.group(1), *(int(m.group(i), 16) for i in range(2, 6)), flags))
    assert len(want) == headers["elf"]["phnum"]
    assert [(p["type"], p["offset"], p["vaddr"], p["filesz"], p["memsz"], p["flags"])
            for p in headers["program_headers"]] == want

    want = [(m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16))
            for m in re.finditer(r"^\s+\[\s*[1-9]\d*\] (\S+)\s+\S+\s+([0-9a-f]+) ([0-9a-f]+) "
                                 r"([0-9a-f]+) ", readelf("-S", image), re.M)]
    assert len(want) > 10
    assert [(s["name"], s["addr"], s["offset"], s["size"]) for s in headers["sections"]] == want

    dynamic = [(int(m.group(1), 16), m.group(2), m.group(3)) for m in re.finditer(
        r"^\s*0x([0-9a-f]+) \((\w+)\)\s+(.*)$", readelf("-d", image), re.M)]
    dynamic = [d for d in dynamic if d[1] != "NULL"]
    assert [(d["tag"], d["name"]) for d in headers["dynamic"]] == [d[:2] for d in dynamic]
    for ours, (_, _, value) in zip(headers["dynamic"], dynamic):
        if re.fullmatch(r"0x[0-9a-f]+|\d+( \(bytes\))?", value):
            assert ours["value"] == int(value.split()[0], 0)

    notes = []
    for line in readelf("-n", image).splitlines():
        m = re.match(r"\s+(\S+)\s+0x[0-9a-f]+\s.*(?:Build ID: ([0-9a-f]+)|description data: "
                     r"([0-9a-f ]+?))\s*$", line)
        if m:
            notes.append((m.group(1), m.group(2) or m.group(3).replace(" ", "")))
    assert len(notes) >= 2
    assert [(n["name"], n["desc"]) for n in headers["notes"]] == notes


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_symbols_and_cfi_match_readelf(version, debian_vdso):
    """Every .dynsym entry with its version, and one .eh_frame_hdr entry per FDE readelf
    finds."""
    image = debian_vdso(version)
    dump = _dump(image)
    want = sorted(
        (m.group(5), m.group(6) or None, int(m.group(1), 16), int(m.group(2)), m.group(3),
         m.group(4))
        for m in re.finditer(r"^\s+[1-9]\d*: ([0-9a-f]+)\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+\S+ "
                             r"([^@\s]+)(?:@@?(\S+))?$", readelf("--dyn-syms", image), re.M))
    assert any(w[0] == "__kernel_clock_gettime" for w in want)
    got = sorted((s["name"], s.get("version"), s["value"], s["size"], s["type"], s["bind"])
                 for s in dump["symbols"]["dynsym"])
    # readelf shows a version definition's own symbol without "@": compare names as shown
    assert [g[:1] + g[2:] for g in got] == [w[:1] + w[2:] for w in want]
    assert all(g[1] == w[1] for g, w in zip(got, want) if w[1])

    frames = readelf("--debug-dump=frames", image)
    fdes = re.findall(r"^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.",
                      frames, re.M)
    assert len(fdes) >= 10
    hdr = dump["cfi"]["eh_frame_hdr"]
    assert hdr["present"] and hdr["problems"] == []
    assert sorted(e["pc"] for e in hdr["table"]) == sorted(int(pc, 16) for pc in fdes)


def _fetch(dest, *versions, mirror="http://127.0.0.1:9/debian"):
    """The fetch script with a mirror that refuses every connection."""
    import os
    import sys

    from debian_images import SCRIPT

    env = dict(os.environ, VDSOTOOL_DEBIAN_MIRROR=mirror)
    return subprocess.run([sys.executable, str(SCRIPT), "--dest", str(dest), *versions],
                          env=env, capture_output=True, text=True, timeout=600)


def test_fetch_without_a_mirror_says_it_cannot(tmp_path):
    """No reachable archive: exit 3 (the fixture's "skip here, fail in CI"), a message
    saying why, no image and no leftover work directory."""
    res = _fetch(tmp_path, "6.1")
    assert res.returncode == 3, res.stderr
    assert "fetch-debian-vdso: cannot fetch:" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_fetch_uses_the_cache_and_distrusts_a_damaged_one(debian_vdso, tmp_path):
    """Images whose hashes match their manifests need no network (the unreachable mirror is
    never asked); a damaged image is fetched again (here: cannot be, so exit 3)."""
    import shutil

    for version in VERSIONS:
        for suffix in (".so", ".json"):
            src = debian_vdso(version).with_suffix(suffix)
            shutil.copy(src, tmp_path / src.name)
    assert _fetch(tmp_path).returncode == 0
    damaged = tmp_path / debian_vdso("6.12").name
    data = bytearray(damaged.read_bytes())
    data[100] ^= 1
    damaged.write_bytes(bytes(data))
    assert _fetch(tmp_path, "6.1").returncode == 0
    assert _fetch(tmp_path, "6.12").returncode == 3
