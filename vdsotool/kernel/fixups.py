"""Feature fixups: how today's kernels (5.11 and later) specialise a vDSO image per CPU.

Instead of redirecting ``.dynsym`` entries (the 2.6.15 way, :mod:`vdsotool.kernel.patches`),
a today's image carries *feature sections*: a default code range, an alternative code range
and an entry saying when to use which. At boot (``vdso_fixup_features`` in
``arch/powerpc/kernel/vdso.c``, ``lib/feature-fixups.c``) the kernel walks four tables:

| section            | feature word the kernel compares | entries                    |
|--------------------|----------------------------------|----------------------------|
| ``__ftr_fixup``     | ``cur_cpu_spec->cpu_features``   | feature entries            |
| ``__mmu_ftr_fixup`` | ``cur_cpu_spec->mmu_features``   | feature entries            |
| ``__fw_ftr_fixup``  | ``powerpc_firmware_features``    | feature entries            |
| ``__lwsync_fixup``  | ``cur_cpu_spec->cpu_features``   | one offset per entry       |

A feature entry is six fields — mask, value, then the code start and end and the
alternative start and end as signed offsets from the entry's own address — each of the
kernel's ``long`` width: 8 bytes on a 64-bit kernel (48-byte entries, also for the 32-bit
compat image), 4 bytes on a 32-bit kernel (24-byte entries) (:data:`FIELD_SIZE`). Per entry:

* an alternative longer than the code is refused (the kernel warns and skips the entry);
* if ``features & mask == value`` the code stays;
* otherwise the alternative is copied over the start of the code — a relative branch whose
  target lies outside ``[alt_start, alt_end]`` is re-targeted so it still reaches the same
  address from its new place — and the rest of the code range is filled with nops.

An LWSYNC entry is one signed offset (kernel ``long``) to an instruction that becomes
``lwsync`` when the CPU has ``CPU_FTR_LWSYNC``.

The kernel finds the tables from the generated offsets header (``VDSO_*_fixup_start/_end``);
here they are found from the section headers, else from the image's local bracket symbols
of the same names (:func:`read_fixups`). Everything read from the image is bounds-checked:
a crafted table is an ``image+0xOFF: error:`` at the offending entry; at most
:data:`MAX_ENTRIES` entries per table are read, covering at most :data:`MAX_CODE` bytes of
code and alternatives in all, so applying them is bounded too.
"""

from __future__ import annotations

from vdsotool.elf.reader import ElfImage
from vdsotool.errors import VdsoError
from vdsotool.util.records import record

# The tables, in the order the kernel applies them: (section, bracket-symbol stem, which
# feature word, entry kind).
TABLES = (
    ("__ftr_fixup", "ftr", "cpu", "feature"),
    ("__mmu_ftr_fixup", "mmu_ftr", "mmu", "feature"),
    ("__fw_ftr_fixup", "fw_ftr", "fw", "feature"),
    ("__lwsync_fixup", "lwsync", "cpu", "lwsync"),
)
FIELD_SIZE = {64: 8, 32: 4}  # the kernel's `long`, by the kernel's word size
FEATURE_FIELDS = 6  # mask, value, start, end, alt_start, alt_end
MAX_ENTRIES = 4096  # per table (Debian's images have 7; a kernel's own table a few hundred)
MAX_CODE = 1 << 20  # bytes of code and alternative ranges in all tables (Debian's: 52)
NOP = 0x60000000  # ori 0,0,0
LWSYNC = 0x7C2004AC  # sync 1
CPU_FTR_LWSYNC = "LWSYNC"  # the name in the CPU table's today's feature bits


@record(frozen=True)
class FeatureEntry:
    """One feature-section entry; all places are file offsets of the image."""

    table: str  # the section name
    index: int
    at: int  # the entry itself
    mask: int
    value: int
    start: int
    end: int
    alt_start: int
    alt_end: int

    def applies(self, features: int) -> bool:
        """True when a CPU with ``features`` keeps the default code."""
        return features & self.mask == self.value

    @property
    def fits(self) -> bool:
        return self.alt_end - self.alt_start <= self.end - self.start

    def to_json(self) -> dict:
        return {"table": self.table, "index": self.index, "offset": self.at,
                "mask": self.mask, "value": self.value, "start": self.start,
                "end": self.end, "alt_start": self.alt_start, "alt_end": self.alt_end}


