"""The link as one call: ObjectFiles + linker script -> image bytes.

Stages (each its own module): gather input sections into output sections (gather.py),
make one chunk per output section, each knowing its size — synthesised sections depend
only on names, ``.eh_frame`` only on the programs — and lay them out once (image.py,
layout.py), resolve and relocate at those addresses (resolve.py), then let every chunk
write its bytes (chunk.py and one module per synthesised section).

Exports are the script's ``global:`` names that some object defines as global, in
first-definition order (objects in ``asm/images.toml`` order). The unused ``.got`` GNU ld
makes is made too (got.py), so the image is GNU's byte for byte.

With ``debug`` the link also returns the debug twin (``vdsoNN.so.dbg``): the same image
plus ``.symtab``/``.strtab`` as GNU ld writes them (debug_twin.py, symtab.py); the kernel
derives its offsets header from that twin's symbols.

With ``build_id`` (a hashlib name, as GNU ld ``--build-id=``) the image carries an
``NT_GNU_BUILD_ID`` note computed from the debug twin's own bytes (build_id.py).
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.elf.constants import SHT_STRTAB, SHT_SYMTAB
from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.link import build_id as bid
from vdsotool.link.chunk import Blob, InputSections
from vdsotool.link.debug_twin import debug_symbols
from vdsotool.link.eh_frame import EhFrame, FrameRecord
from vdsotool.link.gather import gather
from vdsotool.link.got import Got, wants_got
from vdsotool.link.image import Image
from vdsotool.link.resolve import apply_relocations
from vdsotool.link.script import LinkerScript
from vdsotool.link.symtab import OutSymbol, build_symtab
from vdsotool.objfile import ObjectFile, Section
from vdsotool.util.records import record, replace


@record(frozen=True)
class LinkedImage:
    image: bytes  # the shipped (stripped) image
    dbg: bytes | None  # the debug twin: the same plus .symtab/.strtab (when asked for)


def link(objects: list[ObjectFile], script: LinkerScript, target: Target) -> bytes:
    """The shipped image (:func:`link_image` gives the debug twin too)."""
    return link_image(objects, script, target).image


def link_image(objects: list[ObjectFile], script: LinkerScript, target: Target, *,
               debug: bool = False, build_id: str = "") -> LinkedImage:
    """The image and, with ``debug``, its debug twin; with ``build_id``, a build-id note."""
    if build_id:
        # GNU ld adds its note to the first input, after that input's own sections
        first = objects[0]
        if bid.SECTION in first.sections:
            raise VdsoError.at(first.sections[bid.SECTION].loc or SourceLoc(first.path, 0),
                               f"section {bid.SECTION} is the linker's build-id note")
        note = Section(bid.SECTION, "a", "note", 4, bytearray(bid.note_size(build_id)))
        objects = [replace(first, sections=first.sections | {bid.SECTION: note}), *objects[1:]]
    groups = gather(script, objects)
    chunks = {out: InputSections(out, [(key, objects[key[0]].sections[key[1]]) for key in keys])
              for out, keys in groups.items()}
    frames = [(i, f) for i, o in enumerate(objects) for f in o.frames]
    if not frames:
        # GNU ld would write an empty .eh_frame and a zero-sized PT_GNU_EH_FRAME: an image no
        # unwinder can walk out of, which is not a vDSO worth shipping
        raise VdsoError.at(SourceLoc(script.path, 0), "no call-frame information in any input: "
                           "a vDSO needs .eh_frame (wrap each function in .cfi_startproc/"
                           ".cfi_endproc)")
    chunks[".eh_frame"] = EhFrame(
        target, [FrameRecord(f.end - f.start, [(off - f.start, instr) for off, instr, _ in
                                               f.instructions], f.signal_frame, f.return_column,
                             f.simple) for _, f in frames],
        [((i, f.section), f.start) for i, f in frames])
    got = Got(target.elf) if wants_got(script) and ".got" not in groups else None
    if got is not None:
        chunks[".got"] = got
    exports = _exports(objects, script)
    image = Image(target, script, chunks, [s.name for _, s in exports],
                  _e_flags(objects, target))

    image.input_address = {key: image.address[out] + at for out, keys in groups.items()
                           for key, at in chunks[out].offsets.items()}
    image.relocated = apply_relocations(objects, image.input_address, target.elf,
                                        image.layout.symbols)
    placement = {key: (out, image.input_address[key]) for out, keys in groups.items()
                 for key in keys}
    image.exports = {s.name: _out_symbol(s, i, placement) for i, s in exports}
    loaded = image.loaded()
    if not debug and not build_id:
        return LinkedImage(image.file(loaded), None)
    # the note belongs to no object's symbols (GNU ld makes it in a stub input)
    symbols = debug_symbols(objects, script, image.layout,
                            {k: v for k, v in placement.items() if k != (0, bid.SECTION)},
                            set(image.exports),
                            dynobj_first=target.bits == 32,
                            got_symbol=got.symbol(image) if got is not None else None)
    symtab, strtab, first_global = build_symtab(target.elf, symbols, image.index)
    word = target.elf.wordsize
    extra = [Blob(".symtab", symtab, word, 0, sh_type=SHT_SYMTAB, link=".strtab",
                  info=first_global, entsize=target.elf.sym.size),
             Blob(".strtab", strtab, 1, 0, sh_type=SHT_STRTAB)]
    dbg = image.file(loaded, extra, (".symtab", ".strtab", ".shstrtab"))
    if build_id:
        at = image.input_address[(0, bid.SECTION)]  # file offset == address
        note = bid.note(target.elf, bid.digest(dbg, build_id))
        dbg = dbg[:at] + note + dbg[at + len(note):]
        loaded = loaded[:at] + note + loaded[at + len(note):]
    return LinkedImage(image.file(loaded), dbg if debug else None)


def _out_symbol(sym, index, placement) -> OutSymbol:
    """An export's .dynsym entry (NOTYPE unless the source gave FUNC or OBJECT)."""
    out, address = (None, 0) if sym.section is None else placement.get((index, sym.section),
                                                                       (None, None))
    if address is None:
        raise VdsoError.at(sym.loc, f"exported symbol '{sym.name}' is in section "
                                    f"{sym.section}, which the script discards")
    return OutSymbol(sym.name, address + sym.value, sym.size or 0,
                     sym.type if sym.type in ("func", "object") else "notype", out, "global",
                     sym.loc)


def _e_flags(objects, target) -> int:
    """The ELF ABI version the 64-bit inputs declare (``.abiversion``), as GNU ld sets it;
    inputs declaring different ones cannot be linked together."""
    versions = {o.abiversion for o in objects if o.abiversion} if target.bits == 64 else set()
    if len(versions) > 1:
        raise VdsoError.at(SourceLoc(objects[0].path, 0),
                           f"inputs declare different .abiversion values {sorted(versions)}")
    return versions.pop() if versions else 0


def _exports(objects, script):
    wanted = {n for v in script.versions for n in v.globals}
    seen, out = set(), []
    for i, obj in enumerate(objects):
        for sym in obj.symbols.values():
            if sym.name in wanted and sym.defined and sym.binding != "local" \
                    and sym.name not in seen:
                seen.add(sym.name)
                out.append((i, sym))
    if not out and wanted:
        raise VdsoError.at(SourceLoc(script.path, 0), "no exported symbol is defined")
    return out
