"""ELF record layouts, declared once and made concrete per ELF class and byte order.

Each record (``Elf_Ehdr``, ``Elf_Phdr``, ``Elf_Shdr``, ``Elf_Sym``, ``Elf_Dyn``,
``Elf_Verdef``, ``Elf_Verdaux``, ``Elf_Versym``, ``Elf_Nhdr`` and the hash tables' header
words) is declared here as its fields with their gABI types. An :class:`ElfKind` — the ELF
class (32 or 64 bits) and byte order of one file — turns each declaration into a
:class:`Layout` that packs, unpacks and knows where each field lies, so no other module
spells a struct format or a field offset:

    kind = ElfKind(64, little=False)         # or target.elf
    kind.sym.pack(name, value, size, info, other, shndx)
    name, value, size, info, other, shndx = kind.sym.unpack(data, at)
    kind.sym.offset("st_value"), kind.sym.size   # 8, 24

Fields are always given and returned in the declared order (ELF32's), whatever order the
class stores them in: ``Elf64_Sym`` and ``Elf64_Phdr`` reorder theirs for alignment.

Types: ``Half`` 2 bytes, ``Word``/``Sword`` 4, ``Addr``/``Off`` 4 or 8 with the class,
``Xword``/``Sxword`` (ELF64) written ``Nat``/``Snat`` here as they are the class's word in
the records that use them (``st_size``, ``sh_flags``, ``d_tag``/``d_val``, ...).
Hash-table words are 32 bits in both classes on PowerPC; only the GNU hash table's Bloom
words have the class's width.
"""

from __future__ import annotations

import struct
from operator import itemgetter

from vdsotool.elf.constants import (ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFMAG,
                                    EV_CURRENT)

# gABI type -> struct code for (ELF32, ELF64)
_CODES = {"Byte": ("B", "B"), "Half": ("H", "H"), "Word": ("I", "I"), "Sword": ("i", "i"),
          "Nat": ("I", "Q"), "Snat": ("i", "q"), "Ident": ("16s", "16s")}

# name -> (fields in declared order, ELF64 storage order when it differs)
RECORDS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...] | None]] = {
    "ehdr": ((("e_ident", "Ident"), ("e_type", "Half"), ("e_machine", "Half"),
              ("e_version", "Word"), ("e_entry", "Nat"), ("e_phoff", "Nat"),
              ("e_shoff", "Nat"), ("e_flags", "Word"), ("e_ehsize", "Half"),
              ("e_phentsize", "Half"), ("e_phnum", "Half"), ("e_shentsize", "Half"),
              ("e_shnum", "Half"), ("e_shstrndx", "Half")), None),
    "phdr": ((("p_type", "Word"), ("p_offset", "Nat"), ("p_vaddr", "Nat"),
              ("p_paddr", "Nat"), ("p_filesz", "Nat"), ("p_memsz", "Nat"),
              ("p_flags", "Word"), ("p_align", "Nat")),
             ("p_type", "p_flags", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz",
              "p_align")),
    "shdr": ((("sh_name", "Word"), ("sh_type", "Word"), ("sh_flags", "Nat"),
              ("sh_addr", "Nat"), ("sh_offset", "Nat"), ("sh_size", "Nat"),
              ("sh_link", "Word"), ("sh_info", "Word"), ("sh_addralign", "Nat"),
              ("sh_entsize", "Nat")), None),
    "sym": ((("st_name", "Word"), ("st_value", "Nat"), ("st_size", "Nat"),
             ("st_info", "Byte"), ("st_other", "Byte"), ("st_shndx", "Half")),
            ("st_name", "st_info", "st_other", "st_shndx", "st_value", "st_size")),
    "dyn": ((("d_tag", "Snat"), ("d_val", "Nat")), None),
    "verdef": ((("vd_version", "Half"), ("vd_flags", "Half"), ("vd_ndx", "Half"),
                ("vd_cnt", "Half"), ("vd_hash", "Word"), ("vd_aux", "Word"),
                ("vd_next", "Word")), None),
    "verdaux": ((("vda_name", "Word"), ("vda_next", "Word")), None),
    "versym": ((("vs_index", "Half"),), None),
    "nhdr": ((("n_namesz", "Word"), ("n_descsz", "Word"), ("n_type", "Word")), None),
    "hash": ((("nbucket", "Word"), ("nchain", "Word")), None),  # then bucket/chain Words
    "gnu_hash": ((("nbuckets", "Word"), ("symoffset", "Word"), ("bloom_size", "Word"),
                  ("bloom_shift", "Word")), None),  # then Bloom Nats, bucket/chain Words
    "word": ((("word", "Word"),), None),  # a hash bucket or chain entry
    "nat": ((("nat", "Nat"),), None),  # a class-wide word: a GNU hash Bloom word, a pointer
}