@record(frozen=True)
class LwsyncEntry:
    table: str
    index: int
    at: int
    target: int  # the instruction that becomes lwsync

    def to_json(self) -> dict:
        return {"table": self.table, "index": self.index, "offset": self.at,
                "target": self.target}


@record(frozen=True)
class FixupTable:
    name: str  # section name
    word: str  # "cpu" | "mmu" | "fw": the feature word compared
    at: int  # file offset of the table
    size: int
    entry_size: int
    entries: tuple  # FeatureEntry or LwsyncEntry


@record(frozen=True)
class Features:
    """The three feature words a kernel compares (each 0 when unknown)."""

    cpu: int = 0
    mmu: int = 0
    fw: int = 0

    def word(self, which: str) -> int:
        return getattr(self, which)


def _locate(img: ElfImage, section: str, stem: str) -> tuple[int, int] | None:
    """(file offset, size) of a table: its section header, else its bracket symbols
    ``VDSO_<stem>_fixup_start/_end`` of ``.symtab``; None when the image names neither."""
    sec = img.section(section)
    if sec is not None:
        return sec.offset, sec.size
    symbols = {s.name: s.value for s in (img.symtab.symbols if img.symtab else ())}
    start, end = symbols.get(f"VDSO_{stem}_fixup_start"), symbols.get(f"VDSO_{stem}_fixup_end")
    if start is None or end is None:
        return None
    if end < start:
        raise VdsoError.at(img.loc(None), f"VDSO_{stem}_fixup_end {end:#x} lies before "
                                          f"VDSO_{stem}_fixup_start {start:#x}")
    at = img.vaddr_to_offset(start)
    if at is None and end == start:
        return start, 0  # an empty table at the end of the loaded bytes
    if at is None:
        raise VdsoError.at(img.loc(None), f"VDSO_{stem}_fixup_start {start:#x} lies in no "
                                          "loaded segment")
    return at, end - start


def field_size(img: ElfImage, kernel_bits: int | None = None) -> int:
    """The width of a table field as the kernel mapping ``img`` reads it: its ``long``
    (``kernel_bits`` default: 64 for a 64-bit image, 32 for a 32-bit one)."""
    bits = kernel_bits or img.bits
    if img.bits == 64 and bits != 64:
        raise VdsoError.at(img.loc(0), "a 32-bit kernel does not map a 64-bit image")
    return FIELD_SIZE[bits]


def read_fixups(img: ElfImage, kernel_bits: int | None = None) -> list[FixupTable]:
    """The fixup tables the image holds (a table it does not name is left out), entries
    decoded and checked against the image."""
    width = field_size(img, kernel_bits)
    tables, budget = [], MAX_CODE
    for section, stem, word, kind in TABLES:
        where = _locate(img, section, stem)
        if where is None:
            continue
        at, size = where
        entry_size = width * (FEATURE_FIELDS if kind == "feature" else 1)
        if size % entry_size:
            raise VdsoError.at(img.loc(at), f"{section}: {size} bytes is not a whole number "
                                            f"of {entry_size}-byte entries")
        count = size // entry_size
        if count > MAX_ENTRIES:
            raise VdsoError.at(img.loc(at), f"{section}: {count} entries, more than "
                                            f"{MAX_ENTRIES}")
        img.need(at, size)
        entries = tuple(_entry(img, section, kind, i, at + i * entry_size, width)
                        for i in range(count))
        for e in entries:
            budget -= 4 if kind == "lwsync" else e.end - e.start + e.alt_end - e.alt_start
            if budget < 0:
                raise VdsoError.at(img.loc(e.at), f"{section} entry {e.index}: the fixup "
                                                  f"tables cover more than {MAX_CODE} bytes "
                                                  "of code in all")
        tables.append(FixupTable(section, word, at, size, entry_size, entries))
    return tables


