"""Reader for the subset of the GNU ld linker-script language a vDSO needs.

Accepted (everything else is refused with ``script:line: error: ...``):

* ``OUTPUT_FORMAT(...)``, ``OUTPUT_ARCH(...)``, ``ENTRY(sym)``;
* ``SECTIONS { ... }`` holding symbol assignments (``. = 0 + SIZEOF_HEADERS;``,
  ``_end = .;``), ``PROVIDE(sym = expr);`` and output sections
  ``name [ADDRESS] : { [KEEP(]*(pattern ...)[)] ... } [:phdr ...]`` including
  ``/DISCARD/``. Expressions are numbers, symbols, ``.``, ``SIZEOF_HEADERS``,
  ``ALIGN(e)``, parentheses, ``+`` and ``-``;
* ``PHDRS { name TYPE [FILEHDR] [PHDRS] [FLAGS(n)]; ... }`` with ``PT_*`` names or numbers
  such as ``0x6474e550`` (PT_GNU_EH_FRAME);
* ``VERSION { NODE { global: a; b; local: *; }; }``;
* top-level symbol assignments (the ``VDSO_*`` offsets aliases);
* ``/* comments */``.

As in GNU ld, ``-`` may continue a name (``.note.GNU-stack``): write ``a - b`` with spaces.

This module only reads: it produces a :class:`LinkerScript` value; layout is link/layout.
"""

from __future__ import annotations

import re

from vdsotool.elf.constants import PT_NAMES
from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.util.records import field, record

PHDR_TYPES = {"PT_" + name: value for value, name in PT_NAMES.items()}

Expr = tuple  # ("num", n) | ("sym", name) | ("dot",) | ("sizeof_headers",) |
#               ("align", e) | ("+", a, b) | ("-", a, b)


@record(frozen=True)
class InputPattern:
    file_pattern: str
    section_patterns: tuple[str, ...]
    keep: bool


@record(frozen=True)
class OutputSection:
    name: str
    address: Expr | None
    inputs: tuple[InputPattern, ...]
    phdrs: tuple[str, ...]
    loc: SourceLoc

    @property
    def discard(self) -> bool:
        return self.name == "/DISCARD/"


@record(frozen=True)
class Assignment:
    symbol: str  # "." for the location counter
    expr: Expr
    provide: bool
    loc: SourceLoc


@record(frozen=True)
class PhdrSpec:
    name: str
    type: int
    filehdr: bool
    phdrs: bool
    flags: int | None
    loc: SourceLoc


@record(frozen=True)
class VersionNode:
    name: str
    globals: tuple[str, ...]
    locals: tuple[str, ...]
    loc: SourceLoc


@record
class LinkerScript:
    path: str
    output_format: tuple[str, ...] = ()
    output_arch: str | None = None
    entry: str | None = None
    sections: list[OutputSection | Assignment] = field(default_factory=list)
    phdrs: list[PhdrSpec] = field(default_factory=list)
    versions: list[VersionNode] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)  # outside SECTIONS


# --- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<comment>/\*.*?\*/)
  | (?P<string>"[^"\n]*")
  | (?P<discard>/DISCARD/)
  | (?P<number>0[xX][0-9a-fA-F]+|[0-9]+[KM]?(?![A-Za-z_.]))
  | (?P<name>[A-Za-z0-9_.*?\[\]$][A-Za-z0-9_.*?\[\]$\-]*)
  | (?P<punct>[{}();:=+\-,])
