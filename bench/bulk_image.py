"""A large vDSO-like image for timing ``vdsotool dump --all``: the shipped sources plus a
generated source of many small functions, each with its own CFI (so its own FDE, row table
and ``.eh_frame_hdr`` entry), built with vdsotool's own assembler and linker in process.

The functions are leaf-like frames of the usual PowerPC shape (save LR, push a frame,
restore, return) with ``.cfi_*`` directives describing each step, so ``dump --all`` has
disassembly, CFI instructions and row tables proportional to the image size.
"""

from __future__ import annotations

from pathlib import Path

from vdsotool.abi.targets import TARGETS, Target

# One function is about 80 bytes of .text, 40 of .eh_frame and 8 of .eh_frame_hdr.
_FUNCTION = """\
bulk_fn_{n}:
\t.cfi_startproc
\tmflr\tr0
\t{store}\tr0,{lr_slot}(r1)
\t.cfi_offset lr,{lr_slot}
\t{push}\tr1,-{frame}(r1)
\t.cfi_def_cfa_offset {frame}
\tli\tr3,{n_low}
\taddi\tr3,r3,1
\tori\tr3,r3,{n_low}
\tnop
\taddi\tr1,r1,{frame}
\t.cfi_def_cfa_offset 0
\t{load}\tr0,{lr_slot}(r1)
\tmtlr\tr0
\t.cfi_restore lr
\tblr
\t.cfi_endproc
"""


def bulk_source(target: Target, functions: int) -> str:
    """Assembly text with ``functions`` CFI-described functions for ``target``."""
    wide = target.bits == 64
    store, load, push = ("std", "ld", "stdu") if wide else ("stw", "lwz", "stwu")
    lr_slot, frame = (16, 112) if wide else (4, 32)
    body = "".join(_FUNCTION.format(n=n, n_low=n & 0x7FFF, store=store, load=load, push=push,
                                    lr_slot=lr_slot, frame=frame)
                   for n in range(functions))
    return "\t.text\n" + body


def link_bulk(target: Target, functions: int, root: Path) -> bytes:
    """The shipped sources of ``target`` plus ``functions`` generated ones, linked."""
    from vdsotool.assemble.includes import asm_includes
    from vdsotool.assemble import assemble, assemble_file
    from vdsotool.link.driver import link
    from vdsotool.link.script import read_script
    from vdsotool.pipeline import image_sources

    includes = asm_includes(target)
    options = dict(include_dirs=[root / "asm"], virtual_includes=includes)
    objects = [assemble_file(str(p), target, **options) for p in image_sources(root, target)]
    objects.append(assemble(bulk_source(target, functions), "bulk.S", target, **options))
    return link(objects, read_script(str(root / "linker_scripts" / target.linker_script)), target)


def build_bulk_image(directory: Path, size: int = 40 * 1024, target: Target = TARGETS["ppc64"],
                     root: Path | None = None) -> Path:
    """Write ``directory/bulk-<target>.so``, an image of at least ``size`` bytes; its path."""
    root = root or Path(__file__).resolve().parent.parent
    probe = 64
    base = len(link_bulk(target, 0, root))
    per_function = (len(link_bulk(target, probe, root)) - base) / probe
    functions = max(probe, int((size - base) / per_function) + 1)
    image = link_bulk(target, functions, root)
    while len(image) < size:  # the estimate ignores alignment: top up until big enough
        functions += 8
        image = link_bulk(target, functions, root)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bulk-{target.name}.so"
    path.write_bytes(image)
    return path
