"""``.dynamic``: the table the loader reads to find everything else.

For a vDSO GNU ld writes, in this order::

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
inspect/check.py). The tags are fixed, so the size is known before any address.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.constants import (DT_GNU_HASH, DT_HASH, DT_NULL, DT_PPC64_OPT, DT_SONAME,
                                    DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_SYMTAB, DT_VERDEF,
                                    DT_VERDEFNUM, DT_VERSYM, SHF_ALLOC, SHF_WRITE,
                                    SHT_DYNAMIC)
from vdsotool.link.chunk import Chunk

SPARE_DYNAMIC_TAGS = 5
# tag -> the output section whose address it holds
ADDRESS_OF = {DT_HASH: ".hash", DT_GNU_HASH: ".gnu.hash", DT_STRTAB: ".dynstr",
              DT_SYMTAB: ".dynsym", DT_VERDEF: ".gnu.version_d", DT_VERSYM: ".gnu.version"}


def dynamic_tags(kind: ElfKind, e_flags: int = 0) -> list[int]:
    """The tags in GNU ld's order; no DT_PPC64_OPT in an ELFv1 image (``e_flags`` 1)."""
    return ([DT_SONAME, DT_HASH, DT_GNU_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT]
            + [DT_PPC64_OPT] * (kind.bits == 64 and e_flags != 1)
            + [DT_VERDEF, DT_VERDEFNUM, DT_VERSYM] + [DT_NULL] * (1 + SPARE_DYNAMIC_TAGS))


def build_dynamic(kind: ElfKind, values: dict[int, int], e_flags: int = 0) -> bytes:
    """The entries, each tag with ``values[tag]`` (0 when absent)."""
    return b"".join(kind.dyn.pack(tag, values.get(tag, 0))
                    for tag in dynamic_tags(kind, e_flags))


class Dynamic(Chunk):
    def __init__(self, kind: ElfKind, soname_offset: int, verdef_count: int,
                 e_flags: int = 0) -> None:
        super().__init__(".dynamic", len(dynamic_tags(kind, e_flags)) * kind.dyn.size,
                         kind.wordsize,
                         SHF_ALLOC | SHF_WRITE, sh_type=SHT_DYNAMIC, link=".dynstr",
                         entsize=kind.dyn.size)
        self.kind, self.e_flags = kind, e_flags
        self.values = {DT_SONAME: soname_offset, DT_VERDEFNUM: verdef_count,
                       DT_SYMENT: kind.sym.size}

    def write(self, image) -> bytes:
        values = {tag: image.address[name] for tag, name in ADDRESS_OF.items()}
        values[DT_STRSZ] = image.chunks[".dynstr"].size
        return build_dynamic(self.kind, self.values | values, self.e_flags)
