"""vdsotool.elf: constants and record layouts, with pyelftools as the oracle.

pyelftools declares the same records (``elftools.elf.structs``) and names the same constants
(``elftools.elf.enums``/``constants``) independently; every field offset, record size and
shared constant must agree with it, and a record packed by vdsotool must parse back, by
pyelftools and by vdsotool, to the values it was packed from.
"""

from __future__ import annotations

import random

import pytest
from elftools.elf import constants as PC
from elftools.elf import enums as PE
from elftools.elf.structs import ELFStructs

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import ElfKind
from vdsotool.elf import constants as C
from vdsotool.elf.layout import RECORDS

KINDS = [ElfKind(bits, little) for bits in (32, 64) for little in (False, True)]
# our record -> (pyelftools struct, {our field: theirs} where the names differ)
ORACLE = {"ehdr": ("Elf_Ehdr", {}), "phdr": ("Elf_Phdr", {}), "shdr": ("Elf_Shdr", {}),
          "sym": ("Elf_Sym", {}), "dyn": ("Elf_Dyn", {}), "verdef": ("Elf_Verdef", {}),
          "verdaux": ("Elf_Verdaux", {}), "versym": ("Elf_Versym", {"vs_index": "ndx"}),
          "nhdr": ("Elf_Nhdr", {}),
          "hash": ("Elf_Hash", {"nbucket": "nbuckets", "nchain": "nchains"})}


def structs(kind: ElfKind) -> ELFStructs:
    s = ELFStructs(little_endian=kind.little, elfclass=kind.bits)
    s.create_basic_structs()
    s.create_advanced_structs(e_type="ET_DYN", e_machine="EM_PPC64" if kind.bits == 64
                              else "EM_PPC", e_ident_osabi="ELFOSABI_SYSV")
    return s


def oracle_offsets(struct) -> dict[str, int]:
    """Field -> offset, summing the sizes of the fields before it (pyelftools' order)."""
    out, at = {}, 0
    for sub in struct.subcons:
        out[sub.name] = at
        if sub.name in ("buckets", "chains"):  # Elf_Hash's arrays: their size is data
            break
        at += sub.sizeof()
    return out


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_field_offsets_and_sizes_match_pyelftools(kind):
    s = structs(kind)
    for ours, (theirs, renamed) in ORACLE.items():
        layout = getattr(kind, ours)
        offsets = oracle_offsets(getattr(s, theirs))
        for f in layout.fields:
            assert layout.offset(f) == offsets[renamed.get(f, f)], (kind, ours, f)
        if ours != "hash":
            assert layout.size == getattr(s, theirs).sizeof(), (kind, ours)


