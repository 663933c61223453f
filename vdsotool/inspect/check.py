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

from vdsotool.cfi.decode import Fde, decode_eh_frame, read_pointer
from vdsotool.cfi.dwarf import DW_EH_PE_omit
from vdsotool.elf import constants as E
from vdsotool.elf.reader import ElfImage, Shdr, Symbol
from vdsotool.errors import Diagnostic, ImageLoc, VdsoError
from vdsotool.util.records import record

FORBIDDEN_DYNAMIC_TAGS = (E.DT_NEEDED, E.DT_RELA, E.DT_RPATH, E.DT_REL, E.DT_TEXTREL,
                          E.DT_JMPREL, E.DT_RUNPATH, E.DT_VERNEED)


def check_image(img: ElfImage) -> list[Diagnostic]:
    """Every defect of the parsed image (empty list: the image is fine)."""
    found: list[Diagnostic] = []
    for check in (check_type, check_load, check_dynamic, check_versions, check_hashes,
                  check_eh_frame):
        try:
            found += check(img)
        except VdsoError as err:  # a structure too broken to check further
            found += err.diagnostics
    return found


def check_type(img: ElfImage) -> list[Diagnostic]:
    if img.e_type != E.ET_DYN:
        return [Diagnostic(f"e_type is {img.e_type}, not ET_DYN ({E.ET_DYN})",
                           img.loc(img.kind.ehdr.offset("e_type")))]
    return []


def check_load(img: ElfImage) -> list[Diagnostic]:
    loads = [p for p in img.phdrs if p.type == E.PT_LOAD]
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
    if load.flags & (E.PF_R | E.PF_W | E.PF_X) != E.PF_R | E.PF_X:
        out.append(Diagnostic(f"PT_LOAD flags {_flag_text(load.flags)}, need R-X (the kernel "
                              "maps a vDSO read+execute, it has no writable data)",
                              img.loc(load.at)))
    return out


def _flag_text(flags: int) -> str:
    return "".join(c if flags & bit else "-" for c, bit in (("R", E.PF_R), ("W", E.PF_W),
                                                             ("X", E.PF_X)))


def check_dynamic(img: ElfImage) -> list[Diagnostic]:
    if img.segment(E.PT_DYNAMIC) is None:
        return [Diagnostic("no PT_DYNAMIC segment", img.loc(img.e_phoff))]
    return [Diagnostic(f"dynamic table has DT_{E.DT_NAMES[d.tag]}: a vDSO is never "
                       "relocated and has no dependencies", img.loc(d.at))
            for d in img.dynamic() if d.tag in FORBIDDEN_DYNAMIC_TAGS]


def exported_symbols(img: ElfImage) -> list[Symbol]:
    return [s for s in img.dynsyms() if s.exported]


def check_hashes(img: ElfImage) -> list[Diagnostic]:
    from vdsotool.inspect.hash_check import check_hash_tables

    return check_hash_tables(img, exported_symbols(img))


def check_versions(img: ElfImage) -> list[Diagnostic]:
    exported = exported_symbols(img)
    if not exported:
        return []
    versyms = img.versyms()
    if versyms is None:
        return [Diagnostic("exported symbols but no .gnu.version section",
                           img.loc(img.dynsym.section.offset))]
    return [Diagnostic(f"exported symbol '{s.name}' is not versioned", img.loc(s.at))
            for s in exported
            if s.index >= len(versyms) or versyms[s.index] & E.VERSYM_VERSION <= E.VER_NDX_GLOBAL]


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
        out += read_and_check_eh_frame_hdr(img, hdr, eh, fdes)[1]
    return out


def read_fdes(img: ElfImage, start: int, addr: int, size: int) -> list[Fde]:
    """Every FDE of an .eh_frame section (offset, pc_begin, pc_range), read by the CFI
    decoder dump uses, without decoding the instructions."""
    return decode_eh_frame(img.data, start, size, addr, img.little, img.kind.wordsize, img.path,
                           instructions=False).fdes


@record(frozen=True)
class HdrRow:
    pc: int
    fde: int  # address of the FDE the row names
    at: int  # file offset of the row