class Layout:
    """One record in one ELF class and byte order."""

    __slots__ = ("name", "fields", "size", "_struct", "_offsets", "_widths", "_to_declared",
                 "_to_stored")

    def __init__(self, name: str, declared: tuple[tuple[str, str], ...],
                 stored: tuple[str, ...] | None, bits: int, prefix: str):
        self.name = name
        self.fields = tuple(f for f, _ in declared)
        types = dict(declared)
        stored = stored if bits == 64 and stored else self.fields
        codes = [_CODES[types[f]][bits == 64] for f in stored]
        self._struct = struct.Struct(prefix + "".join(codes))
        self.size = self._struct.size
        self._offsets, self._widths, at = {}, {}, 0
        for f, code in zip(stored, codes):  # natural alignment: no ELF record has padding
            self._offsets[f], self._widths[f] = at, struct.calcsize(prefix + code)
            at += self._widths[f]
        assert at == self.size, name
        position = {f: i for i, f in enumerate(stored)}
        same = stored == self.fields
        self._to_declared = None if same else itemgetter(*(position[f] for f in self.fields))
        self._to_stored = None if same else itemgetter(*(self.fields.index(f) for f in stored))

    def offset(self, field: str) -> int:
        """Byte offset of ``field`` in the record."""
        return self._offsets[field]

    def width(self, field: str) -> int:
        return self._widths[field]

    def unpack(self, data, at: int = 0) -> tuple:
        """The fields (declared order) of the record at ``data[at:]``; the caller checks
        bounds (``struct.error`` otherwise)."""
        values = self._struct.unpack_from(data, at)
        return values if self._to_declared is None else self._to_declared(values)

    def unpack_dict(self, data, at: int = 0) -> dict[str, int]:
        return dict(zip(self.fields, self.unpack(data, at)))

    def unpack_array(self, data, at: int, count: int) -> list[tuple]:
        """``count`` consecutive records from ``at``; the caller checks bounds."""
        end = at + count * self.size
        rows = self._struct.iter_unpack(memoryview(data)[at:end])
        return list(rows) if self._to_declared is None else list(map(self._to_declared, rows))

    def pack(self, *values) -> bytes:
        """The record's bytes from its fields in declared order."""
        if self._to_stored is not None:
            values = self._to_stored(values)
        return self._struct.pack(*values)

    def pack_dict(self, values: dict[str, int]) -> bytes:
        return self.pack(*(values[f] for f in self.fields))

    def __repr__(self) -> str:
        return f"<Layout {self.name} {self.size} bytes>"


class ElfKind:
    """The ELF class and byte order of a file, with every record's :class:`Layout`.

    One instance per (bits, byte order): ``ElfKind(64, little=True) is ElfKind(64, True)``,
    so kinds compare and hash by identity."""

    __slots__ = ("bits", "little", "byteorder", "wordsize", "ei_class", "ei_data", "ehdr",
                 "phdr", "shdr", "sym", "dyn", "verdef", "verdaux", "versym", "nhdr", "hash",
                 "gnu_hash", "word", "nat")
    _made: dict[tuple[int, bool], "ElfKind"] = {}

    bits: int
    little: bool
    byteorder: str  # "little" | "big", for int.from_bytes
    wordsize: int
    ei_class: int
    ei_data: int
    ehdr: Layout
    phdr: Layout
    shdr: Layout
    sym: Layout
    dyn: Layout
    verdef: Layout
    verdaux: Layout
    versym: Layout
    nhdr: Layout
    hash: Layout
    gnu_hash: Layout
    word: Layout
    nat: Layout

    def __new__(cls, bits: int, little: bool) -> "ElfKind":
        key = (bits, bool(little))
        made = cls._made.get(key)
        if made is not None:
            return made
        if bits not in (32, 64):
            raise ValueError(f"no {bits}-bit ELF class")
        self = super().__new__(cls)
        self.bits, self.little = key
        self.byteorder = "little" if little else "big"
        self.wordsize = bits // 8
        self.ei_class = ELFCLASS64 if bits == 64 else ELFCLASS32
        self.ei_data = ELFDATA2LSB if little else ELFDATA2MSB
        prefix = "<" if little else ">"
        for name, (declared, stored) in RECORDS.items():
            setattr(self, name, Layout(name, declared, stored, bits, prefix))
        cls._made[key] = self
        return self

    @classmethod
    def from_ident(cls, ei_class: int, ei_data: int) -> "ElfKind | None":
        """The kind an ``e_ident`` names, None for an unknown class or data encoding."""
        if ei_class not in (ELFCLASS32, ELFCLASS64) or ei_data not in (ELFDATA2LSB,
                                                                        ELFDATA2MSB):
            return None
        return cls(64 if ei_class == ELFCLASS64 else 32, ei_data == ELFDATA2LSB)

    def __reduce__(self):
        return ElfKind, (self.bits, self.little)

    def __repr__(self) -> str:
        return f"ElfKind({self.bits}, little={self.little})"

    def __str__(self) -> str:
        return f"{self.bits}-bit {self.byteorder}-endian"

    def uint(self, value: int, size: int) -> bytes:
        """``value`` as ``size`` bytes in this byte order."""
        return value.to_bytes(size, self.byteorder)

    def ident(self, osabi: int = 0) -> bytes:
        """``e_ident`` of a file of this kind (version 1)."""
        return ELFMAG + bytes([self.ei_class, self.ei_data, EV_CURRENT, osabi]) + bytes(8)
