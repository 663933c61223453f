"""``vdsotool dump``: an image and its CFI made readable (text) or machine-readable (JSON).

The report is built once as plain JSON-able values (``build_report``) and rendered by
``render_text`` or ``json.dumps``; both printers show the same content. Decoding is done
by our own bounds-checked readers (:mod:`vdsotool.elf.reader`, parsed once by the caller,
and :mod:`vdsotool.cfi.decode`), so a hostile image yields a diagnostic, never a traceback.
Parts that cannot be decoded are reported in the ``problems`` list and the rest is shown.
"""

from __future__ import annotations

from functools import lru_cache

from vdsotool.abi.targets import POWERPC_MACHINES
from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.elf import constants as E
from vdsotool.elf.reader import ElfImage
from vdsotool.errors import VdsoError

FORMAT_VERSION = 1
PART_NAMES = ("headers", "symbols", "cfi", "disasm", "fixups", "patches")
MAX_EH_FRAME = 64 << 10  # bytes of .eh_frame decoded for --cfi (a vDSO's: a few KiB)


def build_report(img: ElfImage, parts: tuple[str, ...], cpus=None,
                 page_size: int = 4096) -> dict:
    return build_report_and_errors(img, parts, cpus, page_size)[0]


def build_report_and_errors(img: ElfImage, parts: tuple[str, ...], cpus=None,
                            page_size: int = 4096) -> tuple[dict, list]:
    """The report of the parsed image, and the diagnostics of the parts that could not be
    decoded (those parts are ``None`` in the report and their diagnostics are also among
    its ``problems``). ``cpus`` (a :class:`vdsotool.abi.cpus.CpuTable`, default: the
    packaged one) and ``page_size`` are what the ``patches`` part is computed for."""
    report: dict = {"format_version": FORMAT_VERSION, "image": img.path,
                    "class": f"ELF{img.bits}", "endian": img.kind.byteorder,
                    "machine": img.e_machine, "problems": []}
    if img.e_machine not in POWERPC_MACHINES:
        report["problems"].append(f"not a PowerPC image (e_machine {img.e_machine}): disassembly, "
                                  "signal-frame notes and patch tables unavailable")
    errors = []
    options = {"patches": {"cpus": cpus, "page_size": page_size}, "fixups": {"cpus": cpus}}
    for part in parts:
        try:
            value = _PARTS[part](img, **options.get(part, {}))
            if value is _NOT_APPLICABLE:
                continue  # a part the image's design has nothing for (fixups of a 2.6.15 image)
            report[part] = value
        except VdsoError as err:
            report[part] = None
            report["problems"].extend(d.render() for d in err.diagnostics)
            errors.extend(err.diagnostics)
    return report, errors


# --- parts -------------------------------------------------------------------------------

def _headers(img: ElfImage) -> dict:
    return {
        "elf": {"type": img.e_type, "machine": img.e_machine, "flags": img.e_flags,
                "phnum": img.e_phnum},
        "program_headers": [
            {"type": E.PT_NAMES.get(p.type, hex(p.type)), "offset": p.offset,
             "vaddr": p.vaddr, "filesz": p.filesz, "memsz": p.memsz, "flags": p.flags}
            for p in img.phdrs],
        "sections": [{"name": s.name, "type": s.type, "addr": s.addr, "offset": s.offset,
                      "size": s.size, "flags": s.flags} for s in img.sections if s.index],
        "notes": [{"name": n.name, "type": n.type, "desc": n.desc.hex(),
                   "meaning": _note_meaning(img, n)} for n in img.notes],
        "dynamic": [{"tag": d.tag, "value": d.value, "name": E.dt_name(d.tag, img.e_machine)}
                    for d in img.dynamic()],
    }


def _note_meaning(img: ElfImage, note) -> str | None:
    """What a note of a vDSO says, for the notes kernels put there: the Linux version
    (type 0, one word LINUX_VERSION_CODE, a << 16 | b << 8 | c), the build salt (Linux type
    0x100, CONFIG_BUILD_SALT as a NUL-terminated string) and GNU's build-id (type 3, its
descriptor);
    None for any other, which the dump shows as its hex bytes only."""
    if note.name == "Linux" and note.type == E.NT_LINUX_VERSION and len(note.desc) == 4:
        code = int.from_bytes(note.desc, img.kind.byteorder)
        return f"LINUX_VERSION_CODE {code:#x} = {code >> 16}.{code >> 8 & 0xFF}.{code & 0xFF}"
    if note.name == "Linux" and note.type == E.NT_LINUX_BUILD_SALT:
        salt = note.desc.split(b"\0", 1)[0]
        if salt.isascii() and salt.decode().isprintable():
            return f"build-salt {salt.decode()!r}"
    if note.name == "GNU" and note.type == E.NT_GNU_BUILD_ID and note.desc:
        return "build-id"  # the identifier is the descriptor itself
    return None


