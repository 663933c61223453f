"""Differential test: every corpus file and every asm/ source assembled by vdsotool and by
GNU as (target.gnu_as_flags) gives identical section bytes; relocations are compared by
offset and symbol (GNU stores addends in RELA entries and zeros in the field, as we do)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import need_tool
from gnu import image_sources, write_includes

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.assemble import assemble_file

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "tests" / "asm_corpus").glob("*.S"))
TARGETS = [PPC32, PPC64, PPC64LE]


def gnu_sections(target, source: Path, workdir: Path) -> dict[str, tuple[bytes, list]]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    out = workdir / (source.stem + ".o")
    subprocess.run([target.gnu_tool("as"), *target.gnu_as_flags, "-I", str(ROOT / "asm"),
                    "-I", str(workdir), "-o", str(out), str(source)], check=True)
    result = {}
    with open(out, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for sec in elf.iter_sections():
            if sec["sh_type"] in ("SHT_PROGBITS", "SHT_NOTE") and sec.name != ".eh_frame":
                result[sec.name] = (sec.data(), [])
        for sec in elf.iter_sections():
            if isinstance(sec, RelocationSection):
                target_name = elf.get_section(sec["sh_info"]).name
                if target_name in result:
                    for rel in sec.iter_relocations():
                        sym = symtab.get_symbol(rel["r_info_sym"])
                        name = sym.name or elf.get_section(sym["st_shndx"]).name
                        result[target_name][1].append((rel["r_offset"], name))
    return result


def compare(target, source: Path, tmp_path: Path) -> None:
    need_tool(target.gnu_tool("as"))
    write_includes(target, tmp_path)
    gnu = gnu_sections(target, source, tmp_path)
    obj = assemble_file(source, target, include_dirs=[tmp_path])
    for name, (data, relocs) in gnu.items():
        if not data and name not in obj.sections:
            continue
        assert name in obj.sections, f"{source.name}: missing section {name}"
        mine = obj.sections[name]
        assert bytes(mine.data) == data, f"{source.name} {name} bytes differ"
        assert sorted((r.offset, r.symbol) for r in mine.relocations) == sorted(relocs), name
    for name, sec in obj.sections.items():
        assert name in gnu or not sec.data, f"{source.name}: extra section {name}"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("source", CORPUS, ids=lambda p: p.name)
def test_corpus_matches_gnu_as(target, source, tmp_path):
    compare(target, source, tmp_path)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_vdso_sources_match_gnu_as(target, tmp_path):
    for source in image_sources(target):
        compare(target, source, tmp_path)
