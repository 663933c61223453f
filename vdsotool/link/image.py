"""The output file: every chunk placed by the one layout, written, then the file around it.

Given the chunks the link made from its inputs (``.note``, ``.text``, ``.eh_frame``,
``.got`` …), :class:`Image` adds the sections a dynamic image needs — ``.hash``,
``.gnu.hash``, ``.dynsym``, ``.dynstr``, ``.gnu.version``, ``.gnu.version_d``,
``.eh_frame_hdr``, ``.dynamic``, whose sizes depend only on the export and version names
— and lays everything out once. The caller then fills in what needs addresses (the
exports' final values, the relocated input sections) and writes: headers, then every
output section at file offset == address inside the one PT_LOAD (:meth:`Image.loaded`),
then the non-allocated sections (the debug twin's ``.symtab``/``.strtab``), ``.shstrtab``
and the section headers aligned to the word (:meth:`Image.file`), as GNU ld lays it out.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.elf.constants import (SHT_GNU_HASH, SHT_GNU_VERDEF, SHT_GNU_VERSYM, SHT_HASH,
                                    SHT_STRTAB)
from vdsotool.errors import Diagnostic, SourceLoc, VdsoError
from vdsotool.link.chunk import Blob, Chunk
from vdsotool.link.dynamic import Dynamic
from vdsotool.link.dynsym import DynSym
from vdsotool.link.eh_frame_hdr import EhFrameHdr
from vdsotool.link.gnu_hash import build_gnu_hash, gnu_ld_dynsym_order
from vdsotool.link.hash import build_hash
from vdsotool.link.headers import (build_elf_header, build_phdrs, build_section_headers,
                                   build_shstrtab, segments, sizeof_headers)
from vdsotool.link.layout import lay_out
from vdsotool.link.script import LinkerScript
from vdsotool.link.strtab import build_strtab
from vdsotool.link.symtab import OutSymbol
from vdsotool.link.versions import build_verdef, build_versym


class Image:
    """``chunks``: the output sections made from the inputs, by name (``.eh_frame`` must
    be one; its FDE list feeds ``.eh_frame_hdr``); ``export_names`` in first-definition
    order."""

    def __init__(self, target: Target, script: LinkerScript, chunks: dict[str, Chunk],
                 export_names: list[str], e_flags: int = 0) -> None:
        kind = self.kind = target.elf
        self.target, self.script, self.e_flags = target, script, e_flags
        nodes = [v.name for v in script.versions]
        dynstr, offsets = build_strtab(export_names + [target.soname] + nodes)
        names = [""] + gnu_ld_dynsym_order(export_names + nodes)
        word = kind.wordsize
        synthesized = [
            Blob(".hash", build_hash(kind, names), word, sh_type=SHT_HASH, link=".dynsym",
                 entsize=4),
            Blob(".gnu.hash", build_gnu_hash(kind, names, 1), word, sh_type=SHT_GNU_HASH,
                 link=".dynsym", entsize=4 if kind.bits == 32 else 0),
            DynSym(kind, names, nodes, offsets),
            Blob(".dynstr", dynstr, 1, sh_type=SHT_STRTAB),
            Blob(".gnu.version", build_versym(kind, len(names), 2), 2, sh_type=SHT_GNU_VERSYM,
                 link=".dynsym", entsize=2),
            Blob(".gnu.version_d", build_verdef(kind, [target.soname] + nodes, offsets), word,
                 sh_type=SHT_GNU_VERDEF, link=".dynstr", info=1 + len(nodes)),
            EhFrameHdr(kind, chunks[".eh_frame"]),
            Dynamic(kind, offsets[target.soname], 1 + len(nodes), e_flags),
        ]
        self.chunks = {c.name: c for c in synthesized} | chunks
        self.layout = lay_out(script, self.chunks, sizeof_headers(kind, len(script.phdrs)),
                              bits=kind.bits)
        self.address = {p.name: p.address for p in self.layout.sections}
        unplaced = [name for name in self.chunks if name not in self.address]
        if unplaced:  # only the linker's own sections can be: gather placed every input
            raise VdsoError([Diagnostic(f"section '{name}' (made by the linker) has no output "
                                        f"section in {script.path} (orphan sections are not "
                                        "supported)", SourceLoc(script.path, 0))
                             for name in unplaced])
        self.index = {p.name: i for i, p in enumerate(self.layout.sections, start=1)}
        # filled in by the caller once the layout is known, before writing
        self.exports: dict[str, OutSymbol] = {}  # name -> its .dynsym entry
        self.input_address: dict[tuple[int, str], int] = {}  # (object, section) -> address
        self.relocated: dict[tuple[int, str], bytes] = {}  # (object, section) -> its bytes

    def loaded(self) -> bytes:
        """Everything the PT_LOAD maps; the headers still blank (:meth:`file` writes them)."""
        data = bytearray(self.layout.end)
        for p in self.layout.sections:
            chunk = self.chunks[p.name].write(self)
            assert len(chunk) == p.size, p.name
            data[p.address:p.address + p.size] = chunk
        return bytes(data)

    def file(self, loaded: bytes, extra: list[Chunk] = (),
             shstrtab_first: tuple[str, ...] = (".shstrtab",)) -> bytes:
        """The file: ``loaded``, then the non-allocated ``extra`` chunks, ``.shstrtab`` and
        the section headers. ``shstrtab_first``: names GNU puts first in ``.shstrtab``
        (objcopy puts ``.shstrtab`` itself first in the stripped file, ld puts ``.symtab``,
        ``.strtab``, ``.shstrtab``)."""
        kind, script = self.kind, self.script
        data = bytearray(loaded)
        rows = [(self.chunks[p.name], p.address, p.address) for p in self.layout.sections]
        for chunk in extra:
            data += bytes(-len(data) % chunk.align)
            rows.append((chunk, 0, len(data)))
            data += chunk.write(self)
        shstrtab, name_offsets = build_shstrtab([c.name for c, _, _ in rows], shstrtab_first)
        rows.append((Blob(".shstrtab", shstrtab, 1, 0, sh_type=SHT_STRTAB), 0, len(data)))
        data += shstrtab + bytes(-(len(data) + len(shstrtab)) % kind.wordsize)
        shoff = len(data)
        data += build_section_headers(kind, rows, name_offsets)
        flags = {c.name: c.flags for c, _, _ in rows}
        header = build_elf_header(self.target, len(script.phdrs), shoff, len(rows) + 1,
                                  len(rows), self.e_flags)
        header += build_phdrs(kind, segments(script.phdrs, self.layout.sections, flags))
        data[:len(header)] = header
        return bytes(data)
