"""ELF, in one place: constants and their names (:mod:`vdsotool.elf.constants`), record
layouts per ELF class and byte order (:mod:`vdsotool.elf.layout`, :class:`ElfKind`), the
symbol hash functions (:mod:`vdsotool.elf.hashes`) and the one bounds-checked reader
(:mod:`vdsotool.elf.reader`: :func:`read`, :func:`load`)."""

from vdsotool.elf.layout import ElfKind, Layout
from vdsotool.elf.reader import ElfImage, load, read, read_file

__all__ = ["ElfImage", "ElfKind", "Layout", "load", "read", "read_file"]
