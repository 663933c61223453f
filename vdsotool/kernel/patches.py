"""Per-CPU patch tables: exactly which bytes of an image a CPU's kernel changes at boot.

The kernel of 2.6.15 edits ``.dynsym`` at boot by name (the rules and the CPU table are data
in :mod:`vdsotool.abi.cpus`): it looks symbols up and copies fields. This module runs that
same procedure, once per CPU, on a copy of the parsed image's symbol fields and records the
difference as :class:`FieldChange` values — symbol, ``.dynsym`` index, field, file offset,
old bytes, new bytes — so a kernel (or a test) applies a table with ``memcpy`` instead of
parsing ELF. Only fields whose bytes really change are listed, in file-offset order.

Besides the per-CPU symbol patches the kernel does one fix-up that depends on the page
size but not on the CPU (reference §2.3): the 32-bit word ``__kernel_datapage_offset``
receives ``pages * page_size - st_value``, the distance from that word to the data page
mapped right after the image's pages (:func:`datapage_fixup`). :func:`patched_image`
applies both, giving the image as the CPU's processes see it.

``vdsotool patch``, the patch tables of the C blob and of ``patches.json``, ``dump
--patches`` and the tests all use these functions on an image parsed once.
"""

from __future__ import annotations

from vdsotool.abi.cpus import Cpu, CpuTable, Patch, default_table
from vdsotool.elf.reader import ElfImage, SymbolTable
from vdsotool.errors import VdsoError
from vdsotool.util.records import field, record

KERNEL_MAX_SYMNAME = 64  # the kernel copies names into a 64-byte buffer (63 chars + NUL)
DATAPAGE_SYMBOL = "__kernel_datapage_offset"
MIN_PAGE_SIZE = 4096  # the smallest page a PowerPC Linux kernel maps
MAX_PAGE_SIZE = 256 * 1024  # the largest: CONFIG_PPC_256K_PAGES (44x)
_COPIED = ("st_value", "st_size", "st_info", "st_other", "st_shndx")  # fix_name's -> gen_name


def check_page_size(page_size: int) -> None:
    """The one page-size rule of the library and of every --page-size option."""
    if not MIN_PAGE_SIZE <= page_size <= MAX_PAGE_SIZE or page_size & (page_size - 1):
        raise VdsoError.at(None, f"page size {page_size}: want a power of two from "
                                 f"{MIN_PAGE_SIZE} to {MAX_PAGE_SIZE}")


@record(frozen=True)
class FieldChange:
    symbol: str
    index: int  # .dynsym entry
    field: str  # st_name, st_value, ... ("word" for the data-page word)
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
    notes: tuple[str, ...] = field(default=())  # a matching patch the kernel would skip


def dynsym(img: ElfImage) -> SymbolTable:
    """``.dynsym`` as the kernel finds it at boot (by name); a located error without one."""
    table = img.dynsym
    if table is None:
        raise VdsoError.at(img.loc(None), "no .dynsym section")
    return table


def _kernel_name(name: str) -> str:
    """The name as the kernel compares it: at most 63 characters, cut at '@'."""
    return name[:KERNEL_MAX_SYMNAME - 1].split("@", 1)[0]


def table_for(img: ElfImage, cpu: Cpu, patches: tuple[Patch, ...] | None = None) -> CpuPatchTable:
    """What ``cpu``'s kernel changes in ``img`` (any CPU, even one that would not map it)
    with ``patches`` (default: the packaged CPU table's)."""
    patches = default_table().patches if patches is None else patches
    symbols = dynsym(img).symbols
    layout = img.kind.sym
    fields = [s.fields() for s in symbols]

    def find(name: str) -> int | None:  # st_name is only ever cleared: names stay the entries'
        return next((i for i, f in enumerate(fields)
                     if f["st_name"] and _kernel_name(symbols[i].name) == name), None)

    notes = []
    for patch in patches:
        if not patch.applies_to(cpu):
            continue
        gen = find(patch.gen_name)
        fix = None if gen is None or patch.hides else find(patch.fix_name)
        if gen is None or (fix is None and not patch.hides):
            missing = patch.gen_name if gen is None else patch.fix_name
            notes.append(f"{missing} not in the image: the kernel skips this patch")
        elif patch.hides:
            fields[gen]["st_name"] = 0
        else:
            fields[gen].update({f: fields[fix][f] for f in _COPIED})
    changes = [FieldChange(s.name, s.index, f, s.at + layout.offset(f),
                           img.kind.uint(old, layout.width(f)),
                           img.kind.uint(now[f], layout.width(f)))
               for s, now in zip(symbols, fields)
               for f, old in s.fields().items() if now[f] != old]
    return CpuPatchTable(cpu, tuple(sorted(changes, key=lambda c: c.offset)), tuple(notes))


def patch_tables(img: ElfImage, cpus: CpuTable | None = None) -> list[CpuPatchTable]:
    """The table of every CPU of ``cpus`` (default: the packaged CPU table) whose kernel
    maps this image, in CPU-table order."""
    dynsym(img)  # a located error first, even when no CPU maps the image
    cpus = cpus or default_table()
    return [table_for(img, cpu, cpus.patches) for cpu in cpus.mapping(img.bits, img.little)]


def image_pages(size: int, page_size: int) -> int:
    """Pages an image of ``size`` bytes occupies."""
    return -(-size // page_size)


def datapage_fixup(img: ElfImage, page_size: int = 4096) -> FieldChange | None:
    """The store of the data-page distance into ``__kernel_datapage_offset`` (None when the
    image has no such symbol, as modern ones do not)."""
    check_page_size(page_size)
    entry = next((s for s in dynsym(img).symbols if s.name == DATAPAGE_SYMBOL and s.defined),
                 None)
    if entry is None:
        return None
    at = entry.value  # linked at 0: st_value is the file offset
    if at + 4 > len(img.data):
        raise VdsoError.at(img.loc(entry.at), f"{DATAPAGE_SYMBOL} = {at:#x} lies outside the image")
    distance = (image_pages(len(img.data), page_size) * page_size - at) & 0xFFFFFFFF
    return FieldChange(DATAPAGE_SYMBOL, entry.index, "word", at, img.data[at:at + 4],
                       img.kind.uint(distance, 4))


def apply_changes(image: bytes, changes: list[FieldChange] | tuple[FieldChange, ...]) -> bytes:
    """``image`` with each change's new bytes written at its offset."""
    data = bytearray(image)
    for c in changes:
        data[c.offset:c.offset + len(c.new)] = c.new
    return bytes(data)


def patched_image(img: ElfImage, cpu: Cpu, page_size: int = 4096,
                  patches: tuple[Patch, ...] | None = None) -> bytes:
    """The image as ``cpu``'s kernel maps it: its symbol patches (``patches``, default: the
    packaged CPU table's) and the data-page word."""
    if not cpu.maps(img.bits, img.little):
        raise VdsoError.at(img.loc(0), f"a {cpu.name} kernel does not map a {img.kind} image")
    changes = table_for(img, cpu, patches).changes
    fix = datapage_fixup(img, page_size)
    return apply_changes(img.data, [*changes, *([fix] if fix else [])])
