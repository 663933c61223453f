"""Per-CPU patch tables: exactly which bytes of an image a CPU's kernel changes at boot.

The kernel of 2.6.15 edits ``.dynsym`` at boot by name (see :mod:`vdsotool.abi.cpus`):
it parses the image's ELF, looks symbols up and copies fields. vdsotool runs that same
procedure here, once per CPU, on a copy of the symbol table and records the difference
as a list of :class:`FieldChange` — symbol, ``.dynsym`` index, field, file offset, old
bytes, new bytes — so a kernel (or a test) applies a table with ``memcpy`` instead of
parsing ELF. Only fields whose bytes really change are listed, in file-offset order.

Besides the per-CPU symbol patches the kernel does one fix-up that depends on the page
size but not on the CPU (reference §2.3): the 32-bit word ``__kernel_datapage_offset``
receives ``pages * page_size - st_value``, the distance from that word to the data page
mapped right after the image's pages. :func:`datapage_fixup` computes it;
:func:`patched_image` applies both, giving the image as the CPU's processes see it.

``<image>-patches.json`` (format_version 1) carries the same tables::

    {"format_version": 1, "image": "vdso64", "target": "ppc64",
     "image_size": 5120, "image_sha256": "…", "page_size": 4096, "pages": 2,
     "datapage_fixup": {"symbol", "index", "field", "offset", "size", "old", "new"} | null,
     "patch_definitions": [{"ftr_mask", "ftr_value", "gen_name", "fix_name"}],
     "cpus": [{"name", "pvr_value", "pvr_mask", "features", "feature_names",
               "changes": [{"symbol", "index", "field", "offset", "size", "old", "new"}],
               "notes": ["…"]}]}

Offsets and sizes are integers; masks, PVRs and features are "0x…" strings (64-bit
values do not survive every JSON reader as numbers); old/new are lowercase hex of the
bytes as they are in the file. ``cpus`` lists, in table order, the CPUs whose kernels map
this image (word size and byte order). ``notes`` records a matching patch the kernel
would skip (a symbol missing from the image). The schema is docs/patches.schema.json; the
user documentation docs/kernel-outputs.md.
"""

from __future__ import annotations

import hashlib
import json

from vdsotool.abi.cpus import CPUS, PATCHES, Cpu, Patch, cpus_for, feature_list
from vdsotool.abi.targets import target_for
from vdsotool.emit import check_page_size
from vdsotool.emit.elfsyms import SymbolTable, read_symbols
from vdsotool.errors import VdsoError
from vdsotool.inspect.elfread import read_elf
from vdsotool.util.records import field, record

FORMAT_VERSION = 1
KERNEL_MAX_SYMNAME = 64  # the kernel copies names into a 64-byte buffer (63 chars + NUL)
DATAPAGE_SYMBOL = "__kernel_datapage_offset"


@record(frozen=True)
class FieldChange:
    symbol: str
    index: int  # .dynsym entry
    field: str  # st_name, st_value, ...
    offset: int  # file offset of the field
    old: bytes
    new: bytes

    def to_json(self) -> dict:
        return {"symbol": self.symbol, "index": self.index, "field": self.field,
                "offset": self.offset, "size": len(self.old), "old": self.old.hex(),
                "new": self.new.hex()}


