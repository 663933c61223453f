"""The link as one call: ObjectFiles + linker script -> image bytes.

Stages (each its own module): gather input sections into output sections (gather.py),
size everything — synthesised sections depend only on names, ``.eh_frame`` only on the
programs — and lay out (layout.py), resolve and relocate at those addresses (resolve.py),
then compose the image (image.py) which repeats the same layout from the same sizes.

Exports are the script's ``global:`` names that some object defines as global, in
first-definition order (objects in ``asm/images.toml`` order). The unused ``.got`` GNU ld
makes is made too (got.py), so the image is GNU's byte for byte.

With ``debug`` the link also returns the debug twin (``vdsoNN.so.dbg``): the same image
plus ``.symtab``/``.strtab`` as GNU ld writes them (debug_twin.py, symtab.py); the kernel
derives its offsets header from that twin's symbols.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.link.dynsym import DynSymEntry
from vdsotool.link.eh_frame import FrameRecord, build_eh_frame
from vdsotool.link.gather import gather
from vdsotool.link import got
from vdsotool.link.debug_twin import debug_symbols
from vdsotool.link.image import Content, compose, finish, synthetic_sizes
from vdsotool.link.shdrs import OutSection
from vdsotool.link.symtab import build_symtab
from vdsotool.link.layout import SectionContent, align_up, lay_out
from vdsotool.link.elf_header import sizeof_headers
from vdsotool.link.resolve import apply_relocations, symbol_address
from vdsotool.link.script import LinkerScript
from vdsotool.objfile import ObjectFile
from vdsotool.util.records import record


@record(frozen=True)
class LinkedImage:
    image: bytes  # the shipped (stripped) image
    dbg: bytes | None  # the debug twin: the same plus .symtab/.strtab (when asked for)


def link(objects: list[ObjectFile], script: LinkerScript, target: Target) -> bytes:
    """The shipped image (:func:`link_image` gives the debug twin too)."""
    return link_image(objects, script, target).image


def link_image(objects: list[ObjectFile], script: LinkerScript, target: Target, *,
               debug: bool = False) -> LinkedImage:
    """The image and, with ``debug``, its debug twin."""
    groups = gather(script, objects)
    offsets, sized, flags = _concatenate(objects, groups)
    export_syms = _exports(objects, script)
    frames = [(i, f) for i, o in enumerate(objects) for f in o.frames]
    if not frames:
        # GNU ld would write an empty .eh_frame and a zero-sized PT_GNU_EH_FRAME: an image no
        # unwinder can walk out of, which is not a vDSO worth shipping
        raise VdsoError.at(SourceLoc(script.path, 0), "no call-frame information in any input: "
                           "a vDSO needs .eh_frame (wrap each function in .cfi_startproc/"
                           ".cfi_endproc)")
    placeholder = [FrameRecord(0, f.end - f.start, _program(f), f.signal_frame,
                               f.return_column, f.simple) for _, f in frames]
    eh_size = len(build_eh_frame(target, placeholder, 0))
    names = [s.name for _, s in export_syms]
    sizes = synthetic_sizes(target, script, names, len(frames)) | sized
    sizes[".eh_frame"] = SectionContent(eh_size, 4)
    with_got = got.wants_got(script) and ".got" not in groups
    if with_got:
        sizes[".got"] = SectionContent(got.got_size(target), got.got_align(target))
    layout = lay_out(script, sizes, sizeof_headers(target.bits, len(script.phdrs)))
    out_addr = {p.name: p.address for p in layout.sections}
    addresses = {key: out_addr[out] + off for key, (out, off) in offsets.items()}
    patched = apply_relocations(objects, addresses, not target.little)

    contents = {}
    for out, members in groups.items():
        data = bytearray(sized[out].size)
        for key in members:
            start = addresses[key] - out_addr[out]
            data[start:start + len(patched[key])] = patched[key]
        contents[out] = Content(bytes(data), sized[out].align, flags[out])
    if with_got:
        data = got.build_got(target, out_addr[".got"], out_addr.get(".dynamic", 0))
        contents[".got"] = Content(data, got.got_align(target), got.got_flags(target))
    records = [FrameRecord(addresses[(i, f.section)] + f.start, f.end - f.start, _program(f),
                           f.signal_frame, f.return_column, f.simple) for i, f in frames]
    eh = build_eh_frame(target, records, out_addr[".eh_frame"])
    contents[".eh_frame"] = Content(eh, 4, "a")
    fdes = _fde_offsets(eh, records, target)
    exports = [DynSymEntry(s.name, symbol_address(s, i, addresses), s.size or 0,
                           s.type if s.type in ("func", "object") else "notype", 0)
               for i, s in export_syms]
    composed = compose(target, script, exports, contents, fdes)
    if not debug:
        return LinkedImage(finish(composed), None)
    placement = {key: (out, addresses[key]) for key, (out, _) in offsets.items()}
    got_symbol = got.got_symbol(target, out_addr[".got"]) if with_got else None
    symbols = debug_symbols(objects, script, layout, placement, set(names),
                            dynobj_first=target.bits == 32, got_symbol=got_symbol)
    return LinkedImage(finish(composed), _with_symtab(composed, symbols))


def _with_symtab(composed, symbols) -> bytes:
    """The debug twin: GNU ld's .so before stripping (.symtab, .strtab, then .shstrtab)."""
    target = composed.target
    symtab, strtab, first_global = build_symtab(symbols, composed.section_index(),
                                                target.bits, not target.little)
    extra = [(OutSection(".symtab", "", 0, 0, 0, target.wordsize, first_global), symtab),
             (OutSection(".strtab", "", 0, 0, 0, 1), strtab)]
    return finish(composed, extra, (".symtab", ".strtab", ".shstrtab"))


def _program(f):
    return [(off - f.start, instr) for off, instr, _loc in f.instructions]


def _concatenate(objects, groups):
    offsets, sized, flags = {}, {}, {}
    for out, members in groups.items():
        size, align, letters = 0, 1, set()
        for key in members:
            sec = objects[key[0]].sections[key[1]]
            size = align_up(size, sec.align)
            offsets[key] = (out, size)
            size += sec.size
            align = max(align, sec.align)
            letters |= set(sec.flags)
        sized[out] = SectionContent(size, align)
        flags[out] = "".join(c for c in "awx" if c in letters)
    return offsets, sized, flags


def _exports(objects, script):
    wanted = {n for v in script.versions for n in v.globals}
    seen, out = set(), []
    for i, obj in enumerate(objects):
        for sym in obj.symbols.values():
            if sym.name in wanted and sym.defined and sym.binding != "local" \
                    and sym.name not in seen:
                seen.add(sym.name)
                out.append((i, sym))
    missing = sorted(wanted - seen)
    if not out and missing:
        raise VdsoError.at(SourceLoc(script.path, 0), "no exported symbol is defined")
    return out


def _fde_offsets(eh: bytes, records, target) -> list[tuple[int, int]]:
    """(pc_begin, offset of its FDE) by walking the records we just wrote."""
    order = "little" if target.little else "big"
    out, pos, fde_index = [], 0, 0
    while pos + 4 <= len(eh):
        length = int.from_bytes(eh[pos:pos + 4], order)
        if length == 0:
            break
        if int.from_bytes(eh[pos + 4:pos + 8], order) != 0:
            out.append((records[fde_index].pc_begin, pos))
            fde_index += 1
        pos += 4 + length
    return out
