"""The GNU reference image's structure, i.e. what asm/ and linker_scripts/ must produce
(reference §1.2, §1.3, §1.5): program headers, exports and their typing, the version note,
the VDSO_* offsets symbols, the POWER8-safe bcl."""

from __future__ import annotations

import pytest
from conftest import ROOT
from gnu import built_image, gnu_build

from vdsotool.abi.targets import TARGETS
from vdsotool.verify.run import exports

NOTE_HEADER = bytes.fromhex("00000006 00000004 00000000") + b"Linux\0\0\0"  # reference §11.1


def version_node_code(target) -> int:
    """LINUX_VERSION_CODE of the version node the image exports (LINUX_2.6.15 -> 0x2060f)."""
    from vdsotool.link.script import read_script

    node = read_script(str(ROOT / "linker_scripts" / target.linker_script)).versions[0].name
    a, b, c = (int(part) for part in node.removeprefix("LINUX_").split("."))
    return a << 16 | b << 8 | c


def elf(path):
    from elftools.elf.elffile import ELFFile

    return ELFFile(open(path, "rb"))


@pytest.fixture(scope="module", params=list(TARGETS))
def built(request):
    target = TARGETS[request.param]
    return target, built_image("gnu", target)


def test_program_headers(built):
    target, path = built
    phdrs = [(p["p_type"], p["p_flags"]) for p in elf(path).iter_segments()]
    assert phdrs == [("PT_LOAD", 5), ("PT_DYNAMIC", 4), ("PT_NOTE", 4), ("PT_GNU_EH_FRAME", 4)]
    load = next(elf(path).iter_segments())
    assert load["p_offset"] == 0 and load["p_vaddr"] == 0


def test_exports_versioned_and_typed(built):
    target, path = built
    f = elf(path)
    dynsym = f.get_section_by_name(".dynsym")
    syms = {s.name: s for s in dynsym.iter_symbols() if s.name}
    assert {n for n in syms if n.startswith("__")} == set(exports(target))
    want_type = "STT_FUNC" if target.bits == 32 else "STT_NOTYPE"
    for name in exports(target):
        s = syms[name]
        assert s["st_info"]["bind"] == "STB_GLOBAL"
        if name != "__kernel_datapage_offset":
            assert s["st_info"]["type"] == want_type, name
            assert s["st_size"] > 0
    assert "__get_datapage" not in syms
    verdefs = [v.name for _, auxs in f.get_section_by_name(".gnu.version_d").iter_versions()
               for v in auxs]
    assert "LINUX_2.6.15" in verdefs
    for sec in (".hash", ".gnu.hash", ".text", ".eh_frame_hdr", ".eh_frame", ".dynamic"):
        assert f.get_section_by_name(sec) is not None, sec
    assert not [s.name for s in f.iter_sections() if s.name.startswith((".data", ".bss"))]


def test_version_note(built):
    target, path = built
    """By default the note says the kernel version of the version node."""
    note = elf(path).get_section_by_name(".note").data()
    want = NOTE_HEADER + version_node_code(target).to_bytes(4, "big")
    if target.little:  # the three header words and the desc word in the target's order
        words = [want[i:i + 4] for i in (0, 4, 8)]
        want = b"".join(w[::-1] for w in words) + want[12:20] + want[20:24][::-1]
    assert note == want


def test_version_code_is_configurable(tmp_path):
    target = TARGETS["ppc32"]
    path = gnu_build(target, tmp_path, {"LINUX_VERSION_CODE": 0x020610})
    assert elf(path).get_section_by_name(".note").data()[-4:] == bytes.fromhex("00020610")


def test_offsets_symbols_in_dbg(built):
    target, path = built
    symtab = elf(str(path) + ".dbg").get_section_by_name(".symtab")
    syms = {s.name: s["st_value"] for s in symtab.iter_symbols()}
    names = ["sigtramp32", "sigtramp_rt32"] if target.bits == 32 else ["sigtramp_rt64"]
    for n in names:
        assert syms[f"VDSO_{n}"] == syms[f"__kernel_{n}"] != 0


def test_datapage_uses_power8_safe_bcl(built):
    """bcl 20,31,.+4 (0x429F0005), never the link-stack-corrupting bcl 20,31,+8."""
    target, path = built
    f = elf(path)
    text = f.get_section_by_name(".text")
    code, base = text.data(), text["sh_addr"]
    order = "little" if target.little else "big"
    words = [int.from_bytes(code[i:i + 4], order) for i in range(0, len(code) - 3, 4)]
    assert 0x429F0005 in words and 0x429F0009 not in words
    word_at = {s.name: s["st_value"] for s in f.get_section_by_name(".dynsym").iter_symbols()}[
        "__kernel_datapage_offset"]
    assert words[(word_at - base) // 4] == 0, "the unpatched word is 0"


def _lr_moves(code: bytes, order: str):
    """(index, kind, reg) of every mflr rX / mtlr rX instruction word."""
    for i in range(0, len(code) - 3, 4):
        w = int.from_bytes(code[i:i + 4], order)
        if w & 0xFC1FFFFF == 0x7C0802A6:
            yield i, "mflr", (w >> 21) & 31
        elif w & 0xFC1FFFFF == 0x7C0803A6:
            yield i, "mtlr", (w >> 21) & 31


def test_cfi_tracks_lr_at_every_instruction(built):
    """For every function of asm/ (not the trampolines) one FDE covers it exactly, and at
    each instruction the LR rule says where the return address is: in rX from just after
    "mflr rX" up to and including "mtlr rX", in LR itself elsewhere."""
    from elftools.dwarf.callframe import FDE

    target, path = built
    f = elf(path)
    order = "little" if target.little else "big"
    text = f.get_section_by_name(".text")
    syms = {s.name: s for s in elf(str(path) + ".dbg").get_section_by_name(".symtab")
            .iter_symbols()}
    fdes = {e.header["initial_location"]: e for e in f.get_dwarf_info().EH_CFI_entries()
            if isinstance(e, FDE)}
    checked = 0
    for name in ("__get_datapage", "__kernel_gettimeofday", "__kernel_get_syscall_map",
                 "__kernel_sync_dicache", "__kernel_sync_dicache_p5"):
        start, size = syms[name]["st_value"], syms[name]["st_size"]
        fde = fdes[start]
        assert fde.header["address_range"] == size, name
        code = text.data()[start - text["sh_addr"]:start - text["sh_addr"] + size]
        saved_in = {}  # instruction offset -> register holding the return address
        holder = None
        moves = dict((i, (k, r)) for i, k, r in _lr_moves(code, order))
        for i in range(0, size, 4):
            saved_in[i] = holder
            kind, reg = moves.get(i, (None, None))
            if kind == "mflr" and holder is None:
                holder = reg
            elif kind == "mtlr" and reg == holder:
                holder = None
        rows = fde.get_decoded().table
        for i in range(0, size, 4):
            row = [r for r in rows if r["pc"] <= start + i][-1]
            rule = row.get(65)
            if saved_in[i] is None:
                assert rule is None or rule.type == "SAME_VALUE", (name, hex(i), rule)
            else:
                assert rule is not None and rule.type == "REGISTER" and \
                    rule.arg == saved_in[i], (name, hex(i), rule)
            checked += 1
    assert checked > 50