@record(frozen=True)
class CpuPatchTable:
    cpu: Cpu
    changes: tuple[FieldChange, ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return cpu_json(self.cpu) | {"changes": [ch.to_json() for ch in self.changes],
                                     "notes": list(self.notes)}


def cpu_json(cpu: Cpu) -> dict:
    """A CPU as patches.json and ``vdsotool cpus --json`` write it (see the module doc)."""
    return {"name": cpu.name, "pvr_value": f"{cpu.pvr_value:#010x}",
            "pvr_mask": f"{cpu.pvr_mask:#010x}", "features": f"{cpu.features:#018x}",
            "feature_names": feature_list(cpu.features)}


def patch_definitions_json() -> list[dict]:
    """The patch definitions of :mod:`vdsotool.abi.cpus`, in table order, for JSON."""
    return [{"ftr_mask": f"{p.ftr_mask:#018x}", "ftr_value": f"{p.ftr_value:#018x}",
             "gen_name": p.gen_name, "fix_name": p.fix_name} for p in PATCHES]


# --- the kernel's boot-time procedure, on a copy of .dynsym --------------------------------

def _kernel_name(name: str) -> str:
    """The name as the kernel compares it: at most 63 characters, cut at '@'."""
    return name[:KERNEL_MAX_SYMNAME - 1].split("@", 1)[0]


class _WorkingDynsym:
    """The ``.dynsym`` fields as the kernel sees and edits them during boot."""

    def __init__(self, table: SymbolTable):
        self.table = table
        self.fields = [dict(e.fields) for e in table.entries]

    def find(self, name: str) -> int | None:
        for i, f in enumerate(self.fields):
            if f["st_name"] and _kernel_name(self.table.name_at(f["st_name"])) == name:
                return i
        return None

    def apply(self, patch: Patch) -> str | None:
        """Apply one matching patch; returns a note when the kernel would skip it."""
        gen = self.find(patch.gen_name)
        if gen is None:
            return f"{patch.gen_name} not in the image: the kernel skips this patch"
        if patch.hides:
            self.fields[gen]["st_name"] = 0
            return None
        fix = self.find(patch.fix_name)
        if fix is None:
            return f"{patch.fix_name} not in the image: the kernel skips this patch"
        for name in ("st_value", "st_size", "st_info", "st_other", "st_shndx"):
            self.fields[gen][name] = self.fields[fix][name]
        return None

    def changes(self) -> list[FieldChange]:
        out = []
        for entry, now in zip(self.table.entries, self.fields):
            for name, at, _width in self.table.layout:
                old, new = self.table.pack(name, entry.fields[name]), self.table.pack(name, now[name])
                if old != new:
                    out.append(FieldChange(entry.name, entry.index, name, entry.offset + at,
                                           old, new))
        return sorted(out, key=lambda c: c.offset)


def _table(dynsym: SymbolTable, cpu: Cpu, patches: tuple[Patch, ...]) -> CpuPatchTable:
    work = _WorkingDynsym(dynsym)
    notes = [note for p in patches if p.applies_to(cpu) for note in [work.apply(p)] if note]
    return CpuPatchTable(cpu, tuple(work.changes()), tuple(notes))


def table_for(image: bytes, cpu: Cpu, path: str = "<image>",
              patches: tuple[Patch, ...] = PATCHES) -> CpuPatchTable:
    """What ``cpu``'s kernel changes in ``image`` (any CPU, even one that would not map it)."""
    return _table(read_symbols(read_elf(image, path)), cpu, patches)


def patch_tables(image: bytes, path: str = "<image>") -> list[CpuPatchTable]:
    """The table of every CPU in :data:`CPUS` whose kernel maps this image, in table order.
    This is the entry point ``vdsotool dump --patches`` shows."""
    elf = read_elf(image, path)
    dynsym = read_symbols(elf)
    return [_table(dynsym, cpu, PATCHES) for cpu in cpus_for(elf.bits, elf.little)]


# --- the data-page word and applying ------------------------------------------------------

def image_pages(image: bytes, page_size: int) -> int:
    return -(-len(image) // page_size)


def datapage_fixup(image: bytes, page_size: int = 4096,
                   path: str = "<image>") -> FieldChange | None:
    """The store of the data-page distance into ``__kernel_datapage_offset`` (None when the
    image has no such symbol, as modern ones do not)."""
    check_page_size(page_size)
    elf = read_elf(image, path)
    dynsym = read_symbols(elf)
    entry = next((e for e in dynsym.entries if e.name == DATAPAGE_SYMBOL and e.defined), None)
    if entry is None:
        return None
    at = entry.value  # linked at 0: st_value is the file offset
    if at + 4 > len(image):
        raise VdsoError.at(elf.loc(entry.offset),
                           f"{DATAPAGE_SYMBOL} = {at:#x} lies outside the image")
    order = "little" if elf.little else "big"
    distance = (image_pages(image, page_size) * page_size - at) & 0xFFFFFFFF
    return FieldChange(DATAPAGE_SYMBOL, entry.index, "word", at, image[at:at + 4],
                       distance.to_bytes(4, order))


def apply_changes(image: bytes, changes: list[FieldChange] | tuple[FieldChange, ...]) -> bytes:
    """``image`` with each change's new bytes written at its offset."""
    data = bytearray(image)
    for c in changes:
        data[c.offset:c.offset + len(c.new)] = c.new
    return bytes(data)


def patched_image(image: bytes, cpu: Cpu, page_size: int = 4096,
                  path: str = "<image>") -> bytes:
    """The image as ``cpu``'s kernel maps it: its symbol patches and the data-page word."""
    elf = read_elf(image, path)
    if not cpu.maps(elf.bits, elf.little):
        kind = f"{elf.bits}-bit {'little' if elf.little else 'big'}-endian"
        raise VdsoError.at(elf.loc(0), f"a {cpu.name} kernel does not map a {kind} image")
    table = table_for(image, cpu, path)
    fix = datapage_fixup(image, page_size, path)
    return apply_changes(image, [*table.changes, *([fix] if fix else [])])


# --- JSON ----------------------------------------------------------------------------------

def patches_document(image: bytes, stem: str, page_size: int = 4096,
                     path: str = "<image>") -> dict:
    elf = read_elf(image, path)
    fix = datapage_fixup(image, page_size, path)
    return {
        "format_version": FORMAT_VERSION,
        "image": stem,
        "target": target_for(elf.bits, "little" if elf.little else "big").name,
        "image_size": len(image),
        "image_sha256": hashlib.sha256(image).hexdigest(),
        "page_size": page_size,
        "pages": image_pages(image, page_size),
        "datapage_fixup": fix.to_json() if fix else None,
        "patch_definitions": patch_definitions_json(),
        "cpus": [t.to_json() for t in patch_tables(image, path)],
    }


def patches_json(image: bytes, stem: str, page_size: int = 4096, path: str = "<image>") -> str:
    return json.dumps(patches_document(image, stem, page_size, path), indent=2) + "\n"


__all__ = ["CPUS", "CpuPatchTable", "FieldChange", "apply_changes", "datapage_fixup",
           "patch_tables", "patched_image", "patches_json", "table_for"]
