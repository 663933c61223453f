"""``vdsotool cpus``: the CPU table, the patch definitions and today's CPUs, as JSON or as
rich tables.

A model (:func:`cpus_document`, plain data from a :class:`vdsotool.abi.cpus.CpuTable`)
and a printer (:func:`cpu_tables`, rich renderables); the CLI prints whichever was asked
for.
"""

from __future__ import annotations

from vdsotool.abi.cpus import CpuTable


def _maps(cpu) -> list[str]:
    from vdsotool.abi.targets import TARGETS

    return [t.image for t in TARGETS.values() if cpu.maps(t.bits, t.little)]


def cpus_document(table: CpuTable) -> dict:
    """The CPUs (as patches.json lists them, plus word size, byte order and images) and the
    patch definitions."""
    from vdsotool.emit.patches import cpu_json, patch_definitions_json

    return {
        "cpus": [cpu_json(c, table) | {"bits": c.bits, "little_endian": c.little_endian,
                                       "maps": _maps(c)} for c in table.cpus],
        "patches": patch_definitions_json(table),
        "today": {"features": {name: bit for name, bit in table.today_features},
                  "cpus": [{"name": c.name, "pvr_value": f"{c.pvr_value:#010x}",
                            "pvr_mask": f"{c.pvr_mask:#010x}",
                            "features": f"{c.features:#018x}",
                            "feature_names": table.today_feature_list(c.features),
                            "bits": c.bits, "little_endian": c.little_endian,
                            "maps": _maps(c)} for c in table.today_cpus]},
    }


def _condition(table: CpuTable, mask: int, value: int) -> str:
    set_names = table.feature_list(mask & value)
    clear_names = table.feature_list(mask & ~value)
    return " ".join([*set_names, *(f"!{n}" for n in clear_names)]) or "always"


def cpu_tables(table: CpuTable) -> list:
    """Three rich tables: the CPUs, the patch definitions (2.6.15), today's CPUs."""
    from rich.table import Table

    cpus = Table(title="CPUs", title_justify="left")
    for column in ("name", "PVR value", "PVR mask", "features", "images"):
        cpus.add_column(column)
    for c in table.cpus:
        cpus.add_row(c.name, f"{c.pvr_value:#010x}", f"{c.pvr_mask:#010x}",
                     " ".join(table.feature_list(c.features)) or "-", " ".join(_maps(c)))
    patches = Table(title="Patches (applied in this order when the condition holds)",
                    title_justify="left")
    for column in ("condition", "symbol", "becomes"):
        patches.add_column(column)
    for p in table.patches:
        patches.add_row(_condition(table, p.ftr_mask, p.ftr_value), p.gen_name,
                        p.fix_name or "(hidden: st_name = 0)")
    today = Table(title="Today's kernels' CPUs (feature fixups of 5.11+ images)",
                  title_justify="left")
    for column in ("name", "PVR value", "PVR mask", "features", "images"):
        today.add_column(column)
    for c in table.today_cpus:
        today.add_row(c.name, f"{c.pvr_value:#010x}", f"{c.pvr_mask:#010x}",
                      " ".join(table.today_feature_list(c.features)) or "-",
                      " ".join(_maps(c)))
    return [cpus, patches, today]
