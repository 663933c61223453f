"""A small struct-based ELF reader, enough to check any vDSO image (ours or a kernel's).

It reads the ELF header, program headers, section headers (by name), the dynamic table,
``.dynsym`` and ``.gnu.version``, for ELF32/ELF64 in either byte order. It never trusts
the file: every offset is bounds-checked and a truncated or non-ELF file becomes a
:class:`VdsoError` at the offending offset, never an exception from ``struct``.

pyelftools/LIEF are deliberately not used: the checker runs on every build and must be
cheap to import, and it must report broken images that those libraries refuse to open.
"""

from __future__ import annotations

import struct

from vdsotool.errors import ImageLoc, VdsoError
from vdsotool.util.records import field, record

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
PT_LOAD, PT_DYNAMIC, PT_NOTE = 1, 2, 4
SHN_UNDEF = 0  # st_shndx of a symbol not defined in this file


@record(frozen=True)
class Phdr:
    index: int
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    at: int  # file offset of this header, for diagnostics


@record(frozen=True)
class Shdr:
    index: int
    name: str
    type: int
    addr: int
    offset: int
    size: int
    link: int
    entsize: int
    align: int = 1
    flags: int = 0  # sh_flags (SHF_WRITE 1, SHF_ALLOC 2, SHF_EXECINSTR 4, ...)


@record(frozen=True)
class DynSym:
    index: int
    name: str
    value: int
    size: int
    bind: int
    type: int
    shndx: int


