"""Structural checks a vDSO image must pass, for any image (ours or a kernel's).

The kernel maps the vDSO as one blob and the dynamic loader (glibc's ``dl_vdso_vsym``)
uses it without relocating anything, so an image is only usable when:

* it is ``ET_DYN`` with exactly one ``PT_LOAD`` at file offset 0 / vaddr 0 that covers the
  ELF and program headers, with ``p_filesz == p_memsz`` (no .bss: nothing zero-fills it)
  and flags R+X without W (the kernel maps it read+execute; it has no writable data, so
  a W flag or a missing R/X flag misdescribes it to loaders and debuggers);
* it has ``PT_DYNAMIC`` (the loader finds the symbol tables through it) and no dynamic
  relocations (``DT_REL``/``DT_RELA``/``DT_TEXTREL``/``DT_JMPREL``) and no dependencies
  (``DT_NEEDED``/``DT_VERNEED``/``DT_RPATH``/``DT_RUNPATH``) — there is nobody to apply them;
* every exported symbol is versioned (glibc looks them up by name *and* version) and can
  be found through each hash table the image has (``DT_HASH``, ``DT_GNU_HASH``:
  :mod:`vdsotool.inspect.hash_check`);
* every ``.eh_frame`` FDE covers code inside ``.text``, and the ``.eh_frame_hdr`` search
  table (version 1) is sorted and lists every FDE exactly once (the unwinder bisects it).

Every defect is reported, not only the first; each carries the image offset where it is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vdsotool.errors import Diagnostic, ImageLoc, VdsoError
from vdsotool.inspect.elfread import PT_DYNAMIC, PT_LOAD, SHN_UNDEF, ElfImage, read_elf

ET_DYN = 3
PF_X, PF_W, PF_R = 1, 2, 4
FORBIDDEN_DYNAMIC_TAGS = {
    1: "DT_NEEDED", 7: "DT_RELA", 15: "DT_RPATH", 17: "DT_REL", 22: "DT_TEXTREL",
    23: "DT_JMPREL", 29: "DT_RUNPATH", 0x6FFFFFFE: "DT_VERNEED",
}
STB_LOCAL = 0
VER_NDX_GLOBAL = 1  # "unversioned global": what an exported symbol must not have

# DWARF pointer encodings (low nibble: format, high nibble: application).
DW_EH_PE_omit = 0xFF
_FORMATS = {0x00: None, 0x02: "H", 0x03: "I", 0x04: "Q", 0x0A: "h", 0x0B: "i", 0x0C: "q"}
DW_EH_PE_pcrel, DW_EH_PE_datarel = 0x10, 0x30


@dataclass(frozen=True)
class Fde:
    offset: int  # file offset of the record's length word
    pc_begin: int
    pc_range: int


def check_image(path: str) -> list[Diagnostic]:
    """Check the image file at ``path``; returns every defect (empty list: image is fine)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise VdsoError.at(ImageLoc(str(path)), f"cannot read image: {e.strerror}") from None
    return check_bytes(data, str(path))


def check_bytes(data: bytes, path: str) -> list[Diagnostic]:
    """Check an image held in memory (the build checks before writing anything)."""
    return check_elf(read_elf(data, path))


def check_elf(img: ElfImage) -> list[Diagnostic]:
    """Check an image already read (``vdsotool verify`` reads it once for all its checks)."""
    found: list[Diagnostic] = []
    for check in (check_type, check_load, check_dynamic, check_versions, check_hashes,
                  check_eh_frame):
        try:
            found += check(img)
        except VdsoError as err:  # a structure too broken to check further
            found += err.diagnostics
    return found


def check_type(img: ElfImage) -> list[Diagnostic]:
    if img.e_type != ET_DYN:
        return [Diagnostic(f"e_type is {img.e_type}, not ET_DYN (3)", img.loc(16))]
    return []


def check_load(img: ElfImage) -> list[Diagnostic]:
    loads = [p for p in img.phdrs if p.type == PT_LOAD]
    if len(loads) != 1:
        return [Diagnostic(f"{len(loads)} PT_LOAD segments, need exactly one",
                           img.loc(img.e_phoff))]
    load, out = loads[0], []
    headers_end = max(img.e_ehsize, img.e_phoff + img.e_phnum * img.e_phentsize)
    if load.offset != 0 or load.vaddr != 0:
        out.append(Diagnostic(f"PT_LOAD at offset {load.offset:#x} vaddr {load.vaddr:#x}, "
                              "need offset 0 and vaddr 0", img.loc(load.at)))
    if load.offset > 0 or load.filesz < headers_end:
        out.append(Diagnostic(f"PT_LOAD does not cover the ELF and program headers "
                              f"(0..{headers_end:#x})", img.loc(load.at)))
    if load.filesz != load.memsz:
        out.append(Diagnostic(f"PT_LOAD p_filesz {load.filesz:#x} != p_memsz {load.memsz:#x} "
                              "(nothing zero-fills a vDSO)", img.loc(load.at)))
    if load.flags & (PF_R | PF_W | PF_X) != PF_R | PF_X:
        out.append(Diagnostic(f"PT_LOAD flags {_flag_text(load.flags)}, need R-X (the kernel "
                              "maps a vDSO read+execute, it has no writable data)",
                              img.loc(load.at)))
    return out


