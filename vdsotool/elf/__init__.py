"""ELF, in one place: constants and their names (:mod:`vdsotool.elf.constants`), record
layouts per ELF class and byte order (:mod:`vdsotool.elf.layout`, :class:`ElfKind`)."""

from vdsotool.elf.layout import ElfKind, Layout

__all__ = ["ElfKind", "Layout"]
