"""The ELF header, program headers, ``.shstrtab`` and the section header table.

ELF header: ``e_ident`` (class 32/64, data LSB/MSB, version 1, OS ABI 0), ``ET_DYN``,
``e_machine`` from the target, ``e_entry`` 0, program headers right after the ELF header,
``e_flags`` the inputs' ``.abiversion`` on 64-bit (as GNU ld: 0 when no source declares one,
so the 2005 images carry none, even ppc64le; 1 ELFv1, 2 ELFv2), 0 on 32-bit.

Program headers come from the script's ``PHDRS``, in that order. A segment spans the
output sections that name it (a section without a ``:phdr`` list inherits the previous
section's list, as in GNU ld); ``FILEHDR``/``PHDRS`` make it start at file offset 0 so it
covers the headers. The image maps at 0 with file offset == address, so ``p_offset`` is
the start address and ``p_filesz == p_memsz``. ``p_flags`` is ``FLAGS(n)`` when given,
else R plus W/X of its sections; ``p_align`` is 0x10000 (GNU ld's PowerPC max page size)
for PT_LOAD, else the largest alignment of its sections.

Each section header comes from its chunk (type, flags, ``sh_link`` by section name,
``sh_info``, ``sh_entsize``: link/chunk.py) and where the file put it. ``.shstrtab`` lists ``.shstrtab`` itself first (the shipped image, as ``objcopy -S`` writes
it; the debug twin, as ld writes it, puts ``.symtab``, ``.strtab``, ``.shstrtab`` first),
then the other names in section order, a name that is the tail of another sharing its bytes
(``.hash`` inside ``.gnu.hash``) — exactly GNU's layout, built with the same string-table
writer as ``.dynstr`` (link/strtab.py). The table follows the loaded content; the section headers follow it, aligned to the word.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.elf import ElfKind
from vdsotool.elf.constants import (ET_DYN, EV_CURRENT, PF_R, PF_W, PF_X, PT_LOAD, SHF_EXECINSTR,
                                    SHF_WRITE)
from vdsotool.link.layout import Placed
from vdsotool.link.script import PhdrSpec
from vdsotool.link.strtab import build_strtab
from vdsotool.util.records import record

MAX_PAGE_SIZE = 0x10000


def sizeof_headers(kind: ElfKind, phnum: int) -> int:
    return kind.ehdr.size + phnum * kind.phdr.size


def build_elf_header(target: Target, phnum: int, shoff: int, shnum: int,
                     shstrndx: int, e_flags: int = 0) -> bytes:
    kind = target.elf
    return kind.ehdr.pack(kind.ident(), ET_DYN, target.elf_machine, EV_CURRENT, 0,
                          kind.ehdr.size, shoff, e_flags, kind.ehdr.size, kind.phdr.size, phnum,
                          kind.shdr.size, shnum, shstrndx)


@record(frozen=True)
class Segment:
    type: int
    flags: int
    start: int
    size: int
    align: int


def segments(specs: list[PhdrSpec], placed: list[Placed],
             section_flags: dict[str, int]) -> list[Segment]:
    """``section_flags``: each placed section's SHF bits."""
    members: dict[str, list[Placed]] = {s.name: [] for s in specs}
    current: tuple[str, ...] = ()
    for sec in placed:
        current = sec.phdrs or current
        for name in current:
            members.setdefault(name, []).append(sec)
    out = []
    for spec in specs:
        secs = members[spec.name]
        start = 0 if spec.filehdr or spec.phdrs else min((s.address for s in secs), default=0)
        end = max((s.address + s.size for s in secs), default=start)
        if spec.flags is None:
            bits = 0
            for s in secs:
                bits |= section_flags[s.name]
            flags = PF_R | (PF_W if bits & SHF_WRITE else 0) | (PF_X if bits & SHF_EXECINSTR else 0)
        else:
            flags = spec.flags
        align = MAX_PAGE_SIZE if spec.type == PT_LOAD else max((s.align for s in secs), default=1)
        out.append(Segment(spec.type, flags, start, end - start, align))
    return out


def build_phdrs(kind: ElfKind, segs: list[Segment]) -> bytes:
    return b"".join(kind.phdr.pack(s.type, s.start, s.start, s.start, s.size, s.size, s.flags,
                                   s.align) for s in segs)


def build_shstrtab(names: list[str], first: tuple[str, ...] = (".shstrtab",)
                   ) -> tuple[bytes, dict[str, int]]:
    """``names``: section names in header order (without the null section); ``first``: the
    names GNU puts in front (see the module doc). ``.shstrtab`` is always listed."""
    return build_strtab([*first, *names, ".shstrtab"])


def build_section_headers(kind: ElfKind, sections: list[tuple[object, int, int]],
                          name_offsets: dict[str, int]) -> bytes:
    """The null header, then one per (chunk, address, file offset), in that order."""
    index = {chunk.name: i for i, (chunk, _, _) in enumerate(sections, start=1)}
    out = bytes(kind.shdr.size)
    for c, address, offset in sections:
        out += kind.shdr.pack(name_offsets[c.name], c.sh_type, c.flags, address, offset, c.size,
                              index.get(c.link, 0), c.info, c.align, c.entsize)
    return out
