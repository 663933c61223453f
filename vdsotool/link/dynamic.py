"""``.dynamic``: the table the loader reads to find everything else.

Entries are (d_tag, d_val) pairs of the ELF class's word size. For a vDSO GNU ld writes,
in this order::

    DT_SONAME   .dynstr offset of the soname
    DT_HASH     address of .hash            DT_GNU_HASH  address of .gnu.hash
    DT_STRTAB   address of .dynstr          DT_SYMTAB    address of .dynsym
    DT_STRSZ    size of .dynstr             DT_SYMENT    size of one .dynsym entry
    DT_PPC64_OPT 0                          (ELF64 PowerPC only: no TLS/multi-TOC opts)
    DT_VERDEF   address of .gnu.version_d   DT_VERDEFNUM number of version definitions
    DT_VERSYM   address of .gnu.version
    DT_NULL

followed by 5 more DT_NULL entries: GNU ld's default ``--spare-dynamic-tags=5`` room for
tools that add tags later. No relocation or dependency tag ever appears (see
inspect/check.py).
"""

from __future__ import annotations

from vdsotool.util.records import record

DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = 0, 4, 5, 6, 10, 11, 14
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM, DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFF0, 0x6FFFFFFC, 0x6FFFFFFD
DT_PPC64_OPT = 0x70000003
SPARE_DYNAMIC_TAGS = 5


@record(frozen=True)
class DynamicInputs:
    soname_offset: int
    hash: int
    gnu_hash: int
    dynstr: int
    dynstr_size: int
    dynsym: int
    verdef: int
    verdef_count: int
    versym: int


def dynamic_entries(d: DynamicInputs, bits: int) -> list[tuple[int, int]]:
    entries = [(DT_SONAME, d.soname_offset), (DT_HASH, d.hash), (DT_GNU_HASH, d.gnu_hash),
               (DT_STRTAB, d.dynstr), (DT_SYMTAB, d.dynsym), (DT_STRSZ, d.dynstr_size),
               (DT_SYMENT, 24 if bits == 64 else 16)]
    if bits == 64:
        entries.append((DT_PPC64_OPT, 0))
    entries += [(DT_VERDEF, d.verdef), (DT_VERDEFNUM, d.verdef_count), (DT_VERSYM, d.versym)]
    return entries + [(DT_NULL, 0)] * (1 + SPARE_DYNAMIC_TAGS)


def dynamic_size(bits: int) -> int:
    """Bytes of .dynamic (fixed for a vDSO), needed by layout before values are known."""
    count = len(dynamic_entries(DynamicInputs(*[0] * 9), bits))
    return count * 2 * (bits // 8)


def build_dynamic(d: DynamicInputs, bits: int, big_endian: bool) -> bytes:
    order = "big" if big_endian else "little"
    word = bits // 8
    return b"".join(tag.to_bytes(word, order) + val.to_bytes(word, order)
                    for tag, val in dynamic_entries(d, bits))