def _flag_text(flags: int) -> str:
    return "".join(c if flags & bit else "-" for c, bit in (("R", PF_R), ("W", PF_W),
                                                             ("X", PF_X)))


def check_dynamic(img: ElfImage) -> list[Diagnostic]:
    if not any(p.type == PT_DYNAMIC for p in img.phdrs):
        return [Diagnostic("no PT_DYNAMIC segment", img.loc(img.e_phoff))]
    return [Diagnostic(f"dynamic table has {FORBIDDEN_DYNAMIC_TAGS[tag]}: a vDSO is never "
                       "relocated and has no dependencies", img.loc(at))
            for tag, _val, at in img.dynamic() if tag in FORBIDDEN_DYNAMIC_TAGS]


def exported_symbols(img: ElfImage) -> list:
    return [s for s in img.dynsyms() if s.index and s.bind != STB_LOCAL and s.shndx != SHN_UNDEF]


def check_hashes(img: ElfImage) -> list[Diagnostic]:
    from vdsotool.inspect.hash_check import check_hash_tables

    return check_hash_tables(img, exported_symbols(img))


def check_versions(img: ElfImage) -> list[Diagnostic]:
    exported = exported_symbols(img)
    if not exported:
        return []
    versyms = img.versyms()
    dynsym = img.section(".dynsym")
    if versyms is None:
        return [Diagnostic("exported symbols but no .gnu.version section", img.loc(dynsym.offset))]
    out = []
    for s in exported:
        if s.index >= len(versyms) or (versyms[s.index] & 0x7FFF) <= VER_NDX_GLOBAL:
            at = dynsym.offset + s.index * dynsym.entsize
            out.append(Diagnostic(f"exported symbol '{s.name}' is not versioned", img.loc(at)))
    return out


# --- .eh_frame / .eh_frame_hdr ---------------------------------------------------------


def check_eh_frame(img: ElfImage) -> list[Diagnostic]:
    eh = img.section(".eh_frame")
    if eh is None:
        return []
    fdes = read_fdes(img, eh.offset, eh.addr, eh.size)
    text = img.section(".text")
    out = []
    for fde in fdes:
        if text is None or not (text.addr <= fde.pc_begin
                                and fde.pc_begin + fde.pc_range <= text.addr + text.size):
            out.append(Diagnostic(f"FDE for {fde.pc_begin:#x}..{fde.pc_begin + fde.pc_range:#x} "
                                  "is not inside .text", img.loc(fde.offset)))
    hdr = img.section(".eh_frame_hdr")
    if hdr is not None:
        out += check_eh_frame_hdr(img, hdr, eh, fdes)
    return out


def check_eh_frame_hdr(img: ElfImage, hdr, eh, fdes: list[Fde]) -> list[Diagnostic]:
    version, ptr_enc, count_enc, table_enc = img.unpack("BBBB", hdr.offset)
    if version != 1:
        return [Diagnostic(f".eh_frame_hdr version {version}, expected 1", img.loc(hdr.offset))]
    cur = hdr.offset + 4
    eh_ptr, cur = read_pointer(img, ptr_enc, cur, hdr.addr - hdr.offset, hdr.addr)
    out = []
    if eh_ptr != eh.addr:
        out.append(Diagnostic(f".eh_frame_hdr points to {eh_ptr:#x}, .eh_frame is at "
                              f"{eh.addr:#x}", img.loc(hdr.offset + 4)))
    if count_enc == DW_EH_PE_omit or table_enc == DW_EH_PE_omit:
        return out + [Diagnostic(".eh_frame_hdr has no search table", img.loc(hdr.offset))]
    count, cur = read_pointer(img, count_enc, cur, hdr.addr - hdr.offset, hdr.addr)
    rows = []
    for _ in range(count):
        row_at = cur
        pc, cur = read_pointer(img, table_enc, cur, hdr.addr - hdr.offset, hdr.addr)
        fde, cur = read_pointer(img, table_enc, cur, hdr.addr - hdr.offset, hdr.addr)
        rows.append((pc, fde, row_at))
    for (pc_a, _, _), (pc_b, _, at) in zip(rows, rows[1:]):
        if pc_b < pc_a:
            out.append(Diagnostic(f".eh_frame_hdr table not sorted: {pc_b:#x} after {pc_a:#x}",
                                  img.loc(at)))
    by_address = {eh.addr + f.offset - eh.offset: f for f in fdes}
    listed = set()
    for pc, fde_addr, at in rows:
        fde = by_address.get(fde_addr)
        if fde is None or fde.pc_begin != pc:
            out.append(Diagnostic(f".eh_frame_hdr row {pc:#x} -> {fde_addr:#x} names no FDE "
                                  "for that address", img.loc(at)))
        listed.add(fde_addr)
    for addr, fde in by_address.items():
        if addr not in listed:
            out.append(Diagnostic(f"FDE for {fde.pc_begin:#x} missing from .eh_frame_hdr table",
                                  img.loc(fde.offset)))
    return out


