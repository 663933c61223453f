"""One bounds-checked ELF reader: an image parsed once, for every command that reads one.

:func:`read` parses the ELF header, the program headers and the section headers (named
from ``.shstrtab``) of an ELF32 or ELF64 file in either byte order. Everything else an
image holds is read on first use and kept: the dynamic entries of ``PT_DYNAMIC``, the
notes of ``PT_NOTE``, ``.dynsym`` and ``.symtab`` with their names, ``.gnu.version`` and
the version names of ``.gnu.version_d``. Each value carries its file offset (``at``), and
the record layouts of :class:`~vdsotool.elf.layout.ElfKind` give every field's offset
within it, so a patch is "bytes [at + offset, … + width) of the file".

The file is never trusted: each read is bounds-checked, and a truncated, malformed or
non-ELF file is a :class:`VdsoError` at the offending offset (``image+0x1f4: error: …``),
never an exception from ``struct``. A part that cannot be read fails when it is asked for,
so ``dump`` still shows the others. pyelftools/LIEF are not used: they refuse the broken
images this reader must report on, and the checker runs on every build.

:func:`read_file` reads an image file: a regular file of at most :data:`MAX_IMAGE_SIZE`
bytes (a FIFO, a device or ``/dev/zero`` is refused, not read without end); :func:`load`
reads and parses one.
"""

from __future__ import annotations

import os
import stat
from functools import cached_property

from vdsotool.elf.constants import (DT_NULL, EI_CLASS, ELFMAG, PT_DYNAMIC, PT_LOAD, PT_NOTE,
                                    SHN_UNDEF, STB_LOCAL, VERSYM_VERSION)
from vdsotool.elf.layout import RECORDS, ElfKind, Layout
from vdsotool.errors import ImageLoc, VdsoError
from vdsotool.util.records import record

MAX_IMAGE_SIZE = 64 << 20  # a vDSO is a few pages; a kernel's vmlinux is not an input
MAX_NOTES = 64  # notes read from the PT_NOTE segments: a hostile segment cannot make more
MAX_VERSIONS = 256  # .gnu.version_d records followed (a vDSO defines two)
MAX_SYMBOLS = 65536  # entries of one symbol table (a vDSO's .symtab holds a few hundred)
MAX_DYNAMIC = 4096  # dynamic entries before DT_NULL (a vDSO has about fifteen)
SYM_FIELDS = tuple(name for name, _type in RECORDS["sym"][0])  # st_name, st_value, ...


@record(frozen=True)
class Phdr:
    index: int
    at: int  # file offset of this header
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


@record(frozen=True)
class Shdr:
    index: int
    at: int  # file offset of this header
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    align: int
    entsize: int


@record(frozen=True)
class Symbol:
    """One entry of a symbol table; ``at`` is its file offset, ``st_name`` the offset of its
    name in the table's string section (0: no name, ``name`` "")."""

    index: int
    at: int
    name: str
    st_name: int
    value: int
    size: int
    info: int
    other: int
    shndx: int

    @property
    def bind(self) -> int:
        return self.info >> 4

    @property
    def type(self) -> int:
        return self.info & 0xF

    @property
    def defined(self) -> bool:
        return self.shndx != SHN_UNDEF

    @property
    def exported(self) -> bool:
        """A defined global or weak symbol other than the null entry."""
        return bool(self.index) and self.bind != STB_LOCAL and self.shndx != SHN_UNDEF

    def fields(self) -> dict[str, int]:
        """The raw fields by their ELF names (``st_name``, ``st_value``, ...)."""
        return dict(zip(SYM_FIELDS, (self.st_name, self.value, self.size, self.info,
                                     self.other, self.shndx)))


@record(frozen=True)
class SymbolTable:
    section: Shdr
    strings: Shdr  # the string section named by sh_link
    symbols: list[Symbol]


@record(frozen=True)
class Dyn:
    tag: int
    value: int
    at: int


@record(frozen=True)
class Note:
    name: str
    type: int
    desc: bytes
    at: int  # file offset of the note header
    desc_at: int


def read_file(path: str) -> bytes:
    """The bytes of the image file ``path``: a regular file of at most
    :data:`MAX_IMAGE_SIZE` bytes."""
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb", buffering=0) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise VdsoError.at(ImageLoc(path), "cannot read image: not a regular file")
            data = f.read(MAX_IMAGE_SIZE + 1)
    except OSError as e:
        raise VdsoError.at(ImageLoc(path), f"cannot read image: {e.strerror}") from None
    if len(data) > MAX_IMAGE_SIZE:
        raise VdsoError.at(ImageLoc(path), f"cannot read image: larger than "
                                           f"{MAX_IMAGE_SIZE >> 20} MiB")
    return data


def read(data: bytes, path: str = "<image>") -> "ElfImage":
    """Parse the headers of the image ``data`` (named ``path`` in diagnostics)."""
    return ElfImage(data, path)