def _values(layout, rng) -> list:
    out = []
    for f in layout.fields:
        if f == "e_ident":
            out.append(bytes(rng.randrange(256) for _ in range(16)))
        else:
            width, signed = layout.width(f), f == "d_tag"
            lo, hi = (-(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1) if signed \
                else (0, (1 << (8 * width)) - 1)
            out.append(rng.choice([lo, hi, rng.randint(lo, hi)]))
    return out


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_pack_unpack_round_trip_and_pyelftools_reads_the_same_values(kind):
    rng = random.Random(kind.bits * 2 + kind.little)
    s = structs(kind)
    for name in RECORDS:
        layout = getattr(kind, name)
        for _ in range(20):
            values = _values(layout, rng)
            data = layout.pack(*values)
            assert len(data) == layout.size
            assert list(layout.unpack(b"xx" + data, 2)) == values
            assert layout.unpack_dict(data) == dict(zip(layout.fields, values))
            assert layout.pack_dict(dict(zip(layout.fields, values))) == data
            assert [list(r) for r in layout.unpack_array(data * 3, 0, 3)] == [values] * 3
            for f, v in zip(layout.fields, values):  # each field's bytes where offset says
                if f != "e_ident":
                    at, width = layout.offset(f), layout.width(f)
                    assert int.from_bytes(data[at:at + width], kind.byteorder,
                                          signed=f == "d_tag") == v
            if name in ORACLE and name not in ("ehdr", "hash"):
                theirs, renamed = ORACLE[name]
                parsed = getattr(s, theirs).parse(data)
                for f, v in zip(layout.fields, values):
                    got = parsed[renamed.get(f, f)]
                    if isinstance(got, int):
                        assert got == v, (kind, name, f)


def test_kinds_are_values_made_once():
    assert ElfKind(64, True) is ElfKind(64, 1) is TARGETS["ppc64le"].elf
    assert TARGETS["ppc32"].elf is ElfKind(32, False)
    assert ElfKind.from_ident(C.ELFCLASS64, C.ELFDATA2MSB) is TARGETS["ppc64"].elf
    assert ElfKind.from_ident(3, 1) is None and ElfKind.from_ident(1, 0) is None
    assert TARGETS["ppc64"].elf.ident()[:7] == b"\x7fELF\x02\x02\x01"
    with pytest.raises(ValueError):
        ElfKind(16, False)


# our name table -> pyelftools' enum, and the prefix both use
ENUMS = [(C.ET_NAMES, PE.ENUM_E_TYPE, "ET_"), (C.EM_NAMES, PE.ENUM_E_MACHINE, "EM_"),
         (C.PT_NAMES, PE.ENUM_P_TYPE_BASE, "PT_"), (C.STB_NAMES, PE.ENUM_ST_INFO_BIND, "STB_"),
         (C.STT_NAMES, PE.ENUM_ST_INFO_TYPE, "STT_"), (C.STV_NAMES, PE.ENUM_ST_VISIBILITY, "STV_"),
         (C.DT_NAMES, PE.ENUM_D_TAG_COMMON, "DT_"),
         (C.SHT_NAMES, {k.upper(): v for k, v in PE.ENUM_SH_TYPE_BASE.items()}, "SHT_"),
         (C.NT_GNU_NAMES, PE.ENUM_NOTE_N_TYPE, "NT_GNU_")]


@pytest.mark.parametrize("ours,theirs,prefix", ENUMS, ids=[p for _, _, p in ENUMS])
def test_constants_agree_with_pyelftools(ours, theirs, prefix):
    shared = [n for n in ours.values() if prefix + n in theirs]
    assert len(shared) >= min(len(ours) - 3, 3), "too few names to compare"
    for value, name in ours.items():
        if prefix + name in theirs:
            assert theirs[prefix + name] == value, prefix + name


def test_flags_and_indices_agree_with_pyelftools():
    assert (C.PF_X, C.PF_W, C.PF_R) == (PC.P_FLAGS.PF_X, PC.P_FLAGS.PF_W, PC.P_FLAGS.PF_R)
    assert (C.SHF_WRITE, C.SHF_ALLOC, C.SHF_EXECINSTR, C.SHF_TLS) == (
        PC.SH_FLAGS.SHF_WRITE, PC.SH_FLAGS.SHF_ALLOC, PC.SH_FLAGS.SHF_EXECINSTR, PC.SH_FLAGS.SHF_TLS)
    assert (C.SHN_UNDEF, C.SHN_ABS, C.SHN_COMMON) == (
        PE.ENUM_ST_SHNDX["SHN_UNDEF"], PE.ENUM_ST_SHNDX["SHN_ABS"], PE.ENUM_ST_SHNDX["SHN_COMMON"])
    assert C.VER_FLG_BASE == PC.VER_FLAGS.VER_FLG_BASE
    assert C.DT_PROC_NAMES[C.EM_PPC64][0x70000003] == "PPC64_OPT"
    assert C.dt_name(C.DT_PPC_GOT, C.EM_PPC) == "PPC_GOT" and C.dt_name(C.DT_HASH, 0) == "HASH"
    assert C.st_info(C.STB_GLOBAL, C.STT_FUNC) == 0x12