def read_and_check_eh_frame_hdr(img: ElfImage, hdr: Shdr, eh: Shdr,
                                fdes: list[Fde]) -> tuple[list[HdrRow] | None, list[Diagnostic]]:
    """``.eh_frame_hdr``'s search table (None when it has none or it cannot be read) and its
    defects against ``.eh_frame``'s FDEs: ``vdsotool check`` reports the defects,
    ``vdsotool dump`` also shows the table. An unreadable pointer is one more defect, so
    the callers keep what they found before it (dump: the decoded CFI)."""
    found: list[Diagnostic] = []
    try:
        rows = _read_hdr_table(img, hdr, eh, found)
    except VdsoError as err:
        return None, found + err.diagnostics
    if rows is None:
        return None, found
    return rows, found + _table_defects(img, rows, eh, fdes)


def _read_hdr_table(img: ElfImage, hdr: Shdr, eh: Shdr,
                    found: list[Diagnostic]) -> list[HdrRow] | None:
    """Version 1: version, three pointer encodings, the .eh_frame pointer, the row count,
    then (initial pc, FDE address) rows. Header defects go to ``found``."""
    version, ptr_enc, count_enc, table_enc = img.bytes_at(hdr.offset, 4)
    if version != 1:
        found.append(Diagnostic(f".eh_frame_hdr version {version}, expected 1",
                                img.loc(hdr.offset)))
        return None
    eh_ptr, cur = _hdr_pointer(img, hdr, ptr_enc, hdr.offset + 4)
    if eh_ptr != eh.addr:
        found.append(Diagnostic(f".eh_frame_hdr points to {eh_ptr:#x}, .eh_frame is at "
                                f"{eh.addr:#x}", img.loc(hdr.offset + 4)))
    if count_enc == DW_EH_PE_omit or table_enc == DW_EH_PE_omit:
        found.append(Diagnostic(".eh_frame_hdr has no search table", img.loc(hdr.offset)))
        return None
    count, cur = _hdr_pointer(img, hdr, count_enc, cur)
    too_many = Diagnostic(f"table count {count} exceeds the section", img.loc(hdr.offset))
    if count > hdr.size // 2:  # a row is at least two 1-byte pointers: bounds the loop
        found.append(too_many)
        return None
    rows = []
    for _ in range(count):
        row_at = cur
        pc, cur = _hdr_pointer(img, hdr, table_enc, cur)
        fde, cur = _hdr_pointer(img, hdr, table_enc, cur)
        rows.append(HdrRow(pc, fde, row_at))
    if cur > hdr.offset + hdr.size:
        found.append(too_many)
        return None
    return rows


def _hdr_pointer(img: ElfImage, hdr: Shdr, encoding: int, at: int) -> tuple[int, int]:
    """A pointer of .eh_frame_hdr; data-relative ones count from the section's start."""
    return read_pointer(img.data, at, encoding, img.little, img.kind.wordsize,
                        hdr.addr + at - hdr.offset, hdr.addr, img.path)


def _table_defects(img: ElfImage, rows: list[HdrRow], eh: Shdr,
                   fdes: list[Fde]) -> list[Diagnostic]:
    """The unwinder bisects the table: it must be sorted and list every FDE exactly once."""
    out = []
    for a, b in zip(rows, rows[1:]):
        if b.pc < a.pc:
            out.append(Diagnostic(f".eh_frame_hdr table not sorted: {b.pc:#x} after {a.pc:#x}",
                                  img.loc(b.at)))
    by_address = {eh.addr + f.offset - eh.offset: f for f in fdes}
    listed = set()
    for row in rows:
        fde = by_address.get(row.fde)
        if fde is None or fde.pc_begin != row.pc:
            out.append(Diagnostic(f".eh_frame_hdr row {row.pc:#x} -> {row.fde:#x} names no FDE "
                                  "for that address", img.loc(row.at)))
        listed.add(row.fde)
    for addr, fde in by_address.items():
        if addr not in listed:
            out.append(Diagnostic(f"FDE for {fde.pc_begin:#x} missing from .eh_frame_hdr table",
                                  img.loc(fde.offset)))
    return out


def report_json(path: str, defects: list[Diagnostic]) -> dict:
    return {"image": path, "ok": not defects,
            "defects": [{"message": d.message,
                         "offset": d.loc.offset if isinstance(d.loc, ImageLoc) else None}
                        for d in defects]}
