"""``<image>-patches.json``: the per-CPU ``.dynsym`` patch tables of
:mod:`vdsotool.kernel.patches` as a file a kernel build (or a test) reads.

The file (format_version 1)::

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

from vdsotool.abi.cpus import Cpu, CpuTable, default_table
from vdsotool.abi.targets import target_for
from vdsotool.elf.reader import ElfImage
from vdsotool.kernel.patches import CpuPatchTable, datapage_fixup, image_pages, patch_tables

FORMAT_VERSION = 1


def cpu_json(cpu: Cpu, cpus: CpuTable | None = None) -> dict:
    """A CPU as patches.json and ``vdsotool cpus --json`` write it (see the module doc);
    feature names from ``cpus`` (default: the packaged CPU table)."""
    return {"name": cpu.name, "pvr_value": f"{cpu.pvr_value:#010x}",
            "pvr_mask": f"{cpu.pvr_mask:#010x}", "features": f"{cpu.features:#018x}",
            "feature_names": (cpus or default_table()).feature_list(cpu.features)}


def table_json(table: CpuPatchTable, cpus: CpuTable | None = None) -> dict:
    return cpu_json(table.cpu, cpus) | {"changes": [ch.to_json() for ch in table.changes],
                                        "notes": list(table.notes)}


def patch_definitions_json(cpus: CpuTable | None = None) -> list[dict]:
    """The patch definitions of ``cpus`` (default: the packaged table), in order, for JSON."""
    return [{"ftr_mask": f"{p.ftr_mask:#018x}", "ftr_value": f"{p.ftr_value:#018x}",
             "gen_name": p.gen_name, "fix_name": p.fix_name}
            for p in (cpus or default_table()).patches]


def patches_document(img: ElfImage, stem: str, page_size: int = 4096,
                     tables: list[CpuPatchTable] | None = None,
                     cpus: CpuTable | None = None) -> dict:
    """The document of ``img``; ``tables``: its :func:`patch_tables` when already made;
    ``cpus``: the CPU table (default: the packaged one)."""
    fix = datapage_fixup(img, page_size)
    return {
        "format_version": FORMAT_VERSION,
        "image": stem,
        "target": target_for(img.bits, img.kind.byteorder).name,
        "image_size": len(img.data),
        "image_sha256": hashlib.sha256(img.data).hexdigest(),
        "page_size": page_size,
        "pages": image_pages(len(img.data), page_size),
        "datapage_fixup": fix.to_json() if fix else None,
        "patch_definitions": patch_definitions_json(cpus),
        "cpus": [table_json(t, cpus)
                 for t in (patch_tables(img, cpus) if tables is None else tables)],
    }


def patches_json(img: ElfImage, stem: str, page_size: int = 4096,
                 tables: list[CpuPatchTable] | None = None,
                 cpus: CpuTable | None = None) -> str:
    return json.dumps(patches_document(img, stem, page_size, tables, cpus), indent=2) + "\n"
