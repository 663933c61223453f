"""``.gnu.version`` (DT_VERSYM): one u16 per .dynsym entry, the version index of the symbol.

Index 0 (the null symbol) is VER_NDX_LOCAL (0); every exported symbol, and the ABS symbol
GNU ld defines for the version node itself, gets the node's index (2). A value of 1 would
mean "unversioned global", which glibc's vDSO lookup cannot match.
"""

from __future__ import annotations


def build_versym(indices: list[int], big_endian: bool) -> bytes:
    order = "big" if big_endian else "little"
    return b"".join(i.to_bytes(2, order) for i in indices)
