"""``.dynstr``: the NUL-separated names the dynamic tables point into.

GNU ld's order for a vDSO: a leading empty string, the exported symbol names in the order
the linker first met their definitions (input objects in ``asm/images.toml`` order, each
object's symbols in its own order), then the soname (DT_SONAME, base version) and the
version node names. A name that is the tail of a longer one shares its bytes (``"bar"``
inside ``"foobar"``), as GNU ld's string-table finalisation does; such names take no
space of their own.
"""

from __future__ import annotations


def build_dynstr(names: list[str]) -> tuple[bytes, dict[str, int]]:
    """(section bytes, offset of every name); ``names`` in order, duplicates ignored."""
    unique = list(dict.fromkeys(n for n in names if n))
    longest_first = sorted(unique, key=len, reverse=True)  # stable: ties keep their order
    owners = {n: _longest_containing_tail(n, longest_first) for n in unique}
    out = bytearray(b"\0")
    offsets: dict[str, int] = {"": 0}
    for name in unique:
        if owners[name] == name:
            offsets[name] = len(out)
            out += name.encode() + b"\0"
    for name in unique:
        owner = owners[name]
        offsets[name] = offsets[owner] + len(owner.encode()) - len(name.encode())
    return bytes(out), offsets


def _longest_containing_tail(name: str, longest_first: list[str]) -> str:
    """The longest name ending with ``name`` (``name`` itself if none is longer); among
    equally long ones the first met. ``longest_first``: the names by length, longest
    first, ties in their original order."""
    for other in longest_first:
        if len(other) <= len(name):
            return name
        if other.endswith(name):
            return other
    return name