def _symbol_row(s) -> dict:
    return {"name": s.name, "value": s.value, "size": s.size,
            "type": E.STT_NAMES.get(s.type, str(s.type)),
            "bind": E.STB_NAMES.get(s.bind, str(s.bind))}


def _symbols(img: ElfImage) -> dict:
    img.version_names  # noqa: B018 - a malformed .gnu.version_d fails the part first
    dynsym = [_symbol_row(s) | {"version": img.version_of(s)} for s in img.dynsyms() if s.index]
    symtab = [_symbol_row(s) for s in _symtab(img) if s.index]
    return {"dynsym": dynsym, "symtab": symtab}


def _symtab(img: ElfImage) -> list:
    return img.symtab.symbols if img.symtab else []


def _all_symbols(img: ElfImage) -> list:
    return [*img.dynsyms(), *_symtab(img)]


@lru_cache(maxsize=1)  # per image: --all asks again for the disassembly's CFI column
def _cfi(img) -> dict:
    from vdsotool.abi.dwarf_regs import column_name
    from vdsotool.cfi.decode import Cie, decode_eh_frame
    from vdsotool.inspect import sigframe_notes as N
    from vdsotool.inspect.cfi_rows import MAX_CELLS, cie_rows, columns, fde_rows, reg_label

    sec = img.section(".eh_frame")
    if sec is None:
        return {"records": [], "note": "no .eh_frame section"}
    if sec.size > MAX_EH_FRAME:
        raise VdsoError.at(img.loc(sec.offset), f".eh_frame of {sec.size} bytes: dump shows "
                                                f"the CFI of at most {MAX_EH_FRAME} bytes")
    word = img.kind.wordsize
    eh = decode_eh_frame(img.data, sec.offset, sec.size, sec.addr, img.little, word, img.path)
    code_symbols = _code_symbols(img)
    image = N.Image(img.data, word, img.little) if img.e_machine in POWERPC_MACHINES else None
    records, cells = [], sum(len(rec.instrs) for rec in eh.records)
    for rec in eh.records:
        bounds = (rec.offset, rec.offset + 4 + rec.length)
        cie = rec if isinstance(rec, Cie) else eh.cies[rec.cie_offset]
        rows = cie_rows(rec) if rec is cie else fde_rows(cie, rec, img.path)
        cols = columns(cie, rows)
        cells += len(rows) * (len(cols) + 1)  # with the instructions: what the report holds
        if cells > MAX_CELLS:
            raise VdsoError.at(img.loc(rec.offset), f"CFI row tables and instructions larger "
                                                    f"than {MAX_CELLS} cells in all")
        if rec is cie:
            head = {"kind": "CIE", "augmentation": rec.augmentation,
                    "code_align": rec.code_align, "data_align": rec.data_align,
                    "ra": rec.ra_reg, "signal_frame": rec.signal_frame}
        else:
            end = rec.pc_begin + rec.pc_range
            head = {"kind": "FDE", "cie": rec.cie_offset - sec.offset,
                    "pc_begin": rec.pc_begin, "pc_end": end,
                    "functions": _symbols_in(code_symbols, rec.pc_begin, end),
                    "summary": _summary(image, cie, rec, code_symbols, bounds)}
        notes = _notes_of(image, cie, rec, bounds)
        records.append({
            **head, "offset": rec.offset - sec.offset, "length": rec.length,
            "instructions": [{"offset": d.offset - sec.offset, "bytes": d.raw.hex(" "),
                              "text": instr_text(d.instr, d.expr, sec.offset, cie.ra_reg),
                              "note": notes.get(d.offset)} for d in rec.instrs],
            "columns": [reg_label(c, cie.ra_reg) for c in cols],
            "column_names": {reg_label(c, cie.ra_reg): column_name(c, cie.ra_reg)
                             for c in cols},
            "rows": [{"loc": r.loc, "cfa": r.cfa,
                      "regs": {reg_label(c, cie.ra_reg): r.regs.get(c, "u") for c in cols}}
                     for r in rows],
        })
    return {"records": records, "eh_frame_hdr": _hdr(img, eh)}


