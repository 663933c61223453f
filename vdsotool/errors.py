"""Diagnostics: every user-facing failure carries a location and renders like a compiler's.

Stages never print. They raise :class:`VdsoError` carrying one or more :class:`Diagnostic`
values (collected, not only the first, wherever the user benefits from seeing them all);
only ``cli.py`` renders them, to stderr, as::

    asm/sigtramp.S:12:5: error: unknown mnemonic 'lii'
        lii r0,119
        ^

Locations come in three shapes: a source position (``file:line:col``), a linker-script line
(``script:line``) and a place in an image (``image+0x1f4``).
"""

from __future__ import annotations

from vdsotool.util.records import field, record


@record(frozen=True)
class SourceLoc:
    """A position in a text file. ``line`` and ``col`` are 1-based; ``col`` 0 means "whole
    line", ``line`` 0 "the whole file" (a file that cannot be read, say)."""

    path: str
    line: int
    col: int = 0
    text: str | None = None  # the source line, for the caret display

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.col}" if self.col else f"{self.path}:{self.line}"


@record(frozen=True)
class ImageLoc:
    """A place in a binary image: file name and byte offset."""

    path: str
    offset: int | None = None

    def __str__(self) -> str:
        return self.path if self.offset is None else f"{self.path}+{self.offset:#x}"


Location = SourceLoc | ImageLoc | None


@record(frozen=True)
class Diagnostic:
    message: str
    loc: Location = None
    severity: str = "error"  # "error" | "warning" | "note"

    def render(self) -> str:
        head = f"{self.loc}: " if self.loc is not None else "vdsotool: "
        out = f"{head}{self.severity}: {self.message}"
        if isinstance(self.loc, SourceLoc) and self.loc.text is not None:
            line = self.loc.text.rstrip("\n").expandtabs(1)
            out += f"\n    {line}"
            if self.loc.col:
                out += "\n    " + " " * (self.loc.col - 1) + "^"
        return out


@record
class VdsoError(Exception):
    """Bad input. Carries every diagnostic found; rendered by the CLI, exit status 1."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    @classmethod
    def at(cls, loc: Location, message: str) -> "VdsoError":
        return cls([Diagnostic(message, loc)])

    def __str__(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class DiagnosticSink:
    """Collects errors so a stage can report all of them at once, then raise."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, loc: Location, message: str) -> None:
        self.diagnostics.append(Diagnostic(message, loc))

    def extend(self, err: VdsoError) -> None:
        self.diagnostics.extend(err.diagnostics)

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def raise_if_failed(self) -> None:
        if self.failed:
            raise VdsoError(list(self.diagnostics))
