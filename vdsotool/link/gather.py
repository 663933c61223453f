"""Gathering input sections into the script's output sections.

Each input section goes to the *first* output section (in script order) with a pattern
that matches it — file pattern against the object's path, section pattern against the
section name, both shell globs as in GNU ld. ``/DISCARD/`` matches drop the section.
Within an output section, inputs come in pattern order, then object order
(``asm/images.toml``), as GNU ld fills them.

An allocated section no pattern matches would be an *orphan*, which GNU ld places by
heuristics; a vDSO script must be explicit, so vdsotool refuses it, naming the section and
its object. Unmatched non-allocated sections are ignored. ``.note.GNU-stack`` is a marker
(it asks for a non-executable stack), never content: GNU ld removes it before matching,
even though the scripts' ``*(.note.*)`` would otherwise catch it, and so do we.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from vdsotool.errors import DiagnosticSink, SourceLoc
from vdsotool.link.script import LinkerScript, OutputSection
from vdsotool.objfile import ObjectFile

MARKER_SECTIONS = {".note.GNU-stack"}


def gather(script: LinkerScript, objects: list[ObjectFile]) -> dict[str, list[tuple[int, str]]]:
    """Output section name -> [(object index, input section name)], in fill order."""
    outputs = [s for s in script.sections if isinstance(s, OutputSection)]
    claimed: dict[tuple[int, str], tuple[int, int]] = {}  # input -> (output index, pattern index)
    for index, obj in enumerate(objects):
        for name in obj.sections:
            if name in MARKER_SECTIONS:
                continue
            hit = _first_match(outputs, obj.path, name)
            if hit is not None:
                claimed[(index, name)] = hit
    sink = DiagnosticSink()
    for index, obj in enumerate(objects):
        for name, sec in obj.sections.items():
            if (index, name) not in claimed and "a" in sec.flags and name not in MARKER_SECTIONS:
                sink.error(sec.loc or SourceLoc(obj.path, 0), f"section '{name}' matches no output section "
                           f"of {script.path} (orphan sections are not supported)")
    sink.raise_if_failed()
    result: dict[str, list[tuple[int, str]]] = {}
    for out_index, out in enumerate(outputs):
        if out.discard:
            continue
        members = sorted((key for key, hit in claimed.items() if hit[0] == out_index),
                         key=lambda key: (claimed[key][1], key[0]))
        if members:
            result[out.name] = members
    return result


def _first_match(outputs: list[OutputSection], path: str, name: str) -> tuple[int, int] | None:
    for out_index, out in enumerate(outputs):
        for pat_index, pattern in enumerate(out.inputs):
            if fnmatchcase(path, pattern.file_pattern) and \
                    any(fnmatchcase(name, p) for p in pattern.section_patterns):
                return out_index, pat_index
    return None

