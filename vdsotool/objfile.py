"""The assembler's output and the linker's input: an object as plain values, no ELF bytes.

An :class:`ObjectFile` holds, per source file, its sections (bytes plus the relocations that
only the linker can resolve), its symbols, and its call-frame descriptions (one
:class:`FrameDescription` per ``.cfi_startproc`` … ``.cfi_endproc``, a program of typed CFA
instructions anchored at section offsets). The linker turns the frame descriptions into
``.eh_frame`` itself; the assembler never produces ``.eh_frame`` bytes.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.cfi.model import Instr
from vdsotool.errors import SourceLoc
from vdsotool.util.records import field, record


@record
class Relocation:
    """A value the assembler could not compute: ``symbol + addend`` stored at ``offset``.

    ``kind`` names how the value is stored, in the spirit of the ELF PowerPC relocation
    types: ``"addr32"``, ``"addr64"``, ``"addr16"``, ``"addr16_lo"``, ``"addr16_hi"``,
    ``"addr16_ha"``, ``"addr16_high"``, ``"addr16_higha"``, ``"rel32"``, ``"rel64"``,
    ``"rel16_lo"``, ``"rel16_hi"``, ``"rel16_ha"`` (the @l/@h/@ha of a PC-relative value),
    ``"rel24"`` (I-form branch), ``"rel14"`` (B-form branch).
    ``pcrel`` kinds subtract the address of the field.
    """

    offset: int
    kind: str
    symbol: str
    addend: int = 0
    loc: SourceLoc | None = None


@record
class Section:
    name: str
    flags: str = ""  # GNU flag letters: "a" alloc, "x" exec, "w" write
    type: str = "progbits"  # "progbits" | "note" | "nobits"
    align: int = 1
    data: bytearray = field(default_factory=bytearray)
    relocations: list[Relocation] = field(default_factory=list)
    loc: SourceLoc | None = None  # the directive that opened it, for the linker's diagnostics

    @property
    def size(self) -> int:
        return len(self.data)


@record
class Symbol:
    name: str
    section: str | None  # None: absolute (from .set / =)
    value: int
    size: int | None = None
    type: str = "notype"  # "notype" | "func" | "object" | "section" | "file"
    binding: str = "local"  # "local" | "global" | "weak"
    visibility: str = "default"  # "default" | "hidden" | "protected" | "internal"
    defined: bool = True
    loc: SourceLoc | None = None


@record
class FrameDescription:
    """One ``.cfi_startproc`` … ``.cfi_endproc`` region of a section."""

    section: str
    start: int  # section offset of .cfi_startproc
    end: int  # section offset of .cfi_endproc
    # (section offset at which it takes effect, instruction, its directive), in source order
    instructions: list[tuple[int, Instr, SourceLoc]] = field(default_factory=list)
    simple: bool = False  # ".cfi_startproc simple": no CIE initial instructions
    signal_frame: bool = False
    return_column: int | None = None  # None: the target's default (LR, 65)
    loc: SourceLoc | None = None


@record
class ObjectFile:
    path: str
    target: Target
    sections: dict[str, Section] = field(default_factory=dict)
    symbols: dict[str, Symbol] = field(default_factory=dict)
    frames: list[FrameDescription] = field(default_factory=list)
    # every file the assembler read for it, in order, once each: the source (when it was
    # read from a file) and each ``.include`` it opened (for a make depfile)
    inputs: list[str] = field(default_factory=list)
    abiversion: int = 0  # ``.abiversion N`` of a 64-bit source (ELFv1 1, ELFv2 2), else 0
