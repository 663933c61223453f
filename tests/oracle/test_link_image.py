"""Composition differential: rebuild GNU ld's whole image from its content sections
(.note, .text, .eh_frame, .got as chunks), its export values and FDE list with our
synthesised chunks, layout and headers — the result must be byte-identical to GNU ld's
file."""

from __future__ import annotations

import pytest
from conftest import ROOT, copy_sources, need_tool
from gnu import built_image

from vdsotool.abi.targets import TARGETS
from vdsotool.elf import read
from vdsotool.inspect.check import check_image, read_fdes
from vdsotool.link.chunk import Blob
from vdsotool.link.image import Image
from vdsotool.link.script import read_script
from vdsotool.link.symtab import OutSymbol


class GnuEhFrame(Blob):
    """GNU's .eh_frame bytes with its FDE list (pc_begin, offset), for .eh_frame_hdr."""

    def __init__(self, data, align, fdes):
        super().__init__(".eh_frame", data, align)
        self.fde_offsets, self.gnu_fdes = [off for _, off in fdes], fdes

    def fdes(self, image):
        return [(pc, image.address[self.name] + off) for pc, off in self.gnu_fdes]


@pytest.mark.parametrize("name", list(TARGETS))
def test_relinked_image_identical_to_gnu_ld(name):
    target = TARGETS[name]
    path = built_image("gnu", target)
    gnu = path.read_bytes()
    img = read(gnu, str(path))
    script = read_script(str(ROOT / "linker_scripts" / target.linker_script))
    eh = img.section(".eh_frame")
    fdes = [(f.pc_begin, f.offset - eh.offset) for f in read_fdes(img, eh.offset, eh.addr, eh.size)]
    chunks = {".eh_frame": GnuEhFrame(gnu[eh.offset:eh.offset + eh.size], eh.align, fdes)}
    for s in img.sections:
        if s.name in (".note", ".text", ".got"):  # the 32-bit script discards the GOT
            chunks[s.name] = Blob(s.name, gnu[s.offset:s.offset + s.size], s.align, s.flags,
                                  sh_type=s.type, entsize=s.entsize)
    dynstr = img.section(".dynstr")
    strings = [n.decode() for n in gnu[dynstr.offset:dynstr.offset + dynstr.size].split(b"\0")]
    syms = {s.name: s for s in img.dynsyms()[1:]}
    exports = [n for n in strings if n in syms and n != "LINUX_2.6.15"]
    image = Image(target, script, chunks, exports)
    image.exports = {n: OutSymbol(n, syms[n].value, syms[n].size,
                                  ("notype", "object", "func")[syms[n].type], ".text", "global")
                     for n in exports}
    ours = image.file(image.loaded())
    assert check_image(read(ours, "ours.so")) == []
    assert ours == gnu


KERNEL_STYLE_GOT = ".got            : { *(.got.plt) *(.got) }"


def test_kernel_style_32bit_script_keeping_the_got_matches_gnu_ld(tmp_path):
    """vdsotool's 32-bit script discards the GOT; a kernel-style one keeps it. Then GNU ld
    makes its 16-byte blrl GOT header (and ``_GLOBAL_OFFSET_TABLE_`` in the debug twin), and
    so must we: same modified script, same bytes."""
    import re
    import subprocess

    from gnu import built_image, image_sources

    from vdsotool.abi.targets import PPC32
    from vdsotool.pipeline import build_outputs

    src = copy_sources(tmp_path / "src")
    script = src / "linker_scripts" / PPC32.linker_script
    text, count = re.subn(r"/DISCARD/\s*:\s*\{\s*\*\(\.got\.plt\)\s*\*\(\.got\)\s*\}",
                          KERNEL_STYLE_GOT, script.read_text())
    assert count == 1, "the 32-bit script no longer discards its GOT this way"
    script.write_text(text)

    gnu_objects = built_image("gnu", PPC32).parent
    dbg, so = tmp_path / "gnu.so.dbg", tmp_path / "gnu.so"
    subprocess.run([need_tool(PPC32.gnu_tool("ld")), "-shared", f"-soname={PPC32.soname}",
                    "--hash-style=both", "--eh-frame-hdr", "-T", str(script), "-o", str(dbg),
                    *(str(gnu_objects / (s.stem + ".o")) for s in image_sources(PPC32))],
                   check=True, capture_output=True)
    subprocess.run([need_tool(PPC32.gnu_tool("objcopy")), "-S", str(dbg), str(so)], check=True)

    ours = build_outputs(PPC32, src, tmp_path / "out", None)
    image = ours[str(tmp_path / "out" / "vdso32.so")]
    assert b".got" in image  # the GOT is there, as in GNU's
    assert image == so.read_bytes()
    assert ours[str(tmp_path / "out" / "vdso32.so.dbg")] == dbg.read_bytes()
