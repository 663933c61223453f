"""The ``.gnu.hash`` section (DT_GNU_HASH): GNU's faster symbol lookup, with a Bloom filter.

Layout (32-bit words in the image's byte order, Bloom words of the ELF class's size)::

    nbuckets, symoffset, bloom_size, bloom_shift,
    bloom[bloom_size]            (ELF32: 32-bit words, ELF64: 64-bit words)
    buckets[nbuckets]            first .dynsym index of each bucket, 0 if empty
    chain[nsyms - symoffset]     hash | 1 on the last symbol of a bucket

Hashed symbols must sit at the end of .dynsym (from ``symoffset``), grouped by bucket
``h % nbuckets``: the linker orders .dynsym with :func:`order_for_buckets`. Each symbol sets
two Bloom bits: ``h % bits`` and ``(h >> bloom_shift) % bits`` in word
``(h / bits) % bloom_size``.

Sizes follow GNU ld: nbuckets as for .hash; Bloom size from the symbol count (see
:func:`bloom_geometry`).
"""

from __future__ import annotations

from vdsotool.elf import ElfKind
from vdsotool.elf.hashes import gnu_hash
from vdsotool.link.hash import bucket_count, gnu_ld_walk_order


def floor_log2(n: int) -> int:
    return max(n.bit_length() - 1, 0)


def bloom_geometry(nsyms: int, bits: int) -> tuple[int, int]:
    """(bloom_size in words, bloom_shift) GNU ld picks for ``nsyms`` hashed symbols."""
    log = floor_log2(nsyms) + 1
    if log < 3:
        log = 5
    elif (1 << (log - 2)) & nsyms:
        log += 3
    else:
        log += 2
    return max((1 << log) // bits, 1), log


def order_for_buckets(names: list[str]) -> list[str]:
    """Hashed names in .dynsym order: grouped by bucket, stable within a bucket."""
    nbuckets = bucket_count(len(names))
    return sorted(names, key=lambda n: gnu_hash(n) % nbuckets)


def gnu_ld_dynsym_order(names: list[str]) -> list[str]:
    """GNU ld's .dynsym order: its symbol-table walk order (link/hash.py), then grouped by
    .gnu.hash bucket."""
    walk = gnu_ld_walk_order([""] + names)
    return order_for_buckets([names[i - 1] for i in walk])


def build_gnu_hash(kind: ElfKind, names: list[str], symoffset: int) -> bytes:
    """The .gnu.hash section; ``names[symoffset:]`` are the hashed .dynsym entries, already
    in :func:`order_for_buckets` order."""
    hashed, bits = names[symoffset:], kind.bits
    nbuckets = bucket_count(len(hashed))
    bloom_size, shift = bloom_geometry(len(hashed), bits)
    bloom = [0] * bloom_size
    buckets = [0] * nbuckets
    chain = []
    hashes = [gnu_hash(n) for n in hashed]
    for i, h in enumerate(hashes):
        bloom[(h // bits) % bloom_size] |= (1 << (h % bits)) | (1 << ((h >> shift) % bits))
        slot = h % nbuckets
        if buckets[slot] == 0:
            buckets[slot] = symoffset + i
        last = i + 1 == len(hashes) or hashes[i + 1] % nbuckets != slot
        chain.append((h | 1) if last else (h & ~1))
    return (kind.gnu_hash.pack(nbuckets, symoffset, bloom_size, shift)
            + b"".join(map(kind.nat.pack, bloom)) + b"".join(map(kind.word.pack, buckets + chain)))
