"""The ``NT_GNU_BUILD_ID`` note, computed from the image itself as GNU ld ``--build-id``.

The link places a zeroed note (header and descriptor) as the first input of the script's
``*(.note.*)`` output section, where GNU ld puts its ``.note.gnu.build-id``; once the debug
twin is written, the descriptor is the digest of that twin's bytes as GNU ld streams them
(found by experiment against ld on these sources, tests/oracle/test_build61.py):

1. the ELF header with ``e_phoff`` and ``e_shoff`` zero;
2. the program headers;
3. per section header, from the null one: the header with ``sh_offset`` zero, then the
   section's bytes (none for ``SHT_NOBITS`` and for the tables ld writes without an input
   section: ``.symtab``, ``.strtab``, ``.shstrtab``), the whole build-id note still zero.

Then the note is filled in, the same in the twin and the stripped image (objcopy keeps it).
"""

from __future__ import annotations

import hashlib

from vdsotool.elf import read
from vdsotool.elf.constants import NT_GNU_BUILD_ID, SHT_NOBITS
from vdsotool.elf.layout import ElfKind

SECTION = ".note.gnu.build-id"  # the input section GNU ld makes, as its scripts match it
NAME = b"GNU\0"
UNHASHED = (".symtab", ".strtab", ".shstrtab")


def note_size(algorithm: str) -> int:
    return 12 + len(NAME) + hashlib.new(algorithm).digest_size


def digest(dbg: bytes, algorithm: str) -> bytes:
    """The build id of the debug twin ``dbg`` (its build-id note zeroed)."""
    img = read(dbg, "<debug twin>")
    kind = img.kind
    h = hashlib.new(algorithm)
    h.update(kind.ehdr.pack_dict(kind.ehdr.unpack_dict(dbg) | {"e_phoff": 0, "e_shoff": 0}))
    h.update(dbg[img.e_phoff:img.e_phoff + img.e_phnum * img.e_phentsize])
    for sec in img.sections:
        h.update(kind.shdr.pack_dict(kind.shdr.unpack_dict(dbg, sec.at) | {"sh_offset": 0}))
        if sec.type != SHT_NOBITS and sec.name not in UNHASHED:
            h.update(dbg[sec.offset:sec.offset + sec.size])
    return h.digest()


def note(kind: ElfKind, desc: bytes) -> bytes:
    """The note: namesz, descsz, type (32-bit words in both classes), "GNU", the id."""
    return (kind.uint(len(NAME), 4) + kind.uint(len(desc), 4) + kind.uint(NT_GNU_BUILD_ID, 4)
            + NAME + desc)
