"""``vdsotool cpus``: the CPU table and the patch definitions, as JSON or as rich tables.

A model (:func:`cpus_document`, plain data from :mod:`vdsotool.abi.cpus`) and a printer
(:func:`cpu_tables`, rich renderables); the CLI prints whichever was asked for.
"""

from __future__ import annotations

from vdsotool.abi.cpus import CPUS, PATCHES, feature_list


def _maps(cpu) -> list[str]:
    from vdsotool.abi.targets import TARGETS

    return [t.image for t in TARGETS.values() if cpu.maps(t.bits, t.little)]


def cpus_document() -> dict:
    """The CPUs (as patches.json lists them, plus word size, byte order and images) and the
    patch definitions."""
    from vdsotool.emit.patches import cpu_json, patch_definitions_json

    return {
        "cpus": [cpu_json(c) | {"bits": c.bits, "little_endian": c.little_endian,
                                "maps": _maps(c)} for c in CPUS],
        "patches": patch_definitions_json(),
    }


def _condition(mask: int, value: int) -> str:
    set_names = feature_list(mask & value)
    clear_names = feature_list(mask & ~value)
    return " ".join([*set_names, *(f"!{n}" for n in clear_names)]) or "always"


def cpu_tables() -> list:
    """Two rich tables: the CPUs, then the patch definitions."""
    from rich.table import Table

    cpus = Table(title="CPUs", title_justify="left")
    for column in ("name", "PVR value", "PVR mask", "features", "images"):
        cpus.add_column(column)
    for c in CPUS:
        cpus.add_row(c.name, f"{c.pvr_value:#010x}", f"{c.pvr_mask:#010x}",
                     " ".join(feature_list(c.features)) or "-", " ".join(_maps(c)))
    patches = Table(title="Patches (applied in this order when the condition holds)",
                    title_justify="left")
    for column in ("condition", "symbol", "becomes"):
        patches.add_column(column)
    for p in PATCHES:
        patches.add_row(_condition(p.ftr_mask, p.ftr_value), p.gen_name,
                        p.fix_name or "(hidden: st_name = 0)")
    return [cpus, patches]
