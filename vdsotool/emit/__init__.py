"""Kernel outputs: what a kernel build consumes besides the image itself.

:func:`kernel_outputs` computes, in memory, for one parsed image (file stem ``vdso32``,
``vdso64`` or ``vdso64le``):

* ``c``       – ``<stem>-blob.c`` and ``<stem>-blob.h`` (:mod:`vdsotool.emit.blob`);
* ``offsets`` – ``<stem>-offsets.h``, the kernel's gen_vdsoNN_offsets.sh output
  (:mod:`vdsotool.emit.offsets`), from the debug twin's ``.symtab``;
* ``patches`` – ``<stem>-patches.json``, the per-CPU ``.dynsym`` patch tables
  (:mod:`vdsotool.emit.patches`, of :mod:`vdsotool.kernel.patches`);
* ``incbin``  – ``<stem>-wrapper.S``, the ``.incbin`` wrapper.

The caller writes them atomically (``vdsotool.util.atomic.write_outputs``), which leaves an
unchanged file and its mtime alone, so Kbuild does not rebuild. Every output is a pure
function of the image (and the debug twin, and the page size); the image is parsed once
(:func:`vdsotool.elf.read`) by the caller and its symbols and patch tables are made once.
"""

from __future__ import annotations

import os

from vdsotool.abi.targets import Target
from vdsotool.elf.reader import ElfImage
from vdsotool.errors import VdsoError
from vdsotool.kernel.patches import check_page_size

KINDS = ("c", "offsets", "patches", "incbin")
ALL_KINDS = frozenset(KINDS)


def parse_kinds(text: str) -> frozenset[str]:
    """``--emit`` syntax: comma-separated kinds, ``all`` or ``none``; raises ValueError."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    if words == ["none"]:
        return frozenset()
    if words == ["all"]:
        return ALL_KINDS
    unknown = [w for w in words if w not in KINDS]
    if unknown or not words:
        raise ValueError(f"unknown kind(s) {', '.join(unknown) or repr(text)}: "
                         f"choose from {', '.join(KINDS)}, all or none")
    return frozenset(words)


def kernel_outputs(img: ElfImage, dbg: ElfImage | None, target: Target,
                   out_dir: str | os.PathLike, page_size: int = 4096,
                   kinds: frozenset[str] = ALL_KINDS, cpus=None) -> dict[str, bytes]:
    """The kernel outputs of the parsed image ``img`` (its parsed debug twin ``dbg`` feeds
    the offsets header), by path: ``out_dir`` joined with each file name. ``cpus``: the CPU
    table of the patch tables (a :class:`vdsotool.abi.cpus.CpuTable`; default: the packaged
    one). Each kind's module
    is imported only when that kind is asked for (the C blob's pulls in jinja2)."""
    check_page_size(page_size)
    stem = target.image

    def out(name: str) -> str:
        return os.path.join(out_dir, name)

    outputs: dict[str, bytes] = {}
    tables = None
    if "c" in kinds or "patches" in kinds:
        from vdsotool.kernel.patches import patch_tables

        tables = patch_tables(img, cpus)
    if "c" in kinds:
        from vdsotool.emit import blob

        header, source = blob.blob_files(img, target, page_size, tables)
        outputs[out(f"{stem}-blob.h")] = header.encode()
        outputs[out(f"{stem}-blob.c")] = source.encode()
    if "offsets" in kinds:
        if dbg is None:
            raise VdsoError.at(None, f"the offsets header needs {stem}.so.dbg (the debug "
                                     "twin with .symtab); none was built")
        from vdsotool.emit import offsets

        outputs[out(f"{stem}-offsets.h")] = offsets.offsets_header(dbg).encode()
    if "patches" in kinds:
        from vdsotool.emit import patches

        outputs[out(f"{stem}-patches.json")] = patches.patches_json(
            img, stem, page_size, tables, cpus).encode()
    if "incbin" in kinds:
        from vdsotool.emit import blob

        outputs[out(f"{stem}-wrapper.S")] = blob.incbin_wrapper(target, page_size).encode()
    return outputs
