"""The assembler's bottom layer: source text -> located statements, operands and strings.

Nothing here knows about sections, symbols or instructions. :class:`AsmError` is the
error every layer above raises for bad input at the current statement (reported at its
line); :class:`Fatal` also stops the pass (a budget is exhausted).

Sources are read as UTF-8 with ``surrogateescape``: a byte that is not UTF-8 stays one
character and goes back to the same byte in a string (GNU as works on bytes); the text
shown under a diagnostic replaces it with U+FFFD.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from functools import lru_cache

from vdsotool.errors import Diagnostic, SourceLoc, VdsoError
from vdsotool.util.records import record

MAX_SOURCE_BYTES = 1 << 20  # a source or include file larger than this is refused


class AsmError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Fatal(AsmError):
    """An error after which the pass stops (a budget is exhausted)."""

    reported = False  # set once it is a diagnostic at the statement that raised it


@record
class Line:
    loc: SourceLoc
    text: str


def read_file(path: str) -> str:
    """The text of a regular file of at most :data:`MAX_SOURCE_BYTES`; OSError otherwise
    (a FIFO, a device or a directory is never opened for reading: it could block or never
    end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_SOURCE_BYTES:
        raise OSError(0, f"larger than {MAX_SOURCE_BYTES >> 20} MiB")
    return data.decode("utf-8", "surrogateescape")


def read_source(path) -> str:
    try:
        return read_file(os.fspath(path))
    except OSError as err:
        raise VdsoError([Diagnostic(f"cannot read source: {err.strerror}",
                                    SourceLoc(str(path), 0))]) from None


# One scan of a file's text, in GNU as's order of precedence: what starts at a position
# decides (a string or a character literal keeps '#' and '/*' inside it as text).
_COMMENT_SCAN = re.compile(r"""
      (?P<block>/\*[\s\S]*?(?:\*/|\Z))    # /* ... */, or to the end when unterminated
    | (?P<line>\#[^\n]*)                   # to the end of the line
    | "(?:\\[\s\S]|[^"\\\n])*["\n]?       # a string: ends at its quote or the line's end
    | '\\[\s\S]?|'[\s\S]                   # a character literal, escaped or not
    | [^"/\#']+ | [\s\S]                    # anything else
""", re.X)


def _without_comment(m: re.Match) -> str:
    if m.lastgroup == "line":
        return ""
    if m.lastgroup == "block":
        # "/*" becomes two blanks, the body blanks with its newlines kept, "*/" nothing
        body = m.group()[2:-2] if m.group().endswith("*/") and len(m.group()) >= 4 else m.group()[2:]
        return "  " + re.sub(r"[^\n]", " ", body)
    return m.group()


def strip_comments(text: str) -> str:
    """Remove ``/* */`` (possibly multi-line, keeping line count) and ``#`` comments."""
    return _COMMENT_SCAN.sub(_without_comment, text)


def split_statements(text: str) -> list[str]:
    """A line's ``;``-separated statements (not splitting inside strings or characters)."""
    if ";" not in text:
        return [text]
    parts, cur, in_str, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if in_str and c == "\\":
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == '"':
            in_str = not in_str
        if c == "'" and not in_str and i + 1 < len(text):
            n = 3 if text[i + 1] == "\\" else 2
            cur.append(text[i:i + n])
            i += n
            continue
        if c == ";" and not in_str:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def split_operands(text: str) -> list[str]:
    """The comma-separated operands of ``text`` (not splitting inside parentheses or
    strings), stripped; a fresh list each call."""
    return list(_split_operands(text))


@lru_cache(maxsize=4096)  # every pass splits the same operand texts again
def _split_operands(text: str) -> tuple[str, ...]:
    if '"' not in text and "(" not in text and ")" not in text:
        parts = tuple(part.strip() for part in text.split(","))  # every comma splits
        return () if parts == ("",) else parts
    return split_by_characters(text)


def split_by_characters(text: str) -> tuple[str, ...]:
    """The definition of operand splitting, character by character: commas split, except
    inside parentheses or a string (``_split_operands`` takes a shortcut without them)."""
    out, depth, cur, in_str = [], 0, [], False
    for c in text:
        if c == '"':
            in_str = not in_str
        if not in_str and c == "(":
            depth += 1
        if not in_str and c == ")":
            depth -= 1
        if c == "," and depth == 0 and not in_str:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    last = "".join(cur).strip()
    if last or out:
        out.append(last)
    return tuple(out)


_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "\\": 92, '"': 34, "'": 39}