def _entry(img: ElfImage, table: str, kind: str, index: int, at: int, width: int):
    fields = [int.from_bytes(img.data[at + k * width:at + (k + 1) * width], img.kind.byteorder,
                             signed=k >= 2 or kind == "lwsync")
              for k in range(FEATURE_FIELDS if kind == "feature" else 1)]
    what = f"{table} entry {index}"
    if kind == "lwsync":
        target = at + fields[0]
        _code(img, at, what, "lwsync target", target, target + 4)
        return LwsyncEntry(table, index, at, target)
    mask, value, *offsets = fields
    start, end, alt_start, alt_end = (at + o for o in offsets)
    _code(img, at, what, "code", start, end)
    _code(img, at, what, "alternative", alt_start, alt_end)
    return FeatureEntry(table, index, at, mask, value, start, end, alt_start, alt_end)


def _code(img: ElfImage, at: int, what: str, part: str, start: int, end: int) -> None:
    if start % 4 or end % 4 or start > end:
        raise VdsoError.at(img.loc(at), f"{what}: {part} {start:#x}..{end:#x} is not a "
                                        "word-aligned range")
    if start < 0 or end > len(img.data):
        raise VdsoError.at(img.loc(at), f"{what}: {part} {start:#x}..{end:#x} lies outside "
                                        f"the image ({len(img.data):#x} bytes)")


# --- what a kernel does with them ----------------------------------------------------------

def _word(data, at: int, order: str) -> int:
    return int.from_bytes(data[at:at + 4], order)


def _length(data, at: int, order: str, bits: int) -> int:
    """Bytes of the instruction at ``at``: 8 for an ISA 3.1 prefix (primary opcode 1) on a
    64-bit kernel, which steps over prefixed instructions whole, else 4."""
    prefixed = bits == 64 and at + 8 <= len(data) and _word(data, at, order) >> 26 == 1
    return 8 if prefixed else 4


def _retarget(word: int, src: int, dest: int, alt: tuple[int, int]) -> int | None:
    """``word`` (copied from ``src`` to ``dest``) with a relative branch leaving the
    alternative re-targeted; None when the new displacement does not fit."""
    opcode, absolute = word >> 26, word & 2
    if opcode not in (16, 18) or absolute:
        return word
    field = 0x03FFFFFC if opcode == 18 else 0xFFFC
    disp = word & field
    disp -= (field + 4) if disp & ((field + 4) >> 1) else 0
    target = src + disp
    if alt[0] <= target <= alt[1]:  # within the alternative (its end included): kept
        return word
    new = target - dest
    if not -((field + 4) >> 1) <= new < (field + 4) >> 1:
        return None
    return (word & ~field & 0xFFFFFFFF) | (new & field)


def apply(img: ElfImage, features: Features, kernel_bits: int | None = None,
          lwsync_bit: int = 0, tables: list[FixupTable] | None = None) -> bytes:
    """The image as a kernel with ``features`` leaves it after boot: every table applied
    in the kernel's order (``lwsync_bit``: the CPU_FTR_LWSYNC bit of ``features.cpu``)."""
    bits = kernel_bits or img.bits
    tables = read_fixups(img, kernel_bits) if tables is None else tables
    data = bytearray(img.data)
    order = img.kind.byteorder
    for table in tables:
        have = features.word(table.word)
        for e in table.entries:
            if isinstance(e, LwsyncEntry):
                if lwsync_bit and features.cpu & lwsync_bit:
                    data[e.target:e.target + 4] = LWSYNC.to_bytes(4, order)
                continue
            what = f"{table.name} entry {e.index}"
            if not e.fits:
                raise VdsoError.at(img.loc(e.at), f"{what}: alternative of "
                                                  f"{e.alt_end - e.alt_start} bytes is longer "
                                                  f"than the code's {e.end - e.start}: the "
                                                  "kernel refuses it")
            if e.applies(have):
                continue
            src, dest = e.alt_start, e.start
            alt = bytes(data[e.alt_start:e.alt_end])  # read before the code is written
            while src < e.alt_end:
                size = _length(alt, src - e.alt_start, order, bits)
                word = _retarget(_word(alt, src - e.alt_start, order), src, dest,
                                 (e.alt_start, e.alt_end))
                if word is None:
                    raise VdsoError.at(img.loc(e.at), f"{what}: the branch at {src:#x} cannot "
                                                      f"reach its target from {dest:#x}")
                data[dest:dest + 4] = word.to_bytes(4, order)
                if size == 8:
                    data[dest + 4:dest + 8] = alt[src - e.alt_start + 4:src - e.alt_start + 8]
                src, dest = src + size, dest + size
            for at in range(dest, e.end, 4):
                data[at:at + 4] = NOP.to_bytes(4, order)
    return bytes(data)


