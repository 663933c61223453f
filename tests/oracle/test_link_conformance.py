"""vdsotool's real images (the asm/ sources, all targets) read cleanly by every ELF consumer
we can run: GNU readelf prints no warning, ``eu-elflint --gnu-ld`` reports nothing, and
pyelftools and LIEF — two independent readers — agree on sections, dynamic symbols and
their versions (issue #3's "Tests" list; the byte comparison is test_differential.py)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import need_tool
from gnu import built_image

from vdsotool.abi.targets import TARGETS

TARGET_NAMES = sorted(TARGETS)
NODE = "LINUX_2.6.15"


@pytest.fixture(scope="module", params=TARGET_NAMES)
def image(request):
    target = TARGETS[request.param]
    return target, built_image("vdsotool", target)


def both_files(path):
    return [path, path.with_name(path.name + ".dbg")]


def test_readelf_reads_everything_without_a_warning(image):
    target, path = image
    readelf = need_tool(target.gnu_tool("readelf"))
    for f in both_files(path):
        res = subprocess.run([readelf, "-a", "-W", "--debug-dump=frames-interp", str(f)],
                             capture_output=True, text=True)
        assert res.returncode == 0 and res.stderr == "", res.stderr
        assert "warning" not in res.stdout.lower() and "__kernel_gettimeofday" in res.stdout


def test_eu_elflint_gnu_ld_is_clean(image):
    _, path = image
    elflint = need_tool("eu-elflint")
    for f in both_files(path):
        res = subprocess.run([elflint, "--gnu-ld", str(f)], capture_output=True, text=True)
        assert res.returncode == 0 and res.stdout.strip() == "No errors", res.stdout


def pyelftools_view(path):
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        sections = [(s.name, s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()]
        dynsym = elf.get_section_by_name(".dynsym")
        versym = elf.get_section_by_name(".gnu.version")
        verdef = elf.get_section_by_name(".gnu.version_d")
        names = {}
        for ver, aux in verdef.iter_versions():
            names[ver["vd_ndx"]] = next(aux).name
        symbols = {}
        for i, s in enumerate(dynsym.iter_symbols()):
            if s.name:
                symbols[s.name] = (s["st_value"], s["st_size"],
                                   names.get(versym.get_symbol(i)["ndx"]))
    return sections, symbols


def lief_view(path):
    import lief

    binary = lief.parse(str(path))
    sections = [(s.name, s.virtual_address, s.size) for s in binary.sections]
    symbols = {}
    for s in binary.dynamic_symbols:
        if not s.name:
            continue
        version = None
        if s.has_version and s.symbol_version.has_auxiliary_version:
            version = s.symbol_version.symbol_version_auxiliary.name
        symbols[s.name] = (s.value, s.size, version)
    return sections, symbols


def test_pyelftools_and_lief_agree_on_sections_symbols_and_versions(image):
    target, path = image
    ours = pyelftools_view(path)
    assert ours == lief_view(path)
    sections, symbols = ours
    assert [s[0] for s in sections][-3:] == [".got", ".dynamic", ".shstrtab"] \
        if target.bits == 64 else [s[0] for s in sections][-2:] == [".dynamic", ".shstrtab"]
    exports = {n: v for n, v in symbols.items() if n != NODE}
    assert "__kernel_gettimeofday" in exports
    assert all(version == NODE for _, _, version in exports.values())
    assert all(size > 0 for _, size, _ in exports.values())
