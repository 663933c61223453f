"""Composing the image: the synthesised sections, the layout and the headers in one file.

Input is what the earlier link stages produce — the exports (values already final), the
content sections (``.note``, ``.text``, ``.eh_frame``, ``.got`` … as bytes) and the FDE
list for ``.eh_frame_hdr`` — and output is the ``.so`` bytes, laid out as GNU ld does:
headers, then every output section at file offset == address inside the one PT_LOAD,
then ``.shstrtab``, then the section headers aligned to the word size.

The synthesised sections have sizes known before addresses (they depend only on the
names), so one layout pass suffices; their contents, which hold addresses, are built after.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.link import dynamic as dyn
from vdsotool.link.dynstr import build_dynstr
from vdsotool.link.dynsym import DynSymEntry, build_dynsym, version_symbol
from vdsotool.link.eh_frame_hdr import build_eh_frame_hdr, eh_frame_hdr_size
from vdsotool.link.elf_header import (build_elf_header, build_phdrs, segments,
                                      sizeof_headers)
from vdsotool.link.gnu_hash import build_gnu_hash, gnu_ld_dynsym_order
from vdsotool.link.hash import build_hash
from vdsotool.link.layout import SectionContent, lay_out
from vdsotool.link.script import LinkerScript
from vdsotool.link.shdrs import OutSection, build_section_headers, build_shstrtab
from vdsotool.link.verdef import build_verdef
from vdsotool.link.versym import build_versym
from vdsotool.util.records import record, replace

SYNTH_ALIGN = {".hash": "word", ".gnu.hash": "word", ".dynsym": "word", ".dynstr": 1,
               ".gnu.version": 2, ".gnu.version_d": "word", ".eh_frame_hdr": 4,
               ".dynamic": "word"}


@record(frozen=True)
class Content:
    """An output section whose bytes the link already produced."""

    data: bytes
    align: int
    flags: str  # "a", "ax", "aw", "awx"


def synthetic_sizes(target: Target, script: LinkerScript, export_names: list[str],
                    fde_count: int) -> dict[str, SectionContent]:
    """Sizes/alignments of the sections the link synthesises (they depend on names only)."""
    word, big = target.wordsize, not target.little
    nodes = [v.name for v in script.versions]
    order = [""] + gnu_ld_dynsym_order(export_names + nodes)
    dynstr, _ = build_dynstr(export_names + [target.soname] + nodes)
    sizes = {
        ".hash": len(build_hash(order, big)),
        ".gnu.hash": len(build_gnu_hash(order, 1, target.bits, big)),
        ".dynsym": len(order) * (24 if target.bits == 64 else 16),
        ".dynstr": len(dynstr), ".gnu.version": 2 * len(order),
        ".gnu.version_d": 28 * (1 + len(nodes)),
        ".eh_frame_hdr": eh_frame_hdr_size(fde_count), ".dynamic": dyn.dynamic_size(target.bits),
    }
    return {n: SectionContent(size, word if SYNTH_ALIGN[n] == "word" else SYNTH_ALIGN[n])
            for n, size in sizes.items()}


def write_image(target: Target, script: LinkerScript, exports: list[DynSymEntry],
                contents: dict[str, Content], fdes: list[tuple[int, int]],
                dynsym_order: list[str] | None = None) -> bytes:
    """The stripped image. ``exports`` in first-definition order (their ``shndx`` is
    resolved here from the section names in ``contents``: pass the output section name's
    index placeholder 0); ``fdes``: (pc_begin, offset of the FDE in .eh_frame)."""
    return finish(compose(target, script, exports, contents, fdes, dynsym_order))


@record
class Composed:
    """The loaded part of an image (headers still blank) and what the tables need."""

    target: Target
    script: LinkerScript
    loaded: bytes
    sections: list[OutSection]
    layout_sections: list  # layout.Placed, for the program headers
    flags: dict[str, str]

    def section_index(self) -> dict[str, int]:
        return {s.name: i + 1 for i, s in enumerate(self.sections)}


def compose(target: Target, script: LinkerScript, exports: list[DynSymEntry],
            contents: dict[str, Content], fdes: list[tuple[int, int]],
            dynsym_order: list[str] | None = None) -> Composed:
    """Everything that is loaded: the synthesised sections and ``contents`` laid out."""
    word, big = target.wordsize, not target.little
    nodes = [v.name for v in script.versions]
    names = [e.name for e in exports] + nodes
    dynstr, offsets = build_dynstr([e.name for e in exports] + [target.soname] + nodes)
    order = dynsym_order or gnu_ld_dynsym_order(names)
    dynsym_names = [""] + order
    by_name = {e.name: e for e in exports} | {n: version_symbol(n) for n in nodes}

    synth_sizes = {
        ".hash": len(build_hash(dynsym_names, big)),
        ".gnu.hash": len(build_gnu_hash(dynsym_names, 1, target.bits, big)),
        ".dynsym": (1 + len(order)) * (24 if target.bits == 64 else 16),
        ".dynstr": len(dynstr), ".gnu.version": 2 * (1 + len(order)),
        ".gnu.version_d": 28 * (1 + len(nodes)),
        ".eh_frame_hdr": eh_frame_hdr_size(len(fdes)), ".dynamic": dyn.dynamic_size(target.bits),
    }
    sized = {n: SectionContent(size, word if SYNTH_ALIGN[n] == "word" else SYNTH_ALIGN[n])
             for n, size in synth_sizes.items()}
    sized |= {n: SectionContent(len(c.data), c.align) for n, c in contents.items()}
    layout = lay_out(script, sized, sizeof_headers(target.bits, len(script.phdrs)))
    addr = {p.name: p.address for p in layout.sections}
    index = {p.name: i + 1 for i, p in enumerate(layout.sections)}

    data = {n: c.data for n, c in contents.items()}
    data[".dynstr"] = dynstr
    data[".hash"] = build_hash(dynsym_names, big)
    data[".gnu.hash"] = build_gnu_hash(dynsym_names, 1, target.bits, big)
    entries = [by_name[n] if n in nodes else
               DynSymEntry(n, by_name[n].value, by_name[n].size, by_name[n].type,
                           index[".text"]) for n in order]
    data[".dynsym"] = build_dynsym(entries, offsets, target.bits, big)
    data[".gnu.version"] = build_versym([0] + [2] * len(order), big)
    data[".gnu.version_d"] = build_verdef([target.soname] + nodes, offsets, big)
    data[".eh_frame_hdr"] = build_eh_frame_hdr(
        addr[".eh_frame_hdr"], addr[".eh_frame"],
        [(pc, addr[".eh_frame"] + off) for pc, off in fdes], big)
    data[".dynamic"] = dyn.build_dynamic(dyn.DynamicInputs(
        offsets[target.soname], addr[".hash"], addr[".gnu.hash"], addr[".dynstr"],
        len(dynstr), addr[".dynsym"], addr[".gnu.version_d"], 1 + len(nodes),
        addr[".gnu.version"]), target.bits, big)

    flags = {n: c.flags for n, c in contents.items()} | {".dynamic": "aw"}
    image = bytearray(layout.end)
    for p in layout.sections:
        image[p.address:p.address + p.size] = data[p.name]
    out_sections = [OutSection(p.name, flags.get(p.name, "a"), p.address, p.address, p.size,
                               p.align) for p in layout.sections]
    return Composed(target, script, bytes(image), out_sections, layout.sections, flags)


def finish(composed: Composed, extra: list[tuple[OutSection, bytes]] = (),
           shstrtab_first: tuple[str, ...] = (".shstrtab",)) -> bytes:
    """The file: loaded part, then the non-allocated ``extra`` sections (the debug twin's
    ``.symtab``/``.strtab``), ``.shstrtab`` and the section headers aligned to the word.
    ``shstrtab_first``: names GNU puts first in ``.shstrtab`` (objcopy puts ``.shstrtab``
    itself first in the stripped file, ld puts ``.symtab``, ``.strtab``, ``.shstrtab``)."""
    target, script = composed.target, composed.script
    word, big = target.wordsize, not target.little
    image = bytearray(composed.loaded)
    out_sections = list(composed.sections)
    for section, data in extra:
        image += bytes(-len(image) % section.align)
        out_sections.append(replace(section, offset=len(image), size=len(data)))
        image += data
    shstrtab_at = len(image)
    shstrtab, name_offsets = build_shstrtab([s.name for s in out_sections], shstrtab_first)
    out_sections.append(OutSection(".shstrtab", "", 0, shstrtab_at, len(shstrtab), 1))
    image += shstrtab
    image += bytes(-len(image) % word)
    shoff = len(image)
    image += build_section_headers(out_sections, name_offsets, target.bits, big)
    header = build_elf_header(target, len(script.phdrs), shoff, len(out_sections) + 1,
                              len(out_sections))
    header += build_phdrs(segments(script.phdrs, composed.layout_sections, composed.flags),
                          target.bits, big)
    image[:len(header)] = header
    return bytes(image)
