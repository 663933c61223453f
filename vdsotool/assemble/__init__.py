"""vdsotool's assembler front-end: GNU ``as`` (``-mpower4 -mregnames``) subset -> ObjectFile.

``assemble(text, path, target, ...)`` / ``assemble_file(path, target, ...)``; bad input raises
:class:`vdsotool.errors.VdsoError` carrying every diagnostic with its source location. The
object's ``inputs`` name every file read for it (for a make depfile).

Layers, each importing only those below it: ``source`` (lines, operands, strings, the error
type) < ``expr`` (values) < ``state`` (one pass's object) < ``directives``,
``cfi_directives``, ``instructions`` (statement handlers; ``isa`` and ``keystone_backend``
encode) < ``control`` (macros, repetition, conditions, includes) < ``assembler`` (passes).
``includes`` generates the ABI's include files; ``cli`` and ``listing`` are ``vdsotool asm``.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.assemble.source import read_source
from vdsotool.objfile import ObjectFile

__all__ = ["assemble", "assemble_file", "assemble_with_listing", "read_source"]


def assemble(text: str, path: str, target: Target, *, include_dirs=(),
             virtual_includes: dict[str, str] | None = None,
             defines: dict[str, int] | None = None) -> ObjectFile:
    return assemble_with_listing(text, path, target, include_dirs=include_dirs,
                                 virtual_includes=virtual_includes, defines=defines)[0]


def assemble_with_listing(text: str, path: str, target: Target, *, include_dirs=(),
                          virtual_includes=None, defines=None):
    """Like :func:`assemble`, also returning the listing rows (state.ListingRow)."""
    from vdsotool.assemble.assembler import assemble_text

    return assemble_text(text, str(path), target, include_dirs, virtual_includes, defines)


def assemble_file(path, target: Target, **kwargs) -> ObjectFile:
    """:func:`assemble` of the file ``path``; the object's ``inputs`` start with it."""
    obj = assemble(read_source(path), str(path), target, **kwargs)
    obj.inputs[:] = [str(path), *(p for p in obj.inputs if p != str(path))]
    return obj