@record(eq=False)  # one image is one object (hashable by identity: dump memoises per image)
class ElfImage:
    path: str
    data: bytes
    bits: int
    little: bool
    e_type: int
    e_machine: int
    e_flags: int
    e_phoff: int
    e_phnum: int
    e_phentsize: int
    e_ehsize: int
    phdrs: list[Phdr] = field(default_factory=list)
    sections: list[Shdr] = field(default_factory=list)

    # --- raw access -------------------------------------------------------------------
    @property
    def endian(self) -> str:
        return "<" if self.little else ">"

    def loc(self, offset: int | None) -> ImageLoc:
        return ImageLoc(self.path, offset)

    def unpack(self, fmt: str, offset: int) -> tuple:
        size = struct.calcsize(self.endian + fmt)
        if offset < 0 or offset + size > len(self.data):
            raise VdsoError.at(self.loc(offset), f"truncated image: {size} bytes needed here")
        return struct.unpack_from(self.endian + fmt, self.data, offset)

    def bytes_at(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise VdsoError.at(self.loc(offset), f"truncated image: {size} bytes needed here")
        return self.data[offset:offset + size]

    def cstring(self, offset: int) -> str:
        end = self.data.find(b"\0", offset)
        if offset >= len(self.data) or end < 0:
            raise VdsoError.at(self.loc(offset), "unterminated string")
        return self.data[offset:end].decode("latin-1")

    @property
    def word(self) -> str:
        return "Q" if self.bits == 64 else "I"

    # --- lookups ----------------------------------------------------------------------
    def section(self, name: str) -> Shdr | None:
        return next((s for s in self.sections if s.name == name), None)

    def vaddr_to_offset(self, vaddr: int) -> int | None:
        for p in self.phdrs:
            if p.type == PT_LOAD and p.vaddr <= vaddr < p.vaddr + p.filesz:
                return p.offset + vaddr - p.vaddr
        return None

    def dynamic(self) -> list[tuple[int, int, int]]:
        """(tag, value, file offset) of each entry of PT_DYNAMIC, up to DT_NULL."""
        dyn = next((p for p in self.phdrs if p.type == PT_DYNAMIC), None)
        if dyn is None:
            return []
        entsize = 16 if self.bits == 64 else 8
        fmt = "qQ" if self.bits == 64 else "iI"
        out = []
        for at in range(dyn.offset, dyn.offset + dyn.filesz - entsize + 1, entsize):
            tag, val = self.unpack(fmt, at)
            if tag == 0:
                break
            out.append((tag, val, at))
        return out

    def dynsyms(self) -> list[DynSym]:
        sec = self.section(".dynsym")
        if sec is None or sec.entsize == 0:
            return []
        strtab = self.sections[sec.link] if sec.link < len(self.sections) else None
        return [self.symbol(i, sec.offset + i * sec.entsize, strtab)
                for i in range(sec.size // sec.entsize)]

    def symbol(self, index: int, at: int, strtab: Shdr | None) -> DynSym:
        """The Elf32_Sym/Elf64_Sym at file offset ``at``, named from ``strtab`` (None: "")."""
        if self.bits == 64:
            name, info, _other, shndx, value, size = self.unpack("IBBHQQ", at)
        else:
            name, value, size, info, _other, shndx = self.unpack("IIIBBH", at)
        text = self.cstring(strtab.offset + name) if strtab else ""
        return DynSym(index, text, value, size, info >> 4, info & 0xF, shndx)

    def versyms(self) -> list[int] | None:
        sec = self.section(".gnu.version")
        if sec is None:
            return None
        return [self.unpack("H", sec.offset + 2 * i)[0] for i in range(sec.size // 2)]


def read_elf(data: bytes, path: str) -> ElfImage:
    """Parse headers; raises VdsoError for a file that is not a readable ELF image."""
    if data[:4] != ELF_MAGIC:
        raise VdsoError.at(ImageLoc(path, 0), "not an ELF file")
    if len(data) < 16 or data[4] not in (ELFCLASS32, ELFCLASS64) \
            or data[5] not in (ELFDATA2LSB, ELFDATA2MSB):
        raise VdsoError.at(ImageLoc(path, 4), "unknown ELF class or data encoding")
    bits = 64 if data[4] == ELFCLASS64 else 32
    little = data[5] == ELFDATA2LSB
    img = ElfImage(path, data, bits, little, 0, 0, 0, 0, 0, 0, 0)
    if bits == 64:
        (e_type, e_machine, _v, _entry, phoff, shoff, flags, ehsize, phentsize, phnum,
         shentsize, shnum, shstrndx) = img.unpack("HHIQQQIHHHHHH", 16)
    else:
        (e_type, e_machine, _v, _entry, phoff, shoff, flags, ehsize, phentsize, phnum,
         shentsize, shnum, shstrndx) = img.unpack("HHIIIIIHHHHHH", 16)
    img.e_type, img.e_machine, img.e_flags = e_type, e_machine, flags
    img.e_phoff, img.e_phnum, img.e_phentsize, img.e_ehsize = phoff, phnum, phentsize, ehsize
    img.phdrs = [_read_phdr(img, i, phoff + i * phentsize) for i in range(phnum)]
    raw = [_read_shdr(img, shoff + i * shentsize) for i in range(shnum)] if shoff else []
    names = raw[shstrndx][3] if shstrndx < len(raw) else None
    img.sections = [Shdr(i, img.cstring(names + r[0]) if names is not None else "", *r[1:])
                    for i, r in enumerate(raw)]
    return img


def _read_phdr(img: ElfImage, index: int, at: int) -> Phdr:
    if img.bits == 64:
        ptype, flags, offset, vaddr, _paddr, filesz, memsz, _align = img.unpack("IIQQQQQQ", at)
    else:
        ptype, offset, vaddr, _paddr, filesz, memsz, flags, _align = img.unpack("IIIIIIII", at)
    return Phdr(index, ptype, flags, offset, vaddr, filesz, memsz, at)


def _read_shdr(img: ElfImage, at: int) -> tuple:
    """(name offset, type, addr, offset, size, link, entsize, align, flags) of one section
    header."""
    if img.bits == 64:
        name, stype, flags, addr, offset, size, link, _info, align, entsize = \
            img.unpack("IIQQQQIIQQ", at)
    else:
        name, stype, flags, addr, offset, size, link, _info, align, entsize = \
            img.unpack("IIIIIIIIII", at)
    return name, stype, addr, offset, size, link, entsize, align, flags
