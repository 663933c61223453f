"""The hash functions of ELF's symbol hash tables, for the linker that writes the tables and
the checks that look symbols up in them."""

from __future__ import annotations


def elf_hash(name: str) -> int:
    """The System V ABI hash of a symbol name (``.hash``, ``vd_hash``)."""
    h = 0
    for byte in name.encode():
        h = ((h << 4) + byte) & 0xFFFFFFFF
        high = h & 0xF0000000
        if high:
            h ^= high >> 24
        h &= ~high & 0xFFFFFFFF
    return h


def gnu_hash(name: str) -> int:
    """The DJB hash of ``.gnu.hash`` (h = h * 33 + c, from 5381), 32 bits."""
    h = 5381
    for byte in name.encode():
        h = (h * 33 + byte) & 0xFFFFFFFF
    return h
