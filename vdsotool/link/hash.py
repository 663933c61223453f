"""The SysV ``.hash`` section (DT_HASH): how a loader finds a dynamic symbol by name.

Layout, all 32-bit words in the image's byte order (also on ELF64 PowerPC):
``nbucket, nchain, bucket[nbucket], chain[nchain]`` with ``nchain`` = number of .dynsym
entries. ``bucket[h % nbucket]`` holds the first symbol index of a chain, ``chain[i]`` the
next one, 0 ends it.

Chain order does not matter to a loader, but we match GNU ld byte for byte: it prepends
each symbol to its chain while walking its own in-memory symbol table, a 4051-slot hash
table (BFD's default size) visited slot by slot. So symbols are inserted in the order of
``bfd_string_hash(name) % 4051`` (:func:`gnu_ld_walk_order`); two exports colliding in one
of those slots could come out in the other order than GNU's (never seen in practice).

The bucket count is the one GNU ld picks without ``-O``: the largest entry of its prime
table not above the number of hashed symbols (see :func:`bucket_count`).
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.hashes import elf_hash

# GNU ld's bucket-count table (bfd elflink.c), consulted as data.
BUCKET_SIZES = (1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099, 8209, 16411,
                32771, 65537, 131101, 262147)


BFD_TABLE_SLOTS = 4051


def bfd_string_hash(name: str) -> int:
    """The string hash of BFD's generic hash tables (what orders GNU ld's symbol walk)."""
    h = 0
    for byte in name.encode():
        h = (h + byte + (byte << 17)) & 0xFFFFFFFF
        h ^= h >> 2
    n = len(name.encode())
    h = (h + n + (n << 17)) & 0xFFFFFFFF
    return h ^ (h >> 2)


def gnu_ld_walk_order(names: list[str]) -> list[int]:
    """Indices 1.. of ``names`` in the order GNU ld visits those symbols."""
    return sorted(range(1, len(names)),
                  key=lambda i: (bfd_string_hash(names[i]) % BFD_TABLE_SLOTS, i))


def bucket_count(nsyms: int) -> int:
    """Bucket count for ``nsyms`` hashed symbols, as GNU ld chooses it (no optimisation)."""
    best = BUCKET_SIZES[0]
    for size, following in zip(BUCKET_SIZES, BUCKET_SIZES[1:]):
        best = size
        if nsyms < following:
            break
    return best


def build_hash(kind: ElfKind, names: list[str]) -> bytes:
    """The .hash section for a .dynsym whose entries are named ``names`` (index 0 is '')."""
    nbucket = bucket_count(len(names) - 1)
    buckets = [0] * nbucket
    chains = [0] * len(names)
    for index in gnu_ld_walk_order(names):
        slot = elf_hash(names[index]) % nbucket
        chains[index] = buckets[slot]
        buckets[slot] = index
    return kind.hash.pack(nbucket, len(names)) + b"".join(map(kind.word.pack, buckets + chains))
