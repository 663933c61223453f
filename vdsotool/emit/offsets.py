"""``<image>-offsets.h``: the kernel's vdsoNN-offsets.h, derived as the kernel derives it.

The kernel (arch/powerpc/kernel/vdso/Makefile, reference §8 and §11.9) runs
``$(NM) vdsoNN.so.dbg | gen_vdsoNN_offsets.sh | LC_ALL=C sort``. The script is one ``sed``:
first a leading run of zeros in each line becomes a single ``0``; then every line of the
shape ``<hex> <one type letter> VDSO_<name>`` (name made of letters, digits and ``_``)
prints ``#define vdsoNN_offset_<name>`` TAB ``0x<hex>``. ``LC_ALL=C sort`` orders the
lines bytewise. There is no header guard and no comment: the file is those lines only.

This module reproduces that pipeline from the debug twin's ``.symtab`` without running nm:
nm prints every symbol of ``.symtab`` except the null entry, section and file symbols, with
its value as 8 (ELF32) or 16 (ELF64) lowercase hex digits. Duplicates stay (several
objects may define the same local name; ``sort`` keeps them all). ``NN`` is the word size:
the little-endian 64-bit kernel uses ``vdso64_offset_`` too.
"""

from __future__ import annotations

import re

from vdsotool.elf.constants import STT_FILE, STT_SECTION
from vdsotool.elf.reader import ElfImage
from vdsotool.errors import VdsoError

_VDSO_NAME = re.compile(r"VDSO_([A-Za-z0-9_]*)")


def _nm_value(value: int, bits: int) -> str:
    """nm's value column after the script's first substitution (``s/^00*/0/``)."""
    text = f"{value:0{bits // 4}x}"
    return re.sub(r"^0+", "0", text)


def offsets_lines(dbg: ElfImage) -> list[str]:
    """The ``#define`` lines, sorted, from the parsed debug image's ``.symtab``."""
    symtab = dbg.symtab
    if symtab is None:
        raise VdsoError.at(dbg.loc(None), "no .symtab section")
    lines = []
    for entry in symtab.symbols[1:]:
        if entry.type in (STT_SECTION, STT_FILE):
            continue
        match = _VDSO_NAME.fullmatch(entry.name)
        if match:
            lines.append(f"#define vdso{dbg.bits}_offset_{match.group(1)}\t"
                         f"0x{_nm_value(entry.value, dbg.bits)}")
    return sorted(lines, key=lambda line: line.encode())


def offsets_header(dbg: ElfImage) -> str:
    return "".join(line + "\n" for line in offsets_lines(dbg))