""", re.VERBOSE | re.DOTALL)


@record(frozen=True)
class Token:
    kind: str
    text: str
    line: int


def tokenize(text: str, path: str) -> list[Token]:
    tokens, pos, line = [], 0, 1
    lines = text.splitlines()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            src = lines[line - 1] if line <= len(lines) else None
            what = "unterminated comment" if text.startswith("/*", pos) \
                else f"unexpected character '{text[pos]}'"
            raise VdsoError.at(SourceLoc(path, line, 0, src), what)
        kind = m.lastgroup
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    tokens.append(Token("eof", "", line))
    return tokens


# --- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.tokens = tokenize(text, path)
        self.i = 0

    # helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def loc(self, tok: Token | None = None) -> SourceLoc:
        line = (tok or self.peek()).line
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return SourceLoc(self.path, line, 0, src)

    def error(self, message: str, tok: Token | None = None) -> VdsoError:
        return VdsoError.at(self.loc(tok), message)

    def accept(self, text: str) -> bool:
        if self.peek().text == text and self.peek().kind != "string":
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.text != text:
            shown = tok.text or "end of file"
            raise self.error(f"expected '{text}', found '{shown}'")
        return self.next()

    def at_assignment(self) -> bool:
        """Is the name under the cursor the left side of '=' (or of a compound '+=')?"""
        after = self.peek(1).text
        return after == "=" or (after in ("+", "-") and self.peek(2).text == "=")

    def word(self, value: int, what: str, tok: Token) -> int:
        """``value`` when it fits a 32-bit ELF word (p_type, p_flags)."""
        if not 0 <= value < 1 << 32:
            raise self.error(f"{what} {value:#x} does not fit 32 bits", tok)
        return value

    def name(self, what: str) -> Token:
        tok = self.peek()
        if tok.kind not in ("name", "discard"):
            raise self.error(f"expected {what}, found '{tok.text or 'end of file'}'")
        return self.next()

    # top level
    def script(self) -> LinkerScript:
        out = LinkerScript(self.path)
        while self.peek().kind != "eof":
            tok = self.peek()
            if tok.text == "OUTPUT_FORMAT":
                out.output_format = tuple(self.paren_words())
            elif tok.text == "OUTPUT_ARCH":
                out.output_arch = "".join(self.paren_words(separator=False))
            elif tok.text == "ENTRY":
                self.next()
                self.expect("(")
                out.entry = self.name("entry symbol").text
                self.expect(")")
            elif tok.text == "SECTIONS":
                self.next()
                out.sections = self.sections_block()
            elif tok.text == "PHDRS":
                self.next()
                out.phdrs = self.phdrs_block()
            elif tok.text == "VERSION":
                self.next()
                out.versions = self.version_block()
            elif tok.text == "PROVIDE" or (tok.kind == "name" and self.at_assignment()):
                out.assignments.append(self.assignment())
            else:
                raise self.error(f"unsupported linker script command '{tok.text}'")
        return out

    def paren_words(self, separator: bool = True) -> list[str]:
        self.next()
        self.expect("(")
        words = []
        while not self.accept(")"):
            tok = self.next()
            if tok.kind == "eof":
                raise self.error("expected ')'", tok)
            if tok.text == "," and separator:
                continue
            words.append(tok.text.strip('"') if tok.kind == "string" else tok.text)
        return words

    # SECTIONS
    def sections_block(self) -> list[OutputSection | Assignment]:
        self.expect("{")
        items: list[OutputSection | Assignment] = []
        while not self.accept("}"):
            tok = self.peek()
            if tok.text == "PROVIDE" or (tok.kind == "name" and self.at_assignment()):
                items.append(self.assignment())
            elif tok.kind in ("name", "discard"):
                items.append(self.output_section())
            else:
                raise self.error(f"unexpected '{tok.text or 'end of file'}' in SECTIONS")
        return items

    def assignment(self) -> Assignment:
        start = self.peek()
        provide = self.accept("PROVIDE")
        if provide:
            self.expect("(")
        symbol = self.name("symbol").text
        if self.peek().text in ("+", "-") and self.peek(1).text == "=":
            raise self.error("compound assignment is not supported")
        self.expect("=")
        expr = self.expr()
        if provide:
            self.expect(")")
        self.expect(";")
        return Assignment(symbol, expr, provide, self.loc(start))

    def output_section(self) -> OutputSection:
        start = self.next()
        address = None if self.peek().text == ":" else self.expr()
        self.expect(":")
        self.expect("{")
        inputs = []
        while not self.accept("}"):
            inputs.append(self.input_pattern())
        phdrs = []
        while self.peek().text == ":" and self.peek(1).kind == "name":
            self.next()
            phdrs.append(self.next().text)
        return OutputSection(start.text, address, tuple(inputs), tuple(phdrs), self.loc(start))

    def input_pattern(self) -> InputPattern:
        keep = self.accept("KEEP")
        if keep:
            self.expect("(")
        file_pattern = self.name("input file pattern").text
        self.expect("(")
        patterns = []
        while not self.accept(")"):
            patterns.append(self.name("input section pattern").text)
        if keep:
            self.expect(")")
        self.accept(";")
        if not patterns:
            raise self.error("empty input section list")
        return InputPattern(file_pattern, tuple(patterns), keep)

    # expressions
    def expr(self) -> Expr:
        left = self.term()
        while self.peek().text in ("+", "-"):
            op = self.next().text
            left = (op, left, self.term())
        return left

    def term(self) -> Expr:
        tok = self.peek()
        if tok.kind == "number":
            self.next()
            return ("num", parse_number(tok.text))
        if self.accept("("):
            inner = self.expr()
            self.expect(")")
            return inner
        if tok.text == "ALIGN" and self.peek(1).text == "(":
            self.next()
            self.next()
            inner = self.expr()
            if self.peek().text == ",":
                raise self.error("two-argument ALIGN is not supported")
            self.expect(")")
            return ("align", inner)
        if tok.text == "SIZEOF_HEADERS":
            self.next()
            return ("sizeof_headers",)
        if tok.text == ".":
            self.next()
            return ("dot",)
        if tok.kind == "name" and self.peek(1).text == "(":
            raise self.error(f"unsupported function '{tok.text}' in expression")
        if tok.kind == "name" and re.fullmatch(r"[A-Za-z_.$][A-Za-z0-9_.$]*", tok.text):
            self.next()
            return ("sym", tok.text)
        raise self.error(f"expected an expression, found '{tok.text or 'end of file'}'")

    # PHDRS
    def phdrs_block(self) -> list[PhdrSpec]:
        self.expect("{")
        out = []
        while not self.accept("}"):
            start = self.peek()
            name = self.name("program header name").text
            type_tok = self.next()
            if type_tok.kind == "number":
                ptype = self.word(parse_number(type_tok.text), "program header type", type_tok)
            elif type_tok.text in PHDR_TYPES:
                ptype = PHDR_TYPES[type_tok.text]
            else:
                raise self.error(f"unknown program header type '{type_tok.text}'", type_tok)
            filehdr = phdrs = False
            flags = None
            while not self.accept(";"):
                word = self.next()
                if word.text == "FILEHDR":
                    filehdr = True
                elif word.text == "PHDRS":
                    phdrs = True
                elif word.text == "FLAGS":
                    self.expect("(")
                    try:
                        flags = self.word(evaluate(self.expr(), {}, 0, 0), "FLAGS", word)
                    except KeyError as missing:
                        raise self.error(f"undefined symbol {missing} in FLAGS", word) from None
                    self.expect(")")
                else:
                    raise self.error(f"unsupported program header attribute '{word.text}'", word)
            out.append(PhdrSpec(name, ptype, filehdr, phdrs, flags, self.loc(start)))
        return out

    # VERSION
    def version_block(self) -> list[VersionNode]:
        self.expect("{")
        nodes = []
        while not self.accept("}"):
            start = self.peek()
            name = self.name("version node name").text
            self.expect("{")
            scope, lists = "global", {"global": [], "local": []}
            while not self.accept("}"):
                tok = self.name("symbol or 'global:'/'local:'")
                if tok.text in ("global", "local") and self.accept(":"):
                    scope = tok.text
                    continue
                self.expect(";")
                lists[scope].append(tok.text)
            if self.peek().kind == "name":
                raise self.error("version node dependencies are not supported")
            self.expect(";")
            nodes.append(VersionNode(name, tuple(lists["global"]), tuple(lists["local"]),
                                     self.loc(start)))
        return nodes


def parse_number(text: str) -> int:
    if text[-1] in "KM":
        return int(text[:-1], 0) * (1024 if text[-1] == "K" else 1024 * 1024)
    return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)


def evaluate(expr: Expr, symbols: dict[str, int], dot: int, sizeof_headers: int) -> int:
    """Value of an expression; a symbol missing from ``symbols`` raises KeyError."""
    kind = expr[0]
    if kind == "num":
        return expr[1]
    if kind == "sym":
        return symbols[expr[1]]
    if kind == "dot":
        return dot
    if kind == "sizeof_headers":
        return sizeof_headers
    if kind == "align":
        align = evaluate(expr[1], symbols, dot, sizeof_headers)
        return (dot + align - 1) // align * align if align else dot
    a = evaluate(expr[1], symbols, dot, sizeof_headers)
    b = evaluate(expr[2], symbols, dot, sizeof_headers)
    return a + b if kind == "+" else a - b


def parse_script(text: str, path: str) -> LinkerScript:
    """Parse a linker script; raises VdsoError (``script:line``) on anything unsupported."""
    return _Parser(text, path).script()


def read_script(path: str) -> LinkerScript:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise VdsoError.at(SourceLoc(str(path), 0), f"cannot read linker script: {e.strerror}") \
            from None
    return parse_script(text, str(path))
