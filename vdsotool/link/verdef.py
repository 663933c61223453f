"""``.gnu.version_d`` (DT_VERDEF): the versions this image defines.

A vDSO defines two: the *base* version (index 1, flag VER_FLG_BASE, named by the soname,
as GNU ld writes for ``-soname``) and the script's version node (index 2, e.g.
``LINUX_2.6.15``) that glibc asks for. Each record (Elf_Verdef, 20 bytes, the same for
ELF32 and ELF64) is::

    u16 vd_version (1), u16 vd_flags, u16 vd_ndx, u16 vd_cnt (1),
    u32 vd_hash (SysV hash of the name), u32 vd_aux (20), u32 vd_next (28, 0 on the last)

followed by one Elf_Verdaux (8 bytes): ``u32 vda_name`` (.dynstr offset), ``u32 vda_next``
(0). ``DT_VERDEFNUM`` is the number of records.
"""

from __future__ import annotations

import struct

from vdsotool.link.hash import elf_hash

VER_DEF_CURRENT = 1
VER_FLG_BASE = 1
VERDEF_SIZE, VERDAUX_SIZE = 20, 8


def build_verdef(names: list[str], dynstr_offset: dict[str, int], big_endian: bool) -> bytes:
    """Records for ``names`` (base version first); ``dynstr_offset`` maps name -> offset."""
    endian = ">" if big_endian else "<"
    out = b""
    for index, name in enumerate(names, start=1):
        last = index == len(names)
        flags = VER_FLG_BASE if index == 1 else 0
        out += struct.pack(endian + "HHHHIII", VER_DEF_CURRENT, flags, index, 1,
                           elf_hash(name), VERDEF_SIZE, 0 if last else VERDEF_SIZE + VERDAUX_SIZE)
        out += struct.pack(endian + "II", dynstr_offset[name], 0)
    return out