def read_fdes(img: ElfImage, start: int, addr: int, size: int) -> list[Fde]:
    """Every FDE of an .eh_frame section, with its CIE's pointer encoding applied."""
    fdes, cie_encoding, cur = [], {}, start
    while cur + 4 <= start + size:
        (length,) = img.unpack("I", cur)
        if length == 0:
            break  # terminator
        if length == 0xFFFFFFFF:
            raise VdsoError.at(img.loc(cur), "64-bit DWARF .eh_frame records are not supported")
        body = cur + 4
        (cie_ptr,) = img.unpack("I", body)
        if cie_ptr == 0:
            cie_encoding[cur] = cie_fde_encoding(img, body + 4)
        else:
            cie_at = body - cie_ptr
            if cie_at not in cie_encoding:
                raise VdsoError.at(img.loc(body), f"FDE's CIE pointer {cie_ptr:#x} names no CIE")
            enc = cie_encoding[cie_at]
            vaddr = addr + (body + 4 - start)
            pc, after = read_pointer(img, enc, body + 4, vaddr - (body + 4), 0)
            pc_range, _ = read_pointer(img, enc & 0x0F, after, 0, 0)
            fdes.append(Fde(cur, pc, pc_range))
        cur = body + length
    return fdes


def cie_fde_encoding(img: ElfImage, at: int) -> int:
    """The FDE pointer encoding ('R' augmentation) of the CIE whose version byte is at ``at``."""
    aug_at = at + 1
    aug = img.cstring(aug_at)
    cur = aug_at + len(aug) + 1
    _, cur = read_uleb(img, cur)  # code alignment
    _, cur = read_uleb(img, cur)  # data alignment (sleb, only skipped)
    cur += 1 if img.data[at] == 1 else len(_uleb_bytes(img, cur))  # return column
    if not aug.startswith("z"):
        return 0
    _, cur = read_uleb(img, cur)
    for ch in aug[1:]:
        if ch == "R":
            return img.data[cur]
        if ch == "P":
            enc = img.data[cur]
            _, cur = read_pointer(img, enc & 0x7F, cur + 1, 0, 0)
        elif ch == "L":
            cur += 1
    return 0


def read_pointer(img: ElfImage, enc: int, at: int, vaddr_minus_offset: int,
                 data_base: int) -> tuple[int, int]:
    """Decode a DW_EH_PE-encoded pointer at file offset ``at``; returns (value, next)."""
    fmt = _FORMATS.get(enc & 0x0F, "")
    if fmt == "":
        raise VdsoError.at(img.loc(at), f"unsupported pointer encoding {enc:#x}")
    if fmt is None:
        fmt = img.word
    (value,) = img.unpack(fmt, at)
    application = enc & 0x70
    if application == DW_EH_PE_pcrel:
        value += at + vaddr_minus_offset
    elif application == DW_EH_PE_datarel:
        value += data_base
    elif application:
        raise VdsoError.at(img.loc(at), f"unsupported pointer encoding {enc:#x}")
    mask = (1 << img.bits) - 1
    return value & mask, at + struct.calcsize(img.endian + fmt)


def read_uleb(img: ElfImage, at: int) -> tuple[int, int]:
    raw = _uleb_bytes(img, at)
    return sum((b & 0x7F) << (7 * i) for i, b in enumerate(raw)), at + len(raw)


def _uleb_bytes(img: ElfImage, at: int) -> bytes:
    end = at
    while end < len(img.data) and img.data[end] & 0x80:
        end += 1
    return img.bytes_at(at, end - at + 1)


def report_json(path: str, defects: list[Diagnostic]) -> dict:
    return {"image": path, "ok": not defects,
            "defects": [{"message": d.message,
                         "offset": d.loc.offset if isinstance(d.loc, ImageLoc) else None}
                        for d in defects]}
