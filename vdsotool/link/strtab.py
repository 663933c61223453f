"""String tables (``.dynstr``, ``.strtab``, ``.shstrtab``): NUL-terminated names after a
leading empty string, a name that is the tail of another sharing its bytes.

GNU's string-table finalisation, reproduced so the tables are GNU's byte for byte: the
names are sorted by their reversed text, so the names ending with a given one follow it;
walking that order backwards, a name that is the tail of the last name kept whole is
placed inside it, otherwise it is kept whole. The names kept whole take their offsets in
the order they were added (``.dynstr``: exports in first-definition order, the soname,
the version nodes). A sort and one pass: linear in the table's size but for the sort.
"""

from __future__ import annotations


def build_strtab(names: list[str]) -> tuple[bytes, dict[str, int]]:
    """(section bytes, offset of every name); ``names`` in order, duplicates ignored."""
    unique = list(dict.fromkeys(n for n in names if n))
    owner: dict[str, str] = {}
    whole = None
    for name in sorted(unique, key=lambda n: n[::-1], reverse=True):
        if whole is not None and whole.endswith(name):
            owner[name] = whole
        else:
            whole = name
    out = bytearray(b"\0")
    offsets: dict[str, int] = {"": 0}
    for name in unique:
        if name not in owner:
            offsets[name] = len(out)
            out += name.encode() + b"\0"
    for name, whole in owner.items():
        offsets[name] = offsets[whole] + len(whole.encode()) - len(name.encode())
    return bytes(out), offsets
