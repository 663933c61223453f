"""Can a loader find every exported symbol through the image's hash tables?

glibc finds vDSO functions (``dl_vdso_vsym``) by name through the dynamic section's hash
table, never by scanning ``.dynsym``: a hash table that loses a symbol makes that function
silently unavailable (callers fall back to the system call, or crash where there is none).
So each exported symbol is looked up the way a loader does, in both tables the image has:

* SysV ``DT_HASH``: 32-bit words ``nbucket, nchain, bucket[nbucket], chain[nchain]``;
  the chain starts at ``bucket[elf_hash(name) % nbucket]``, follows ``chain[i]``, ends at
  0. ``nchain`` must equal the number of ``.dynsym`` entries (tools size the table by it).
* GNU ``DT_GNU_HASH``: ``nbuckets, symoffset, bloom_size, bloom_shift``, then
  ``bloom_size`` words of the ELF class's width, ``nbuckets`` 32-bit bucket words and one
  32-bit chain word per symbol from ``symoffset`` on. The Bloom filter must have both bits
  ``h % W`` and ``(h >> bloom_shift) % W`` of word ``(h / W) % bloom_size`` set; the bucket
  ``h % nbuckets`` names the first symbol of a run whose chain words hold ``hash | 1``
  for equal names, and the last entry of a run has bit 0 set.

Each table is read once and each bucket's chain walked once, with a budget of
:data:`STEPS_PER_ENTRY` steps per table entry, so the check stays linear in the table's
size however hostile it is: a SysV chain that loops is a defect (a loader's lookup of a
missing name would never end) and ends that walk; chains that overlap past the budget (a
linker puts each symbol on exactly one chain) are a defect and the lookups are not
reported. Tables are found through the dynamic section (as a loader does); the image is
linked at 0, so addresses are file offsets once mapped through ``PT_LOAD``.
"""

from __future__ import annotations

from bisect import bisect_left

from vdsotool.elf.constants import DT_GNU_HASH, DT_HASH
from vdsotool.elf.hashes import elf_hash, gnu_hash
from vdsotool.elf.reader import ElfImage, Symbol
from vdsotool.errors import Diagnostic

STEPS_PER_ENTRY = 8  # chain steps allowed per bucket and chain word, all walks together


def check_hash_tables(img: ElfImage, exported: list[Symbol]) -> list[Diagnostic]:
    """One diagnostic per table that loses exported symbols (naming them) or is malformed."""
    tags = {d.tag: d.value for d in img.dynamic()}
    symbols = img.dynsyms()
    out: list[Diagnostic] = []
    for tag, name, lookup in ((DT_HASH, "DT_HASH (.hash)", sysv_lookup),
                              (DT_GNU_HASH, "DT_GNU_HASH (.gnu.hash)", gnu_lookup)):
        if tag not in tags:
            continue
        at = img.vaddr_to_offset(tags[tag])
        if at is None:
            out.append(Diagnostic(f"{name} address {tags[tag]:#x} is outside PT_LOAD",
                                  img.loc(img.e_phoff)))
            continue
        problems, found = lookup(img, at, symbols, exported)
        out += problems
        lost = [] if found is None else [s.name for s in exported if s.index not in found]
        if lost:
            out.append(Diagnostic(f"{name} loses {len(lost)} exported symbol(s), a loader "
                                  f"cannot look them up: {', '.join(lost)}", img.loc(at)))
    return out


def sysv_lookup(img: ElfImage, at: int, symbols: list[Symbol], exported: list[Symbol]):
    """(problems, indices of ``exported`` found) for the SysV table at file offset ``at``."""
    nbucket, nchain = img.unpack(img.kind.hash, at)
    problems = []
    if nchain != len(symbols):
        problems.append(Diagnostic(f".hash nchain is {nchain}, .dynsym has {len(symbols)} "
                                   "entries", img.loc(at + 4)))
    if nbucket == 0:
        return problems + [Diagnostic(".hash has no buckets", img.loc(at))], set()
    chains_at = at + img.kind.hash.size + 4 * nbucket
    buckets = img.words(at + img.kind.hash.size, nbucket)
    count = min(nchain, len(symbols))  # a chain ends at an index outside both
    chains = img.words(chains_at, count)
    budget = STEPS_PER_ENTRY * (nbucket + count)
    names: dict[int, set[str]] = {}  # bucket -> the names on its chain
    for bucket in sorted({elf_hash(s.name) % nbucket for s in exported}):
        index, seen = buckets[bucket], set()
        while 0 < index < count:
            if index in seen:
                problems.append(Diagnostic(f".hash chain of bucket {bucket} loops at entry "
                                           f"{index}: a loader's lookup of a missing name "
                                           "never ends", img.loc(chains_at + 4 * index)))
                break
            budget -= 1
            if budget < 0:
                return problems + [Diagnostic(
                    f".hash chains overlap: walking them takes more than {STEPS_PER_ENTRY} "
                    "steps per entry (a linker puts each symbol on one chain); lookups not "
                    "checked", img.loc(at))], None
            seen.add(index)
            index = chains[index]
        names[bucket] = {symbols[i].name for i in seen}
    return problems, {s.index for s in exported if s.name in names[elf_hash(s.name) % nbucket]}


def gnu_lookup(img: ElfImage, at: int, symbols: list[Symbol], exported: list[Symbol]):
    """(problems, indices of ``exported`` found) for the GNU table at file offset ``at``."""
    nbuckets, symoffset, bloom_size, bloom_shift = img.unpack(img.kind.gnu_hash, at)
    if nbuckets == 0 or bloom_size == 0:
        return [Diagnostic(".gnu.hash has no buckets or no Bloom filter", img.loc(at))], set()
    word_bits = img.bits
    bloom_at = at + img.kind.gnu_hash.size
    buckets_at = bloom_at + bloom_size * img.kind.nat.size
    bloom = [w for (w,) in img.array(img.kind.nat, bloom_at, bloom_size)]
    buckets = img.words(buckets_at, nbuckets)
    chains = img.words(buckets_at + 4 * nbuckets, max(0, len(symbols) - symoffset))
    # A bucket names the first entry of a run that ends at the first chain word with bit 0
    # set (or at the last symbol); run_end[r] is where the run holding entry r ends.
    run_end = [0] * len(chains)
    for r in range(len(chains) - 1, -1, -1):
        run_end[r] = r if chains[r] & 1 or r + 1 == len(chains) else run_end[r + 1]
    where: dict[tuple[int, str], list[int]] = {}  # (hash | 1, name) -> entries, ascending
    for r, chain in enumerate(chains):
        where.setdefault((chain | 1, symbols[symoffset + r].name), []).append(r)
    found = set()
    for sym in exported:
        h = gnu_hash(sym.name)
        word = bloom[(h // word_bits) % bloom_size]
        mask = (1 << (h % word_bits)) | (1 << ((h >> bloom_shift) % word_bits))
        start = buckets[h % nbuckets] - symoffset
        if word & mask != mask or not 0 <= start < len(chains):
            continue
        hits = where.get((h | 1, sym.name), [])
        first = bisect_left(hits, start)
        if first < len(hits) and hits[first] <= run_end[start]:
            found.add(sym.index)
    return [], found