def _summary(image, cie, fde, code_symbols, bounds) -> dict | None:
    """Where the interrupted registers are, as seen from the first symbol in the FDE's
    range (a trampoline's FDE starts at the nop before it), for signal-frame FDEs."""
    from vdsotool.inspect import sigframe_notes as N

    if image is None:
        return None
    end = fde.pc_begin + fde.pc_range
    first = next(((v, n) for v, n in code_symbols if fde.pc_begin <= v < end), None)
    at, where = first if first else (fde.pc_begin, "the FDE's range")
    return N.summary(image, cie, fde, at, where, bounds)


def _notes_of(image, cie, rec, bounds) -> dict[int, str]:
    """File offset of an expression instruction -> its meaning (signal-frame pattern)."""
    from vdsotool.inspect import sigframe_notes as N

    if image is None:
        return {}
    image = image.for_record()
    cfa = next((d for d in [*cie.instrs, *rec.instrs]
                if isinstance(d.instr, M.DefCfaExpression)), None)
    frame = N.frame_for(N.cfa_pointer(image, cfa, bounds), image.word, image.little)
    notes = {}
    for d in rec.instrs:
        if d.expr or isinstance(d.instr, (M.DefCfaExpression, M.Expression, M.ValExpression)):
            note = N.note_for_rule(image, d, bounds, frame, cie.ra_reg)
            if note:
                notes[d.offset] = note
    return notes


def _code_symbols(img) -> list[tuple[int, str]]:
    """(value, name) of the named function/untyped symbols, sorted; none when the symbol
    tables are unreadable (the CFI is still shown)."""
    try:
        return sorted({(s.value, s.name) for s in _all_symbols(img)
                       if s.name and s.type in (E.STT_NOTYPE, E.STT_FUNC) and s.shndx})
    except VdsoError:
        return []


def _symbols_in(symbols: list[tuple[int, str]], begin: int, end: int) -> list[str]:
    """Names of the symbols with begin <= value < end (each name once, by address)."""
    import bisect

    first = bisect.bisect_left(symbols, (begin, ""))
    names: list[str] = []
    for value, name in symbols[first:]:
        if value >= end:
            break
        if name not in names:
            names.append(name)
    return names


def _hdr(img, eh) -> dict:
    """.eh_frame_hdr's search table and its check against the FDEs (``vdsotool check``'s)."""
    from vdsotool.inspect.check import read_and_check_eh_frame_hdr

    sec = img.section(".eh_frame_hdr")
    if sec is None:
        return {"present": False, "problems": []}
    rows, defects = read_and_check_eh_frame_hdr(img, sec, img.section(".eh_frame"), eh.fdes)
    problems = [d.message for d in defects]
    if rows is None:
        return {"present": True, "problems": problems}
    return {"present": True, "count": len(rows), "problems": problems,
            "table": [{"pc": r.pc, "fde": r.fde} for r in rows]}


def _disasm(img) -> dict:
    sec = img.section(".text")
    if sec is None or img.e_machine not in POWERPC_MACHINES:
        return {"lines": [], "note": "no PowerPC .text to disassemble"}
    from vdsotool.inspect.disasm import Disassembler

    dis = Disassembler(img.bits, img.little)  # capstone, corrected to read as objdump
    labels = {s.value: s.name for s in _all_symbols(img)
              if s.name and s.type in (E.STT_NOTYPE, E.STT_FUNC)}
    changes = _cfi_changes(img)
    code = img.bytes_at(sec.offset, sec.size)
    lines = []
    for addr in range(sec.addr, sec.addr + len(code) - 3, 4):
        chunk = code[addr - sec.addr:addr - sec.addr + 4]
        lines.append({"addr": addr, "label": labels.get(addr), "bytes": chunk.hex(),
                      "text": dis.text(chunk, addr), "cfi": changes.get(addr)})
    return {"lines": lines}


def _cfi_changes(img) -> dict[int, str]:
    """Address -> the CFA/rules that take effect there, as ``CFA=r1+0 lr=r12`` (registers
    by ABI name, cells in readelf's vocabulary); the first
    row of an FDE shows everything, later rows only what changed."""
    try:
        cfi = _cfi(img)
    except VdsoError:
        return {}
    out: dict[int, str] = {}
    for rec in cfi["records"]:
        if rec["kind"] != "FDE":
            continue
        prev: dict[str, str] = {}
        for row in rec["rows"]:
            names = rec.get("column_names", {})  # readelf's r46 -> f14 for the reader
            cells = {"CFA": row["cfa"], **{names.get(k, k): v for k, v in row["regs"].items()}}
            diff = {k: v for k, v in cells.items() if prev.get(k, "u") != v or not prev}
            if diff:
                out[row["loc"]] = " ".join(f"{k}={v}" for k, v in diff.items())
            prev = cells
    return out


