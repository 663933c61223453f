"""Symbol tables of an image, entry by entry with their file offsets: what the patcher edits.

Built on the bounds-checked struct reader of ``vdsotool.inspect.elfread`` (no LIEF, no
pyelftools), so it works on any image, GNU-built ones included, and a malformed image is a
:class:`VdsoError` at the offending offset, never a traceback.

ELF symbol entries (``Elf32_Sym``, 16 bytes; ``Elf64_Sym``, 24 bytes) hold the same
fields in a different order; :data:`LAYOUTS` gives each field's place and width, so a
change can be described as "bytes [offset, offset + size) of the file".

Tables are found by section name, as the kernel finds ``.dynsym``/``.dynstr`` at boot
(``.symtab``/``.strtab`` for the debug twin).
"""

from __future__ import annotations

from vdsotool.errors import VdsoError
from vdsotool.inspect.elfread import ElfImage
from vdsotool.util.records import record

SHN_UNDEF = 0
SHN_ABS = 0xFFF1
STT_SECTION, STT_FILE = 3, 4

# (field, offset in the entry, width) in entry order.
LAYOUTS: dict[int, tuple[tuple[str, int, int], ...]] = {
    32: (("st_name", 0, 4), ("st_value", 4, 4), ("st_size", 8, 4),
         ("st_info", 12, 1), ("st_other", 13, 1), ("st_shndx", 14, 2)),
    64: (("st_name", 0, 4), ("st_info", 4, 1), ("st_other", 5, 1),
         ("st_shndx", 6, 2), ("st_value", 8, 8), ("st_size", 16, 8)),
}
# The entry ends with its last field (no padding): 16 bytes for ELF32, 24 for ELF64.
ENTRY_SIZE = {bits: max(off + width for _, off, width in layout)
              for bits, layout in LAYOUTS.items()}


@record(frozen=True)
class SymEntry:
    index: int
    offset: int  # file offset of the entry
    name: str  # "" when st_name is 0
    fields: dict[str, int]  # st_name, st_value, st_size, st_info, st_other, st_shndx

    @property
    def value(self) -> int:
        return self.fields["st_value"]

    @property
    def type(self) -> int:
        return self.fields["st_info"] & 0xF

    @property
    def defined(self) -> bool:
        return self.fields["st_shndx"] != SHN_UNDEF


@record(frozen=True)
class SymbolTable:
    elf: ElfImage
    section: str
    strings_offset: int
    strings_size: int
    entries: list[SymEntry]

    @property
    def layout(self) -> tuple[tuple[str, int, int], ...]:
        return LAYOUTS[self.elf.bits]

    def pack(self, field: str, value: int) -> bytes:
        width = next(w for f, _, w in self.layout if f == field)
        return value.to_bytes(width, "little" if self.elf.little else "big")

    def name_at(self, st_name: int) -> str:
        """The string at ``st_name`` in this table's string section."""
        if st_name >= self.strings_size:
            raise VdsoError.at(self.elf.loc(self.strings_offset),
                               f"symbol name offset {st_name:#x} outside the string table "
                               f"({self.strings_size:#x} bytes)")
        end = self.elf.data.find(b"\0", self.strings_offset + st_name,
                                 self.strings_offset + self.strings_size)
        if end < 0:
            raise VdsoError.at(self.elf.loc(self.strings_offset + st_name),
                               "symbol name runs past the end of its string table")
        return self.elf.data[self.strings_offset + st_name:end].decode("latin-1")


def read_symbols(elf: ElfImage, section: str = ".dynsym",
                 strings: str = ".dynstr") -> SymbolTable:
    """Every entry of symbol section ``section`` with names from ``strings``."""
    sec = elf.section(section)
    if sec is None:
        raise VdsoError.at(elf.loc(None), f"no {section} section")
    strtab = elf.section(strings)
    if strtab is None:
        raise VdsoError.at(elf.loc(None), f"no {strings} section")
    if strtab.offset + strtab.size > len(elf.data):
        raise VdsoError.at(elf.loc(strtab.offset), f"{strings} extends past the end of the file")
    size = ENTRY_SIZE[elf.bits]
    if sec.entsize != size or sec.size % size:
        raise VdsoError.at(elf.loc(sec.offset),
                           f"{section}: entry size {sec.entsize} / section size {sec.size} "
                           f"do not fit {elf.bits}-bit symbols of {size} bytes")
    if sec.offset + sec.size > len(elf.data):
        raise VdsoError.at(elf.loc(sec.offset), f"{section} extends past the end of the file")
    table = SymbolTable(elf, section, strtab.offset, strtab.size, [])
    for index in range(sec.size // size):
        at = sec.offset + index * size
        fields = {name: int.from_bytes(elf.data[at + off:at + off + width],
                                       "little" if elf.little else "big")
                  for name, off, width in table.layout}
        name = table.name_at(fields["st_name"]) if fields["st_name"] else ""
        table.entries.append(SymEntry(index, at, name, fields))
    return table
