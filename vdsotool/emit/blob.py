"""The C blob (``<image>-blob.c`` + ``.h``) and the ``.incbin`` wrapper (``<image>-wrapper.S``).

The blob is what x86's vdso2c makes for its kernel, adapted to this vDSO: the image as a
page-aligned ``const unsigned char`` array (the page size is a parameter; the array is the
image rounded up to whole pages, zero-filled), its size and page count, the offset of every
exported symbol (``.dynsym`` st_value — the image is linked at 0), the per-CPU ``.dynsym``
patch tables of :mod:`vdsotool.kernel.patches` as arrays of structs, and, for user space, the
data-page struct (``vdsotool.abi.datapage.c_header``). The array is const: a kernel copies
it into the pages it maps and patches the copy.

The wrapper is the powerpc kernel's way (vdsoNN_wrapper.S, reference §8): ``.incbin`` of
the image between ``vdsoNN_start``/``vdsoNN_end``, both page-aligned.

C identifiers use the kernel's prefix ``vdso32``/``vdso64`` (also for the little-endian
image: a kernel embeds one of them); file names use the image stem (``vdso64le-…``).
The text comes from jinja2 templates (vdsotool/emit/templates/); this module only prepares
values.
"""

from __future__ import annotations

import hashlib
import re

from vdsotool.abi.targets import Target
from vdsotool.elf.constants import SHN_ABS
from vdsotool.elf.reader import ElfImage
from vdsotool.emit.templates import render
from vdsotool.errors import VdsoError
from vdsotool.kernel.patches import CpuPatchTable, dynsym, image_pages, patch_tables
from vdsotool.util.records import record

BYTES_PER_LINE = 10
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@record(frozen=True)
class ExportedSymbol:
    name: str
    value: int


def c_prefix(target: Target) -> str:
    return f"vdso{target.bits}"


def exported_symbols(img: ElfImage) -> list[ExportedSymbol]:
    """Every defined, named ``.dynsym`` entry but the version node's ABS symbol, in
    ``.dynsym`` order; names that are not C identifiers cannot be emitted and are refused."""
    out = []
    for e in dynsym(img).symbols:
        if not e.name or not e.defined or e.shndx == SHN_ABS:
            continue
        if not _C_IDENTIFIER.fullmatch(e.name):
            raise VdsoError.at(img.loc(e.at), f"exported symbol '{e.name}' is not a C identifier")
        out.append(ExportedSymbol(e.name, e.value))
    if not out:
        raise VdsoError.at(img.loc(None), "the image exports no symbols")
    return out


def c_string(text: str) -> str:
    """``text`` as a C string literal. Patched entries are found by the kernel's name
    match (cut at '@' and 63 characters), so their full names may hold any byte: quotes,
    backslashes, '?' (trigraphs) and non-printables are escaped, octal, three digits."""
    out = []
    for byte in text.encode("latin-1"):
        ch = chr(byte)
        out.append(ch if 0x20 <= byte < 0x7F and ch not in '"\\?' else f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _c_bytes(data: bytes) -> str:
    return ", ".join(f"0x{b:02x}" for b in data)


def _byte_lines(data: bytes) -> list[str]:
    return [" ".join(f"0x{b:02X}," for b in data[i:i + BYTES_PER_LINE])
            for i in range(0, len(data), BYTES_PER_LINE)]


def _cpu_values(table: CpuPatchTable) -> dict:
    c = table.cpu
    return {"name": c.name, "literal": c_string(c.name), "c_name": c.c_name, "pvr_mask": c.pvr_mask,
            "pvr_value": c.pvr_value, "features": c.features, "notes": table.notes,
            "changes": [{"offset": ch.offset, "size": len(ch.old), "old": _c_bytes(ch.old),
                         "new": _c_bytes(ch.new), "index": ch.index, "symbol": c_string(ch.symbol),
                         "field": ch.field} for ch in table.changes]}


def _values(img: ElfImage, target: Target, page_size: int,
            tables: list[CpuPatchTable] | None) -> dict:
    symbols = exported_symbols(img)
    tables = patch_tables(img) if tables is None else tables
    if not tables:
        raise VdsoError.at(None, f"no CPU of the CPU table maps a {target.name} image")
    pages = image_pages(len(img.data), page_size)
    datapage = next((s.value for s in symbols if s.name == "__kernel_datapage_offset"), -1)
    prefix = c_prefix(target)
    return {"stem": target.image, "target": target.name, "soname": target.soname,
            "bits": target.bits, "prefix": prefix, "PREFIX": prefix.upper(),
            "size": len(img.data), "sha256": hashlib.sha256(img.data).hexdigest(),
            "page_size": page_size, "pages": pages, "symbols": symbols,
            "cpus": [_cpu_values(t) for t in tables],
            "datapage_sym": f"{datapage:#x}" if datapage >= 0 else "-1"}


def blob_files(img: ElfImage, target: Target, page_size: int = 4096,
               tables: list[CpuPatchTable] | None = None) -> tuple[str, str]:
    """The text of ``<stem>-blob.h`` and of ``<stem>-blob.c`` of the parsed image;
    ``tables``: its patch tables when already made."""
    from vdsotool.abi import datapage

    values = _values(img, target, page_size, tables)
    header = render("blob.h.j2",
                    values | {"datapage_header": datapage.c_header().rstrip("\n")})
    padded = img.data + bytes(values["pages"] * page_size - len(img.data))
    source = render("blob.c.j2", values | {"byte_lines": _byte_lines(padded)})
    return header, source


def incbin_wrapper(target: Target, page_size: int = 4096) -> str:
    return render("wrapper.S.j2", {"stem": target.image, "target": target.name,
                                    "bits": target.bits, "prefix": c_prefix(target),
                                    "page_size": page_size})
