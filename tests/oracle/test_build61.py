"""``--abi 6.1``: vdsotool's own build of the 6.1 sources is byte-identical to GNU as/ld's
(image and debug twin, all targets, both page sizes), and runs against the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from gnu import gnu_build

from vdsotool import pipeline
from vdsotool.abi import abis
from vdsotool.abi.targets import TARGETS
from vdsotool.elf import read
from vdsotool.inspect.check import check_image
from vdsotool.verify import checks61

ABI = abis.ABI_6_1


def ours(target, page_size: int, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    outputs = pipeline.build_outputs(target, pipeline.find_source_root(None), out, None,
                                     page_size=page_size, abi=ABI)
    for path, data in outputs.items():
        Path(path).write_bytes(data)
    return Path(pipeline.image_path(out, target))


@pytest.mark.parametrize("page_size", [4096, 65536])
@pytest.mark.parametrize("name", list(TARGETS))
def test_byte_identical_to_gnu(name, page_size, tmp_path):
    target = TARGETS[name]
    gnu = gnu_build(target, tmp_path / "gnu", abi=ABI, page_size=page_size)
    image = ours(target, page_size, tmp_path / "ours")
    assert image.read_bytes() == gnu.read_bytes()
    assert Path(str(image) + ".dbg").read_bytes() == Path(str(gnu) + ".dbg").read_bytes()
    assert check_image(read(image.read_bytes(), str(image))) == []


@pytest.mark.parametrize("name,page_size", [("ppc64le", 65536), ("ppc32", 4096)])
def test_our_image_passes_every_check(name, page_size, tmp_path):
    from conftest import need_tool

    target = TARGETS[name]
    need_tool(target.gnu_tool("gcc"))
    need_tool(target.qemu)
    image = ours(target, page_size, tmp_path)
    rows = checks61.run_checks(target, image, page_size, ABI.exports_for(target))
    assert [r for r in rows if r[1] != "pass"] == []


def test_the_2005_build_is_the_default(tmp_path):
    target = TARGETS["ppc64"]
    default = pipeline.build_outputs(target, pipeline.find_source_root(None), tmp_path, None)
    explicit = pipeline.build_outputs(target, pipeline.find_source_root(None), tmp_path, None,
                                      abi=abis.ABI_2_6_15)
    assert default == explicit


def test_the_command_line_builds_the_same(tmp_path):
    from conftest import run_vdsotool

    target = TARGETS["ppc64"]
    res = run_vdsotool(["build", "--bits", "64", "--abi", "6.1", "--page-size", "65536",
                        "--emit", "none", "--out", "out"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "asm/linux-6.1/gettimeofday.S" in res.stderr
    image = ours(target, 65536, tmp_path / "lib")
    assert (tmp_path / "out" / "vdso64.so").read_bytes() == image.read_bytes()


def _build_id(image: Path) -> bytes:
    from vdsotool.elf.constants import NT_GNU_BUILD_ID

    [desc] = [n.desc for n in read(image.read_bytes(), str(image)).notes
              if n.name == "GNU" and n.type == NT_GNU_BUILD_ID]
    return desc


def test_build_id_follows_the_sources(tmp_path):
    """Two builds carry the same build id; one source byte changed gives another."""
    import shutil

    target = TARGETS["ppc64le"]
    first = _build_id(ours(target, 65536, tmp_path / "a"))
    assert len(first) == 20 and first != bytes(20)
    assert _build_id(ours(target, 65536, tmp_path / "b")) == first
    root = Path(pipeline.find_source_root(None))
    for sub in (ABI.asm_dir, ABI.script_dir):
        shutil.copytree(root / sub, tmp_path / "src" / sub)
    note = tmp_path / "src" / ABI.asm_dir / "note.S"
    text = note.read_text()
    assert "\t.long\t0\t\t\t# type" in text
    note.write_text(text.replace("\t.long\t0\t\t\t# type", "\t.long\t1\t\t\t# type"))
    out = tmp_path / "changed"
    out.mkdir()
    outputs = pipeline.build_outputs(target, str(tmp_path / "src"), out, None,
                                     page_size=65536, abi=ABI)
    image = Path(pipeline.image_path(out, target))
    image.write_bytes(outputs[str(image)])
    assert _build_id(image) != first
