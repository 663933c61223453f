"""The whole link on hand-built objects (the assembler is not ready): the image passes our
checks, GNU readelf reads it without a warning, pyelftools sees the versioned exports at
the right addresses, the cross-object branch lands on its target, and the FDE covers its
function."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT, need_tool

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.cfi import model as M
from vdsotool.elf import read
from vdsotool.inspect.check import check_image
from vdsotool.link.driver import link
from vdsotool.link.script import read_script
from vdsotool.objfile import FrameDescription, ObjectFile, Relocation, Section, Symbol

MFLR_R12, BL, MTLR_R12, BLR, NOP = 0x7D8802A6, 0x48000001, 0x7D8803A6, 0x4E800020, 0x60000000


def words(target, *ws):
    return bytearray(b"".join(w.to_bytes(4, target.byteorder) for w in ws))


def objects(target):
    a = ObjectFile("a.S", target)
    a.sections[".text"] = Section(".text", "ax", align=4,
                                  data=words(target, MFLR_R12, BL, MTLR_R12, BLR),
                                  relocations=[Relocation(4, "rel24", "__kernel_sync_dicache")])
    a.symbols["__kernel_gettimeofday"] = Symbol("__kernel_gettimeofday", ".text", 0, 16,
                                                "func", "global")
    a.frames.append(FrameDescription(".text", 0, 16, [(4, M.Register(65, 12), None),
                                                      (12, M.Restore(65), None)]))
    b = ObjectFile("b.S", target)
    b.sections[".text"] = Section(".text", "ax", align=4, data=words(target, NOP, BLR))
    note = words(target, 6, 4, 0) + b"Linux\0\0\0" + words(target, 0x060400)  # like asm/note.S
    b.sections[".note.Linux"] = Section(".note.Linux", "a", "note", 4, note)
    b.symbols["__kernel_sync_dicache"] = Symbol("__kernel_sync_dicache", ".text", 0, 8,
                                                "func", "global")
    b.frames.append(FrameDescription(".text", 0, 8))
    return [a, b]


@pytest.fixture(scope="module", params=[PPC32, PPC64, PPC64LE], ids=lambda t: t.name)
def built(request, tmp_path_factory):
    target = request.param
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    data = link(objects(target), script, target)
    path = tmp_path_factory.mktemp(target.name) / f"{target.image}.so"
    path.write_bytes(data)
    return target, path, data


def test_passes_checks(built):
    _, path, data = built
    assert check_image(read(data, str(path))) == []


def test_readelf_without_warnings(built):
    target, path, _ = built
    readelf = need_tool(target.gnu_tool("readelf"))
    res = subprocess.run([readelf, "-a", "-W", "--debug-dump=frames", str(path)],
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert "__kernel_gettimeofday@@LINUX_2.6.15" in res.stdout
    assert "Warning" not in res.stdout


def test_pyelftools_exports_branch_and_fde(built):
    target, path, data = built
    from elftools.elf.elffile import ELFFile
    import capstone
    import io

    elf = ELFFile(io.BytesIO(data))
    syms = {s.name: s for s in elf.get_section_by_name(".dynsym").iter_symbols()}
    gtod, dicache = syms["__kernel_gettimeofday"], syms["__kernel_sync_dicache"]
    text = elf.get_section_by_name(".text")
    assert text["sh_addr"] <= gtod["st_value"] < dicache["st_value"]
    mode = capstone.CS_MODE_64 if target.bits == 64 else capstone.CS_MODE_32
    mode |= capstone.CS_MODE_LITTLE_ENDIAN if target.little else capstone.CS_MODE_BIG_ENDIAN
    at = gtod["st_value"] + 4
    (insn,) = capstone.Cs(capstone.CS_ARCH_PPC, mode).disasm(data[at:at + 4], at)
    assert insn.mnemonic == "bl" and int(insn.op_str, 16) == dicache["st_value"]
    fdes = [e for e in elf.get_dwarf_info().EH_CFI_entries() if "initial_location" in e.header]
    assert sorted((e.header["initial_location"], e.header["address_range"]) for e in fdes) == \
        [(gtod["st_value"], 16), (dicache["st_value"], 8)]


def test_eu_elflint_clean(built):
    _, path, _ = built
    elflint = need_tool("eu-elflint")
    res = subprocess.run([elflint, "--gnu-ld", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_deterministic_and_path_independent(built):
    """Same objects linked again, with their sources named from another directory, give
    the same bytes (nothing of paths, time or dict order leaks into the image)."""
    target, _, data = built
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    moved = objects(target)
    for o in moved:
        o.path = "/elsewhere/tree/" + o.path
    assert link(moved, script, target) == data