def _patches(img, cpus=None, page_size: int = 4096) -> dict:
    from vdsotool.inspect.patch_view import patches_part

    return patches_part(img, cpus, page_size)


_NOT_APPLICABLE = object()


def _fixups(img, cpus=None):
    from vdsotool.inspect.fixup_view import fixups_part

    part = fixups_part(img, cpus)
    return _NOT_APPLICABLE if part is None else part


_PARTS = {"headers": _headers, "symbols": _symbols, "cfi": _cfi, "disasm": _disasm,
          "fixups": _fixups, "patches": _patches}


# --- instruction and expression text ------------------------------------------------------

def expr_text(ops, base: int = 0) -> str:
    """Ops as text; skip/bra targets shown as section offsets (``base`` = section start)."""
    parts = []
    for d in ops:
        op = d.op
        name = "DW_OP_" + D.op_name(op.opcode)
        if op.opcode in (D.DW_OP_skip, D.DW_OP_bra):
            target = d.offset + len(d.raw) + op.operands[0] - base
            parts.append(f"{name} {op.operands[0]:+d} (to {target:#x})")
        else:
            parts.append(" ".join([name, *(str(v) for v in op.operands)]))
    return "; ".join(parts)


def instr_text(instr: M.Instr, expr=(), base: int = 0, ra_column: int | None = None) -> str:
    """One CFA instruction; registers by their ABI names (``v0``, ``lr``; the signal
    frames' return column 67 as ``nip``)."""
    from vdsotool.abi.dwarf_regs import column_name

    name = "DW_CFA_" + "".join("_" + c.lower() if c.isupper() else c
                               for c in type(instr).__name__).lstrip("_")
    if isinstance(instr, (M.DefCfaExpression, M.Expression, M.ValExpression)):
        reg = "" if isinstance(instr, M.DefCfaExpression) else \
            f"{column_name(instr.reg, ra_column)} "
        return f"{name} {reg}({expr_text(expr, base)})"
    fields = [f"{k}={column_name(v, ra_column) if k in ('reg', 'reg2') else v}"
              for k, v in vars(instr).items()]
    return " ".join([name, *fields])


# --- text printer --------------------------------------------------------------------------

def render_text(report: dict) -> str:
    machine = E.EM_NAMES.get(report["machine"])
    out = [f"{report['image']}: {report['class']} {report['endian']}-endian, "
           f"machine EM_{machine} ({report['machine']})" if machine else
           f"{report['image']}: {report['class']} {report['endian']}-endian, "
           f"machine {report['machine']}"]
    for part in PART_NAMES:
        if part in report and report[part] is not None:
            out.append("")
            out.extend(_TEXT[part](report[part]))
    for p in report["problems"]:
        out.append(f"problem: {p}")
    return "\n".join(line.rstrip() for line in out) + "\n"


def _text_headers(h: dict) -> list[str]:
    elf = h["elf"]
    out = [f"ELF header: type {E.ET_NAMES.get(elf['type'], '?')} ({elf['type']}), "
           f"e_flags {elf['flags']:#x}, {elf['phnum']} program headers, "
           f"{len(h['sections'])} sections",
           "Program headers:", "  TYPE          OFFSET     VADDR      FILESZ   MEMSZ    FLG"]
    for p in h["program_headers"]:
        out.append(f"  {p['type']:13} {p['offset']:#010x} {p['vaddr']:#010x} "
                   f"{p['filesz']:#08x} {p['memsz']:#08x} {p['flags']}")
    out += ["Sections:", "  NAME                ADDR       OFFSET     SIZE     FLG"]
    for s in h["sections"]:
        flags = "".join(c for c, bit in E.SHF_LETTERS if s["flags"] & bit)
        out.append(f"  {s['name']:19} {s['addr']:#010x} {s['offset']:#010x} "
                   f"{s['size']:#08x} {flags}".rstrip())
    for n in h.get("notes", []):
        out.append(f"Note: {n['name']} type {n['type']}: {n['desc']}"
                   + (f" ({n['meaning']})" if n["meaning"] else ""))
    out.append("Dynamic: " + ", ".join(f"{d['name'] or hex(d['tag'])}={d['value']:#x}"
                                       for d in h["dynamic"]))
    return out


def _text_symbols(s: dict) -> list[str]:
    out = [".dynsym:"]
    for sym in s["dynsym"]:
        out.append(f"  {sym['value']:#010x} {sym['size']:5} {sym['type']:7} {sym['bind']:6} "
                   f"{sym['name']}@{sym['version'] or '?'}")
    if s.get("symtab"):
        out.append(".symtab:")
        for sym in s["symtab"]:
            out.append(f"  {sym['value']:#010x} {sym['size']:5} {sym['type']:7} "
                       f"{sym['bind']:6} {sym['name']}")
    return out


