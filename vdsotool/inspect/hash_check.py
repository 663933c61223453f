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

Walks are bounded by the symbol count, so a hostile table cannot loop. Tables are found
through the dynamic section (as a loader does); the image is linked at 0, so addresses are
file offsets once mapped through ``PT_LOAD``.
"""

from __future__ import annotations

from vdsotool.errors import Diagnostic
from vdsotool.inspect.elfread import DynSym, ElfImage
from vdsotool.link.dynamic import DT_GNU_HASH, DT_HASH
from vdsotool.link.gnu_hash import gnu_hash
from vdsotool.link.hash import elf_hash


def check_hash_tables(img: ElfImage, exported: list[DynSym]) -> list[Diagnostic]:
    """One diagnostic per table that loses exported symbols (naming them) or is malformed."""
    tags = {tag: value for tag, value, _at in img.dynamic()}
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
        lost = [s.name for s in exported if s.index not in found]
        if lost:
            out.append(Diagnostic(f"{name} loses {len(lost)} exported symbol(s), a loader "
                                  f"cannot look them up: {', '.join(lost)}", img.loc(at)))
    return out


def sysv_lookup(img: ElfImage, at: int, symbols: list[DynSym], exported: list[DynSym]):
    """(problems, indices of ``exported`` found) for the SysV table at file offset ``at``."""
    nbucket, nchain = img.unpack("II", at)
    problems = []
    if nchain != len(symbols):
        problems.append(Diagnostic(f".hash nchain is {nchain}, .dynsym has {len(symbols)} "
                                   "entries", img.loc(at + 4)))
    if nbucket == 0:
        return problems + [Diagnostic(".hash has no buckets", img.loc(at))], set()
    found = set()
    for sym in exported:
        index = img.unpack("I", at + 8 + 4 * (elf_hash(sym.name) % nbucket))[0]
        for _ in range(len(symbols)):
            if index == 0 or index >= len(symbols) or index >= nchain:
                break
            if symbols[index].name == sym.name:
                found.add(sym.index)
                break
            index = img.unpack("I", at + 8 + 4 * (nbucket + index))[0]
    return problems, found


def gnu_lookup(img: ElfImage, at: int, symbols: list[DynSym], exported: list[DynSym]):
    """(problems, indices of ``exported`` found) for the GNU table at file offset ``at``."""
    nbuckets, symoffset, bloom_size, bloom_shift = img.unpack("IIII", at)
    if nbuckets == 0 or bloom_size == 0:
        return [Diagnostic(".gnu.hash has no buckets or no Bloom filter", img.loc(at))], set()
    word_bits = img.bits
    bloom_at = at + 16
    buckets_at = bloom_at + bloom_size * word_bits // 8
    chains_at = buckets_at + 4 * nbuckets
    found = set()
    for sym in exported:
        h = gnu_hash(sym.name)
        word = img.unpack(img.word, bloom_at + word_bits // 8 * ((h // word_bits) % bloom_size))[0]
        mask = (1 << (h % word_bits)) | (1 << ((h >> bloom_shift) % word_bits))
        if word & mask != mask:
            continue
        index = img.unpack("I", buckets_at + 4 * (h % nbuckets))[0]
        while symoffset <= index < len(symbols):
            chain = img.unpack("I", chains_at + 4 * (index - symoffset))[0]
            if chain | 1 == h | 1 and symbols[index].name == sym.name:
                found.add(sym.index)
                break
            if chain & 1:
                break
            index += 1
    return [], found
