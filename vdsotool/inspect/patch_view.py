"""The ``patches`` part of ``vdsotool dump``: what each CPU's kernel edits in the image.

One vDSO image serves every CPU; at boot the kernel redirects or hides exported symbols in
``.dynsym`` according to its CPU's features (the rules and the CPU table are data in
:mod:`vdsotool.abi.cpus`; :func:`vdsotool.kernel.patches.patch_tables` replays the kernel's
procedure and lists the changed fields). This module only *presents* those tables: the
field changes are grouped per symbol and named by what they mean for a caller:

* ``hide`` — ``st_name`` became 0: a lookup no longer finds the symbol;
* ``redirect`` — value/size/info were copied from another entry: the symbol now runs that
  entry's code (``to`` names the entry of the unpatched image with the new value).

Independently of the CPU, the kernel stores the distance to the data page into the 32-bit
word ``__kernel_datapage_offset`` (old images only); it depends on the page size, so it is
shown for the page size asked for (``dump --page-size``, default :data:`PAGE_SIZE`).

Values are integers read in the image's byte order. Works on any image the tables can be
computed for (ours, GNU's, a kernel's); a malformed ``.dynsym`` raises :class:`VdsoError`
at the offending offset.
"""

from __future__ import annotations

from vdsotool.abi.targets import POWERPC_MACHINES
from vdsotool.elf.reader import ElfImage, Symbol

PAGE_SIZE = 4096  # the page size the data-page word is shown for (the kernels' default)


def patches_part(img: ElfImage, cpus=None, page_size: int = PAGE_SIZE) -> dict:
    """The JSON-able ``patches`` part of the dump report, for the CPU table ``cpus`` (a
    :class:`vdsotool.abi.cpus.CpuTable`; default: the packaged one) and ``page_size``."""
    if img.e_machine not in POWERPC_MACHINES:
        return {"page_size": page_size, "datapage": None, "cpus": [],
                "note": "not a PowerPC image: no kernel patches it"}
    from vdsotool.kernel.fixups import is_today

    if is_today(img):
        return _today_part(img, cpus, page_size)
    from vdsotool.kernel.patches import datapage_fixup, dynsym, patch_tables

    original = dynsym(img).symbols  # located error first when .dynsym itself is malformed
    order = img.kind.byteorder
    from vdsotool.abi.cpus import default_table

    cpus = cpus or default_table()
    fix = datapage_fixup(img, page_size)
    return {
        "page_size": page_size,
        "datapage": None if fix is None else {
            "symbol": fix.symbol, "offset": fix.offset, "size": len(fix.old),
            "old": int.from_bytes(fix.old, order), "new": int.from_bytes(fix.new, order)},
        "cpus": [_cpu_view(table, original, order, cpus) for table in patch_tables(img, cpus)],
    }


def _today_part(img: ElfImage, cpus, page_size: int) -> dict:
    """A today's image: per CPU of the table's ``[today]`` CPUs that maps it, which fixup
    entries its kernel keeps and which it patches (no .dynsym patch, no data-page word)."""
    from vdsotool.abi.cpus import default_table
    from vdsotool.kernel.fixups import outcomes

    cpus = cpus or default_table()
    views = []
    for cpu in cpus.today_cpus:
        if not cpu.maps(img.bits, img.little):
            continue
        views.append({"name": cpu.name, "pvr_value": cpu.pvr_value, "pvr_mask": cpu.pvr_mask,
                      "features": cpus.today_feature_list(cpu.features), "symbols": [],
                      "notes": [],
                      "fixups": [{"table": o.entry.table, "index": o.entry.index,
                                  "kept": o.kept} for o in outcomes(img, cpu, cpus)]})
    return {"page_size": page_size, "datapage": None, "cpus": views}


def _cpu_view(table, entries, order: str, cpus) -> dict:
    cpu = table.cpu
    by_symbol: dict[int, list] = {}
    for change in table.changes:
        by_symbol.setdefault(change.index, []).append(change)
    return {"name": cpu.name, "pvr_value": cpu.pvr_value, "pvr_mask": cpu.pvr_mask,
            "features": cpus.feature_list(cpu.features),
            "symbols": [_symbol_view(changes, entries, order)
                        for _index, changes in sorted(by_symbol.items())],
            "notes": list(table.notes)}


def _symbol_view(changes, entries, order: str) -> dict:
    fields = [{"field": c.field, "offset": c.offset, "size": len(c.old),
               "old": int.from_bytes(c.old, order), "new": int.from_bytes(c.new, order)}
              for c in changes]
    new = {f["field"]: f["new"] for f in fields}
    hidden = new.get("st_name", None) == 0
    return {"symbol": changes[0].symbol, "index": changes[0].index,
            "action": "hide" if hidden else "redirect",
            "to": None if hidden else _entry_with(entries, new, changes[0].index),
            "fields": fields}


def _entry_with(entries: list[Symbol], new: dict[str, int], index: int) -> str | None:
    """The name of the unpatched entry that has the new values (the code now reached)."""
    for e in entries:
        if e.index != index and e.name and e.defined \
                and all(e.fields()[f] == v for f, v in new.items()):
            return e.name
    return None


def text_lines(part: dict) -> list[str]:
    """The text printer's lines for the ``patches`` part."""
    today = any("fixups" in cpu for cpu in part["cpus"])
    out = ["Patches (what each CPU's kernel changes " +
           ("with the feature fixups at boot):" if today else "in .dynsym at boot):")]
    if part.get("note"):
        return out + [f"  {part['note']}"]
    fix = part["datapage"]
    if fix:
        out.append(f"  every CPU, {part['page_size']}-byte pages: {fix['symbol']} "
                   f"(word at {fix['offset']:#x}) {fix['old']:#x} -> {fix['new']:#x}")
    for cpu in part["cpus"]:
        out.append(f"  {cpu['name']:10} PVR {cpu['pvr_value']:#010x}/{cpu['pvr_mask']:#010x}"
                   f"  {' '.join(cpu['features']) or '-'}")
        out.extend(f"    {_symbol_text(s)}" for s in cpu["symbols"])
        out.extend(f"    note: {n}" for n in cpu["notes"])
        patched = [f"{f['table']} #{f['index']}" for f in cpu.get("fixups", ()) if not f["kept"]]
        if patched:
            out.append(f"    patches {', '.join(patched)}; keeps the other "
                       f"{len(cpu['fixups']) - len(patched)} fixup entries")
        if not cpu["symbols"] and not cpu["notes"] and not patched:
            out.append("    no change")
    return out


def _symbol_text(sym: dict) -> str:
    how = "hidden" if sym["action"] == "hide" else f"-> {sym['to'] or '?'}"
    fields = ", ".join(f"{f['field']} {f['old']:#x} -> {f['new']:#x}" for f in sym["fields"])
    return f"{sym['symbol']} {how}: {fields}"