def load(path: str) -> "ElfImage":
    """Read and parse the image file ``path`` (:func:`read_file`, :func:`read`)."""
    return ElfImage(read_file(path), path)


class ElfImage:
    """A parsed image. Headers are read on construction; the rest on first use."""

    def __init__(self, data: bytes, path: str):
        self.data, self.path = data, path
        if data[:4] != ELFMAG:
            raise VdsoError.at(ImageLoc(path, 0), "not an ELF file")
        kind = ElfKind.from_ident(data[4], data[5]) if len(data) >= 16 else None
        if kind is None:
            raise VdsoError.at(ImageLoc(path, EI_CLASS), "unknown ELF class or data encoding")
        self.kind = kind
        (_ident, self.e_type, self.e_machine, _version, _entry, self.e_phoff, self.e_shoff,
         self.e_flags, self.e_ehsize, self.e_phentsize, self.e_phnum, self.e_shentsize,
         self.e_shnum, self.e_shstrndx) = self.unpack(kind.ehdr, 0)
        self.phdrs = [Phdr(i, at, *self._phdr(at)) for i in range(self.e_phnum)
                      for at in [self.e_phoff + i * self.e_phentsize]]
        raw = [(at, self.unpack(kind.shdr, at)) for i in range(self.e_shnum if self.e_shoff else 0)
               for at in [self.e_shoff + i * self.e_shentsize]]
        names = raw[self.e_shstrndx][1] if self.e_shstrndx < len(raw) else None
        self.sections = [Shdr(i, at, self._section_name(names, r[0]), *r[1:])
                         for i, (at, r) in enumerate(raw)]

    def _phdr(self, at: int) -> tuple:
        ptype, offset, vaddr, _paddr, filesz, memsz, flags, align = \
            self.unpack(self.kind.phdr, at)
        return ptype, flags, offset, vaddr, filesz, memsz, align

    def _section_name(self, shstrtab: tuple | None, st_name: int) -> str:
        if shstrtab is None:
            return ""
        return self.cstring(shstrtab[4] + st_name)

    # --- raw access (bounds-checked) -------------------------------------------------------
    @property
    def bits(self) -> int:
        return self.kind.bits

    @property
    def little(self) -> bool:
        return self.kind.little

    def loc(self, offset: int | None) -> ImageLoc:
        return ImageLoc(self.path, offset)

    def need(self, at: int, size: int) -> None:
        """Raise unless ``size`` bytes at ``at`` lie inside the file."""
        if at < 0 or size < 0 or at + size > len(self.data):
            raise VdsoError.at(self.loc(at), f"truncated image: {size} bytes needed here")

    def unpack(self, layout: Layout, at: int) -> tuple:
        """The fields of the record ``layout`` at file offset ``at``."""
        self.need(at, layout.size)
        return layout.unpack(self.data, at)

    def array(self, layout: Layout, at: int, count: int) -> list[tuple]:
        """``count`` consecutive records ``layout`` from ``at``."""
        self.need(at, count * layout.size)
        return layout.unpack_array(self.data, at, count)

    def words(self, at: int, count: int) -> list[int]:
        """``count`` 32-bit words (hash buckets and chains) from ``at``."""
        return [w for (w,) in self.array(self.kind.word, at, count)]

    def bytes_at(self, at: int, size: int) -> bytes:
        self.need(at, size)
        return self.data[at:at + size]

    def cstring(self, at: int, end: int | None = None) -> str:
        """The NUL-terminated string at ``at``, which must end before ``end`` (default: the
        end of the file)."""
        end = len(self.data) if end is None else min(end, len(self.data))
        stop = self.data.find(b"\0", at, end) if 0 <= at < end else -1
        if stop < 0:
            raise VdsoError.at(self.loc(at), "unterminated string")
        return self.data[at:stop].decode("latin-1")

    # --- lookups -------------------------------------------------------------------------
    def section(self, name: str) -> Shdr | None:
        return next((s for s in self.sections if s.name == name), None)

    def linked(self, sec: Shdr) -> Shdr:
        """The section ``sec``'s ``sh_link`` names."""
        if not 0 < sec.link < len(self.sections):
            raise VdsoError.at(self.loc(sec.at), f"{sec.name}: sh_link {sec.link} names no "
                                                 "section")
        return self.sections[sec.link]

    def vaddr_to_offset(self, vaddr: int) -> int | None:
        for p in self.phdrs:
            if p.type == PT_LOAD and p.vaddr <= vaddr < p.vaddr + p.filesz:
                return p.offset + vaddr - p.vaddr
        return None

    def segment(self, ptype: int) -> Phdr | None:
        return next((p for p in self.phdrs if p.type == ptype), None)

    # --- the parts, each read once ---------------------------------------------------------
    def dynamic(self) -> list[Dyn]:
        """The entries of PT_DYNAMIC, up to DT_NULL."""
        return self._dynamic

    @cached_property
    def _dynamic(self) -> list[Dyn]:
        seg = self.segment(PT_DYNAMIC)
        if seg is None:
            return []
        layout = self.kind.dyn
        out = []
        for i in range(seg.filesz // layout.size):  # an entry past the file is an error
            at = seg.offset + i * layout.size
            tag, value = self.unpack(layout, at)
            if tag == DT_NULL:
                break
            if len(out) == MAX_DYNAMIC:
                raise VdsoError.at(self.loc(seg.at), f"more than {MAX_DYNAMIC} dynamic "
                                                     "entries before DT_NULL")
            out.append(Dyn(tag, value, at))
        return out

    @cached_property
    def notes(self) -> list[Note]:
        """The notes of every PT_NOTE segment (at most :data:`MAX_NOTES`): 32-bit namesz,
        descsz, type, then the name and the descriptor, each padded to 4 bytes."""
        out: list[Note] = []
        layout = self.kind.nhdr
        for p in self.phdrs:
            if p.type != PT_NOTE:
                continue
            at, end = p.offset, p.offset + p.filesz
            while at + layout.size <= end and len(out) < MAX_NOTES:
                namesz, descsz, ntype = self.unpack(layout, at)
                name = self.bytes_at(at + layout.size, namesz).split(b"\0", 1)[0]
                desc_at = at + layout.size + _pad4(namesz)
                out.append(Note(name.decode("latin-1"), ntype, self.bytes_at(desc_at, descsz),
                                at, desc_at))
                at = desc_at + _pad4(descsz)
        return out

    @cached_property
    def dynsym(self) -> SymbolTable | None:
        """``.dynsym`` with names from its string section; None when the image has none."""
        return self.symbol_table(".dynsym")

    @cached_property
    def symtab(self) -> SymbolTable | None:
        """``.symtab`` (a debug image's) with names; None when the image has none."""
        return self.symbol_table(".symtab")

    def symbol_table(self, name: str) -> SymbolTable | None:
        sec = self.section(name)
        if sec is None:
            return None
        layout = self.kind.sym
        if sec.entsize != layout.size or sec.size % layout.size:
            raise VdsoError.at(self.loc(sec.at),
                               f"{name}: entry size {sec.entsize} / section size {sec.size} "
                               f"do not fit {self.bits}-bit symbols of {layout.size} bytes")
        strings = self.linked(sec)
        self._within(strings)
        self._within(sec)
        str_end = strings.offset + strings.size
        if sec.size // layout.size > MAX_SYMBOLS:
            raise VdsoError.at(self.loc(sec.at), f"{name} has {sec.size // layout.size} "
                                                 f"entries, more than {MAX_SYMBOLS}")
        symbols = []
        rows = self.array(layout, sec.offset, sec.size // layout.size)
        for i, (st_name, *rest) in enumerate(rows):
            if st_name >= strings.size:
                raise VdsoError.at(self.loc(strings.offset),
                                   f"symbol name offset {st_name:#x} outside the string table "
                                   f"({strings.size:#x} bytes)")
            text = self.cstring(strings.offset + st_name, str_end) if st_name else ""
            symbols.append(Symbol(i, sec.offset + i * layout.size, text, st_name, *rest))
        return SymbolTable(sec, strings, symbols)

    def _within(self, sec: Shdr) -> None:
        if sec.offset + sec.size > len(self.data):
            raise VdsoError.at(self.loc(sec.offset),
                               f"{sec.name} extends past the end of the file")

    def dynsyms(self) -> list[Symbol]:
        """``.dynsym``'s entries ([] when the image has none)."""
        table = self.dynsym
        return table.symbols if table else []

    def versyms(self) -> list[int] | None:
        """``.gnu.version``: one version index per ``.dynsym`` entry; None without one."""
        return self._versyms

    @cached_property
    def _versyms(self) -> list[int] | None:
        sec = self.section(".gnu.version")
        if sec is None:
            return None
        return [v for (v,) in self.array(self.kind.versym, sec.offset, sec.size // 2)]

    @cached_property
    def version_names(self) -> dict[int, str]:
        """Version index -> name, from ``.gnu.version_d``."""
        sec = self.section(".gnu.version_d")
        if sec is None or sec.link >= len(self.sections):
            return {}
        strings = self.sections[sec.link]
        names, at = {}, sec.offset
        for _ in range(min(sec.size // self.kind.verdef.size + 1, MAX_VERSIONS)):
            _ver, _flags, ndx, cnt, _hash, aux, nxt = self.unpack(self.kind.verdef, at)
            if cnt:
                names[ndx] = self.cstring(strings.offset
                                          + self.unpack(self.kind.verdaux, at + aux)[0])
            if not nxt:
                break
            at += nxt
        return names

    def version_of(self, sym: Symbol) -> str | None:
        """The name of ``.dynsym`` entry ``sym``'s version (None: no version index)."""
        versyms = self.versyms() or []
        if sym.index >= len(versyms):
            return None
        return self.version_names.get(versyms[sym.index] & VERSYM_VERSION)


def _pad4(n: int) -> int:
    return (n + 3) & ~3
