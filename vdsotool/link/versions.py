"""``.gnu.version_d`` (DT_VERDEF) and ``.gnu.version`` (DT_VERSYM): the versions this image
defines and the version of each ``.dynsym`` entry.

A vDSO defines two versions: the *base* version (index 1, flag VER_FLG_BASE, named by the
soname, as GNU ld writes for ``-soname``) and the script's version node (index 2, e.g.
``LINUX_2.6.15``) that glibc asks for. Each is one Elf_Verdef (``vd_cnt`` 1, ``vd_hash``
the SysV hash of the name, ``vd_aux`` right after it, ``vd_next`` to the next record, 0
on the last) followed by one Elf_Verdaux naming it (``.dynstr`` offset); ``DT_VERDEFNUM``
is the number of records.

``.gnu.version`` gives the null symbol VER_NDX_LOCAL (0) and every other entry — the
exports and the ABS symbol GNU ld defines for the node itself — the node's index (2). A
value of 1 would mean "unversioned global", which glibc's vDSO lookup cannot match.
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.constants import VER_DEF_CURRENT, VER_FLG_BASE, VER_NDX_LOCAL
from vdsotool.elf.hashes import elf_hash


def build_verdef(kind: ElfKind, names: list[str], dynstr_offset: dict[str, int]) -> bytes:
    """Records for ``names`` (base version first); ``dynstr_offset`` maps name -> offset."""
    record = kind.verdef.size + kind.verdaux.size
    out = b""
    for index, name in enumerate(names, start=1):
        out += kind.verdef.pack(VER_DEF_CURRENT, VER_FLG_BASE if index == 1 else 0, index, 1,
                                elf_hash(name), kind.verdef.size,
                                0 if index == len(names) else record)
        out += kind.verdaux.pack(dynstr_offset[name], 0)
    return out


def build_versym(kind: ElfKind, count: int, node_index: int) -> bytes:
    """``count`` entries: the null symbol's VER_NDX_LOCAL, then ``node_index`` for each."""
    return b"".join(map(kind.versym.pack, [VER_NDX_LOCAL] + [node_index] * (count - 1)))
