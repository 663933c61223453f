"""The ``fixups`` part of ``vdsotool dump``: a today's image's feature-fixup tables, entry by
entry (:mod:`vdsotool.kernel.fixups` decodes them).

Each feature entry shows its mask and value (with the names of today's CPU feature bits from
the CPU table), and its default code and alternative code disassembled; an LWSYNC entry
shows the instruction it rewrites. A 32-bit image's tables are read as a 32-bit kernel reads
them (4-byte fields); a 64-bit kernel reads its compat image's with 8-byte fields (``patch
--cpu`` with a 64-bit CPU does). A 2.6.15 image has no such tables (its kernel patches
``.dynsym``): the part does not apply to it and is left out of the report.
"""

from __future__ import annotations

from vdsotool.errors import VdsoError

MAX_LINES = 65536  # disassembled words in all (a vDSO's tables cover a few dozen)


def fixups_part(img, cpus=None) -> dict | None:
    """The JSON-able part, or None for an image of the 2.6.15 design."""
    from vdsotool.abi.cpus import default_table
    from vdsotool.abi.targets import POWERPC_MACHINES
    from vdsotool.inspect.disasm import Disassembler
    from vdsotool.kernel.fixups import LwsyncEntry, field_size, is_today, read_fixups

    if not is_today(img):
        return None
    cpus = cpus or default_table()
    tables = read_fixups(img)
    dis = Disassembler(img.bits, img.little) if img.e_machine in POWERPC_MACHINES else None
    budget = [MAX_LINES]

    def code(start: int, end: int) -> list[dict]:
        budget[0] -= (end - start) // 4
        if budget[0] < 0:
            raise VdsoError.at(img.loc(start), f"fixup code ranges of more than {MAX_LINES} "
                                               "words in all: dump shows at most that many")
        return [{"addr": at, "bytes": img.data[at:at + 4].hex(),
                 "text": dis.text(img.data[at:at + 4], at) if dis else None}
                for at in range(start, end, 4)]

    out = []
    for t in tables:
        entries = []
        for e in t.entries:
            if isinstance(e, LwsyncEntry):
                entries.append({**e.to_json(), "code": code(e.target, e.target + 4)})
            else:
                entries.append({**e.to_json(), "mask_names": cpus.today_feature_list(e.mask),
                                "value_names": cpus.today_feature_list(e.value),
                                "code": code(e.start, e.end),
                                "alternative": code(e.alt_start, e.alt_end)})
        out.append({"name": t.name, "word": t.word, "offset": t.at, "size": t.size,
                    "entry_size": t.entry_size, "entries": entries})
    return {"field_size": field_size(img), "tables": out}


def _bits(value: int, names: list[str]) -> str:
    return f"{value:#x}" + (f" ({'|'.join(names)})" if names else "")


def text_lines(part: dict) -> list[str]:
    out = [f"Feature fixups ({part['field_size']}-byte fields; the kernel keeps the code when "
           "features & mask == value, else copies the alternative over it and fills nops):"]
    if not part["tables"]:
        out.append("  no fixup tables")
    for t in part["tables"]:
        out.append(f"  {t['name']}: {len(t['entries'])} entries at {t['offset']:#x} "
                   f"({t['entry_size']} bytes each, tested against the {t['word']} features)")
        for e in t["entries"]:
            if "target" in e:
                out.append(f"    #{e['index']} at {e['offset']:#x}: lwsync at {e['target']:#x} "
                           "when the CPU has LWSYNC")
                out.extend(_code_lines(e["code"]))
                continue
            out.append(f"    #{e['index']} at {e['offset']:#x}: mask "
                       f"{_bits(e['mask'], e['mask_names'])} value "
                       f"{_bits(e['value'], e['value_names'])}")
            out.append(f"      code {e['start']:#x}..{e['end']:#x}:")
            out.extend(_code_lines(e["code"]))
            out.append(f"      alternative {e['alt_start']:#x}..{e['alt_end']:#x}:"
                       + ("" if e["alternative"] else " (empty: the code becomes nops)"))
            out.extend(_code_lines(e["alternative"]))
    return out


def _code_lines(lines: list[dict]) -> list[str]:
    return [f"        {c['addr']:08x}: {c['bytes']}  {c['text'] or ''}".rstrip() for c in lines]