def parse_string(text: str) -> bytes:
    """The bytes of a ``"..."`` operand with GNU's escapes (``\\x`` hex and ``\\ooo`` octal
    keep their low 8 bits, as GNU as does)."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise AsmError(f"expected a string, got '{printable(text)}'")
    out, i, body = bytearray(), 0, text[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt in ("x", "X"):
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            if not m:
                raise AsmError("bad \\x escape")
            out.append(int(m.group()[-2:], 16))
            i += 2 + m.end()
        elif nxt in "01234567" and nxt:
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(int(m.group(), 8) & 0xFF)
            i += 1 + m.end()
        else:
            raise AsmError(f"unknown escape '\\{printable(nxt)}'")
    return bytes(out)


def printable(text: str) -> str:
    """``text`` with the bytes that are not UTF-8 shown as U+FFFD (for messages)."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_LABEL = re.compile(r"\s*([A-Za-z_.$][A-Za-z0-9_.$]*|\d+)\s*:(?!=)")
_SET = re.compile(r"\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)(.*)")
_BLOCK_WORDS = (".macro", ".rept", ".irp", ".irpc", ".endif", ".else", ".endm", ".endr")


@lru_cache(maxsize=4096)  # asked again for the same statement by every pass and block scan
def head(text: str) -> tuple[str, str]:
    """The directive or mnemonic word of a statement (directives lower-cased) and the
    rest; a leading label is skipped for the block directives."""
    s = text.strip()
    m = _LABEL.match(s) if ":" in s else None
    if m and s[m.end():].strip():
        w = s[m.end():].strip().split(None, 1)
        if w[0].startswith(".if") or w[0] in _BLOCK_WORDS:
            return w[0].lower(), (w[1] if len(w) > 1 else "")
    parts = s.split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower() if parts[0].startswith(".") else parts[0], parts[1] if len(parts) > 1 else ""


@lru_cache(maxsize=4096)  # every pass meets the same statements again
def split_statement(text: str) -> tuple[tuple[str, ...], str, str, str]:
    """``(labels, kind, a, b)`` of one statement: the labels defined in front, then kind
    "empty"; "set" with ``a = b`` (name and expression); or "op" with a directive or
    mnemonic ``a`` and its operand text ``b``."""
    text, labels = text.strip(), []
    while ":" in text and (m := _LABEL.match(text)):  # (a label needs its colon)
        labels.append(m.group(1))
        text = text[m.end():].strip()
    if not text:
        return tuple(labels), "empty", "", ""
    m = _SET.match(text) if "=" in text else None
    if m and not text.startswith("."):
        return tuple(labels), "set", m.group(1), m.group(2)
    return (tuple(labels), "op", *head(text))


@lru_cache(maxsize=64)
def read_lines(text: str, path: str) -> tuple[Line, ...]:
    """The statements of a file's text, comments stripped, each with its location.
    Memoised: every pass re-runs every file and every source re-includes the same
    includes; the Lines are never mutated (macro expansion makes new ones)."""
    raw = text.split("\n")
    clean = strip_comments(text).split("\n")
    lines = []
    for n, (orig, c) in enumerate(zip(raw, clean), 1):
        shown = printable(orig)
        for stmt in split_statements(c):
            col = orig.find(stmt.strip()) + 1 if stmt.strip() else 0
            lines.append(Line(SourceLoc(path, n, max(col, 1), shown), stmt))
    return tuple(lines)


def block_end(lines: Sequence[Line], i: int, opens: tuple[str, ...], closes: tuple[str, ...]) -> int:
    """The index of the line closing the block opened at ``lines[i]``."""
    depth = 0
    for j in range(i + 1, len(lines)):
        w, _ = head(lines[j].text)
        if w in opens:
            depth += 1
        elif w in closes:
            if depth == 0:
                return j
            depth -= 1
    raise AsmError(f"missing {closes[0]}")