def _text_cfi(c: dict) -> list[str]:
    out = [".eh_frame:"]
    for rec in c["records"]:
        if rec["kind"] == "CIE":
            out.append(f"{rec['offset']:08x} CIE \"{rec['augmentation']}\" "
                       f"cf={rec['code_align']} df={rec['data_align']} ra={rec['ra']}")
        else:
            out.append(f"{rec['offset']:08x} FDE cie={rec['cie']:08x} "
                       f"pc={rec['pc_begin']:08x}..{rec['pc_end']:08x}"
                       + (f"  ({', '.join(rec['functions'])})" if rec["functions"] else ""))
        if rec.get("summary"):
            out.extend(_text_summary(rec["summary"]))
        for i in rec["instructions"]:
            out.extend(_text_instruction(i))
        out.extend(_text_rows(rec))
        out.append("")
    hdr = c.get("eh_frame_hdr", {})
    if hdr.get("present"):
        out.append(f".eh_frame_hdr: {hdr.get('count', '?')} entries, "
                   + ("; ".join(hdr["problems"]) or "sorted and complete"))
    return out


BYTES_PER_LINE = 10  # the bytes column is 10 bytes wide; longer instructions wrap


def _text_instruction(i: dict) -> list[str]:
    """``offset | bytes | meaning``, the bytes wrapped 10 per line like a hex dump so the
    columns stay aligned; the note on a line of its own."""
    hexes = i["bytes"].split()
    chunks = [" ".join(hexes[at:at + BYTES_PER_LINE])
              for at in range(0, len(hexes), BYTES_PER_LINE)] or [""]
    width = 3 * BYTES_PER_LINE - 1
    out = [f"  {i['offset']:06x} | {chunks[0]:{width}} | {i['text']}"]
    out += [f"  {'':6} | {chunk:{width}} |" for chunk in chunks[1:]]
    if i.get("note"):
        out.append(f"  {'':6} | {'':{width}} |   ; {i['note']}")
    return out


COLUMNS_PER_TABLE = 12  # a signal FDE has 100+ columns: print them in slices


def _text_rows(rec: dict) -> list[str]:
    """The readelf-style row table (GNU's column names), 12 register columns at a time."""
    cols = rec["columns"]
    out = []
    for at in range(0, max(len(cols), 1), COLUMNS_PER_TABLE):
        part = cols[at:at + COLUMNS_PER_TABLE]
        out.append("   LOC     CFA      " + " ".join(f"{c:6}" for c in part))
        abi = rec.get("column_names", {})
        if any(abi.get(c, c) != c for c in part):  # readelf's r46 is f14: say so below
            out.append("   (ABI name)       " + " ".join(f"{abi.get(c, c):6}" for c in part))
        for r in rec["rows"]:
            out.append(f"  {r['loc']:08x} {r['cfa']:8} "
                       + " ".join(f"{r['regs'][c]:6}" for c in part))
    return out


def _text_summary(s: dict) -> list[str]:
    from vdsotool.inspect.sigframe_notes import HEADING

    layout = f", layout {s['layout']}" if s["layout"] else ", no known layout matches"
    out = [f"  {HEADING} (from inside {s['where']} at {s['at']:#x}{layout}):",
           f"    gregs = the saved-register block whose pointer is at r1+"
           f"{s['frame_pointer_at']}",
           f"    {'CFA':10} {s['cfa']}"]
    for line in s["lines"]:
        text = line["where"] + (f" ({line['note']})" if line["note"] else "")
        out.append(f"    {line['registers']:10} {text}")
        if line["layout_says"]:
            out.append(f"    {'':10} ! differs from the layout: {line['layout_says']}")
    return out


def _text_disasm(d: dict) -> list[str]:
    out = [".text:"] if d["lines"] else [d.get("note", "")]
    for line in d["lines"]:
        if line["label"]:
            out.append(f"<{line['label']}>:")
        out.append(f"  {line['addr']:08x}: {line['bytes']}  {line['text']}"
                   + (f"    ; cfi: {line['cfi']}" if line.get("cfi") else ""))
    return out


def _text_patches(p: dict) -> list[str]:
    from vdsotool.inspect.patch_view import text_lines

    return text_lines(p)


def _text_fixups(p: dict) -> list[str]:
    from vdsotool.inspect.fixup_view import text_lines

    return text_lines(p)


_TEXT = {"headers": _text_headers, "symbols": _text_symbols, "cfi": _text_cfi,
         "disasm": _text_disasm, "fixups": _text_fixups, "patches": _text_patches}
