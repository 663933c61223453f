"""vdsotool's assembler front-end: GNU ``as`` (``-mpower4 -mregnames``) subset -> ObjectFile.

``assemble(text, path, target, ...)`` / ``assemble_file(path, target, ...)``; bad input raises
:class:`vdsotool.errors.VdsoError` carrying every diagnostic with its source location.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.errors import Diagnostic, SourceLoc, VdsoError
from vdsotool.objfile import ObjectFile


def assemble(text: str, path: str, target: Target, *, include_dirs=(),
             virtual_includes: dict[str, str] | None = None,
             defines: dict[str, int] | None = None) -> ObjectFile:
    return assemble_with_listing(text, path, target, include_dirs=include_dirs,
                                 virtual_includes=virtual_includes, defines=defines)[0]


def assemble_with_listing(text: str, path: str, target: Target, *, include_dirs=(),
                          virtual_includes=None, defines=None):
    """Like :func:`assemble`, also returning (section, offset, bytes, loc) per statement."""
    from vdsotool.assemble.core import assemble_text

    return assemble_text(text, str(path), target, include_dirs, virtual_includes, defines)


def assemble_file(path, target: Target, **kwargs) -> ObjectFile:
    """:func:`assemble` of the file ``path``; the object's ``inputs`` start with it."""
    obj = assemble(read_source(path), str(path), target, **kwargs)
    obj.inputs[:] = [str(path), *(p for p in obj.inputs if p != str(path))]
    return obj


def read_source(path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as err:
        raise VdsoError([Diagnostic(f"cannot read source: {err.strerror}", SourceLoc(str(path), 0))]) from None