# --- per CPU ---------------------------------------------------------------------------

TODAY_VERSION = 0x050B00  # 5.11: the first kernel whose vDSO is specialised by fixups


def is_today(img: ElfImage) -> bool:
    """Is ``img`` of today's design, specialised by feature fixups? It names a fixup
    table (a section or the bracket symbols), or its "Linux" note's LINUX_VERSION_CODE is
    5.11 or later. Any other image (2.6.15's, a kernel-style one without tables) gets the
    ``.dynsym`` patches of :mod:`vdsotool.kernel.patches`."""
    from vdsotool.elf.constants import NT_LINUX_VERSION

    if any(_locate(img, section, stem) is not None for section, stem, _w, _k in TABLES):
        return True
    for note in img.notes:
        if note.name == "Linux" and note.type == NT_LINUX_VERSION and len(note.desc) == 4:
            return int.from_bytes(note.desc, img.kind.byteorder) >= TODAY_VERSION
    return False


def features_of(cpu) -> Features:
    """The feature words a today's kernel on ``cpu`` (a CPU of ``[[today.cpu]]``)
    compares: its CPU features; no MMU or firmware bit is named by the table (0)."""
    return Features(cpu=cpu.features)


def kernel_bits_for(img: ElfImage, cpu) -> int:
    """The word size of the kernel ``cpu`` runs when it maps ``img``: a 64-bit CPU runs a
    64-bit kernel (mapping the 32-bit image as the compat vDSO), a 32-bit CPU a 32-bit one."""
    return 64 if cpu.bits == 64 else 32


def patched_image(img: ElfImage, cpu, cpus) -> bytes:
    """The today's image ``img`` as ``cpu``'s kernel leaves it (``cpus``: the CPU table,
    for the LWSYNC bit)."""
    if not cpu.maps(img.bits, img.little):
        raise VdsoError.at(img.loc(0), f"a {cpu.name} kernel does not map a {img.kind} image")
    return apply(img, features_of(cpu), kernel_bits_for(img, cpu),
                 cpus.today_bit(CPU_FTR_LWSYNC))


@record(frozen=True)
class EntryOutcome:
    entry: object  # FeatureEntry | LwsyncEntry
    kept: bool  # the default code stays (lwsync: the instruction is not rewritten)


def outcomes(img: ElfImage, cpu, cpus, tables: list[FixupTable] | None = None
             ) -> list[EntryOutcome]:
    """Per entry, whether ``cpu``'s kernel keeps the default code or patches it."""
    tables = read_fixups(img, kernel_bits_for(img, cpu)) if tables is None else tables
    words = features_of(cpu)
    lwsync = cpus.today_bit(CPU_FTR_LWSYNC)
    out = []
    for table in tables:
        for e in table.entries:
            if isinstance(e, LwsyncEntry):
                out.append(EntryOutcome(e, not (lwsync and words.cpu & lwsync)))
            else:
                out.append(EntryOutcome(e, e.applies(words.word(table.word))))
    return out
