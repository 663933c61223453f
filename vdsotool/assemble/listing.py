"""Printer for ``vdsotool asm``: a listing (section, offset, bytes, source line) or JSON."""

from __future__ import annotations

from vdsotool.assemble.source import printable
from vdsotool.objfile import ObjectFile


def listing_text(obj: ObjectFile, listing) -> str:
    """One row per statement that placed bytes (its first 8 bytes shown), then the
    relocations and frames: linear in the object, however long a statement is."""
    lines = [f"# {obj.path} ({obj.target.name})"]
    for row in listing:
        loc = row.loc
        src = (loc.text or "").strip() if loc.path == obj.path else f"{printable(loc.path)}:{loc.line}"
        hexes = row.data[:8].hex(" ") + (" ..." if len(row.data) > 8 else "")
        lines.append(f"{row.section:<12} {row.offset:06x}  {hexes:<27} {loc.line:>4}  {src}")
    for name, sec in obj.sections.items():
        for r in sec.relocations:
            lines.append(f"reloc {name}+{r.offset:#x} {r.kind} {r.symbol}{r.addend:+d}")
    for f in obj.frames:
        lines.append(f"frame {f.section} [{f.start:#x},{f.end:#x}) "
                     f"{'simple ' if f.simple else ''}{'signal ' if f.signal_frame else ''}"
                     f"{len(f.instructions)} cfa instruction(s)")
        for off, ins, _ in f.instructions:
            lines.append(f"  @{off:#x} {ins}")
    return "\n".join(lines) + "\n"


def listing_json(obj: ObjectFile) -> dict:
    return {
        "path": obj.path,
        "target": obj.target.name,
        "sections": {n: {"flags": s.flags, "type": s.type, "align": s.align, "data": bytes(s.data).hex(),
                         "relocations": [{"offset": r.offset, "kind": r.kind, "symbol": r.symbol,
                                          "addend": r.addend} for r in s.relocations]}
                     for n, s in obj.sections.items()},
        "symbols": {n: {"section": y.section, "value": y.value, "size": y.size, "type": y.type,
                        "binding": y.binding, "visibility": y.visibility, "defined": y.defined}
                    for n, y in sorted(obj.symbols.items())},
        "frames": [{"section": f.section, "start": f.start, "end": f.end, "simple": f.simple,
                    "signal_frame": f.signal_frame, "return_column": f.return_column,
                    "instructions": [[off, repr(ins)] for off, ins, _ in f.instructions]}
                   for f in obj.frames],
    }
