"""GNU ``as`` expressions: integer literals in every GNU form, GNU's operators, ``.``, labels.

A value is an integer plus optionally the section it is relative to (a label) or an
undefined symbol it depends on (kept for the linker as a relocation). The difference of two
labels of one section is absolute.

Arithmetic is GNU as's on a 64-bit host (``offsetT``, a signed 64-bit integer): every result
wraps to 64 bits; ``/`` and ``%`` truncate toward zero; ``<<`` and ``>>`` shift the unsigned
64-bit pattern; comparisons are signed and give -1 for true; ``&&`` and ``||`` give 1. The
precedence is GNU's, not C's (highest first): ``* / % << >>``; ``| ^ & !`` (binary ``!`` is
or-not, ``!!`` xor, blanks between them or not: GNU as removes them first); ``+ -``; the
comparisons; ``&&``; ``||``. Where GNU as only warns and goes on (division by zero, a shift
count outside 0..63, a literal wider than 64 bits), this is an error: never a value GNU
would not give.

Each pass of the assembler evaluates every operand again with that pass's labels, so an
expression's text is parsed once per process (:func:`compile_expr`, memoised) into a small
tree whose constant parts are already folded, and :func:`evaluate` walks it with the
pass's ``lookup``. The tree is made by the same grammar as direct evaluation
(:class:`Parser`, whose subclass builds nodes instead of values), and walking it visits
leaves and operators in the parser's order, so errors are the same. Texts that do not
parse are not compiled: :func:`parse_value` evaluates them directly, so their first error
is the one the parser meets.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vdsotool.assemble.source import AsmError
from vdsotool.util.records import record

MASK64 = (1 << 64) - 1


class ExprError(AsmError):
    pass


def s64(n: int) -> int:
    """``n`` wrapped to a signed 64-bit value, as GNU as's ``offsetT`` holds it."""
    n &= MASK64
    return n - (1 << 64) if n >> 63 else n


@record(frozen=True)
class Value:
    const: int
    section: str | None = None  # relative to the start of this section
    symbol: str | None = None  # plus the (unknown) address of this symbol
    minus: str | None = None  # minus the start of this section (a PC-relative difference)
    label: str | None = None  # the label a section-relative value came from (+ a constant)
    label_offset: int = 0  # that label's section offset

    @property
    def absolute(self) -> bool:
        return self.section is None and self.symbol is None and self.minus is None


_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+[bf]\b|[0-9][0-9A-Za-z_]*)|(?P<chr>'(?:\\.|[^\\])'?)"
    r"|(?P<name>[A-Za-z_.$][A-Za-z0-9_.$@]*)|(?P<op><<|>>|<=|>=|==|!=|<>|&&|\|\||[-+*/%&|^~!<>()]))"
)

# lowest precedence first (GNU as's operator ranks)
_BINARY = [("||",), ("&&",), ("==", "!=", "<>", "<", ">", "<=", ">="), ("+", "-"),
           ("|", "^", "&", "!"), ("*", "/", "%", "<<", ">>")]


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected '{text[pos:].strip()[:20]}' in expression")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class Parser:
    """Recursive descent; ``lookup(name)`` returns a Value or None (undefined symbol)."""

    def __init__(self, text: str, lookup):
        self.tokens = tokenize(text)
        self.pos = 0
        self.lookup = lookup

    def parse(self) -> Value:
        if not self.tokens:
            raise ExprError("missing expression")
        value = self.binary(0)
        if self.pos != len(self.tokens):
            raise ExprError(f"junk '{self.tokens[self.pos][1]}' after expression")
        return value

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def binary(self, level: int) -> Value:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _BINARY[level] and self.tokens[self.pos][0] == "op":
            op = self.tokens[self.pos][1]
            self.pos += 1
            if op == "!" and self.peek() == "!":  # GNU as: "!!" between operands is xor
                op, self.pos = "^", self.pos + 1
            left = self.make_binary(op, left, self.binary(level + 1))
        return left

    def unary(self) -> Value:
        tok = self.peek()
        if tok in ("-", "+", "~", "!") and self.tokens[self.pos][0] == "op":
            self.pos += 1
            return self.make_unary(tok, self.unary())
        return self.primary()

    # what the grammar's results are made of: values here, tree nodes in _Compiler
    def make_binary(self, op: str, a: Value, b: Value) -> Value:
        return combine(op, a, b)

    def make_unary(self, op: str, v: Value) -> Value:
        return apply_unary(op, v)

    def symbol(self, text: str) -> Value:
        v = self.lookup(text)
        if v is None:
            raise ExprError(f"bad operand '{text}'")
        return v

    def local_label(self, text: str) -> Value:
        v = self.lookup(text)  # numeric local label reference
        if v is None:
            raise ExprError(f"undefined local label '{text}'")
        return v

    def primary(self) -> Value:
        if self.pos >= len(self.tokens):
            raise ExprError("missing operand")
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if text == "(":
            v = self.binary(0)
            if self.peek() != ")":
                raise ExprError("missing ')'")
            self.pos += 1
            return v
        if kind == "num":
            return self.number(text)
        if kind == "chr":
            return Value(char_value(text))
        if kind == "name":
            return self.symbol(text)
        raise ExprError(f"unexpected '{text}'")

    def number(self, text: str) -> Value:
        if text[-1] in "bf" and text[:-1].isdigit():
            return self.local_label(text)
        return Value(parse_integer(text))


_INTEGER = re.compile(r"0[xX](?P<hex>[0-9a-fA-F]+)|0[bB](?P<bin>[01]+)|(?P<oct>0[0-7]*)"
                      r"|(?P<dec>[1-9][0-9]*)")
_BASES = (("hex", 16), ("bin", 2), ("oct", 8), ("dec", 10))


def parse_integer(text: str) -> int:
    """An integer literal in one of GNU's forms (``0x``, ``0b``, octal ``0...``, decimal;
    ASCII digits, no ``_``) as the signed 64-bit value GNU as holds; wider is an error."""
    m = _INTEGER.fullmatch(text)
    if m is None:
        raise ExprError(f"bad number '{text[:40]}'")
    digits, base = next((m[k], b) for k, b in _BASES if m[k] is not None)
    digits = digits.lstrip("0") or "0"
    if len(digits) > 64 or int(digits, base) > MASK64:  # (no 64-bit value has more digits)
        raise ExprError(f"number '{text[:40]}' does not fit in 64 bits")
    return s64(int(digits, base))


def define_value(text: str) -> int:
    """The value of ``-D NAME=VALUE``: an integer literal, optionally negative; ValueError
    for anything else (a usage error)."""
    try:
        n = parse_integer(text[1:] if text.startswith("-") else text)
    except ExprError as err:
        raise ValueError(err.message) from None
    return s64(-n) if text.startswith("-") else n


def apply_unary(op: str, v: Value) -> Value:
    if op == "+":
        return v
    if not v.absolute:
        raise ExprError(f"operator '{op}' needs an absolute value")
    if op == "-":
        return Value(s64(-v.const))
    return Value(s64(~v.const) if op == "~" else int(not v.const))


# ---- parse once, evaluate per pass
# A node is a Value (a constant, folded), ("sym", name), ("local", "1b"),
# ("unary", op, node) or ("binary", op, left, right).
Node = Value | tuple


class _Compiler(Parser):
    """The grammar of :class:`Parser` building nodes; constant operands are folded."""

    def __init__(self, text: str):
        super().__init__(text, lookup=None)

    def make_binary(self, op: str, a: Node, b: Node) -> Node:
        if isinstance(a, Value) and isinstance(b, Value):
            try:
                return combine(op, a, b)
            except ExprError:
                pass  # raised when evaluated, in the parser's order
        return ("binary", op, a, b)

    def make_unary(self, op: str, v: Node) -> Node:
        if isinstance(v, Value):
            try:
                return apply_unary(op, v)
            except ExprError:
                pass
        return ("unary", op, v)

    def symbol(self, text: str) -> Node:
        return ("sym", text)

    def local_label(self, text: str) -> Node:
        return ("local", text)


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> Node | None:
    """The tree of ``text``, or None when parsing it meets an error (see the module doc)."""
    try:
        return _Compiler(text).parse()
    except (ExprError, RecursionError, OverflowError, ValueError, MemoryError):
        return None


def evaluate(node: Node, lookup) -> Value:
    if isinstance(node, Value):
        return node
    kind = node[0]
    if kind == "binary":
        return combine(node[1], evaluate(node[2], lookup), evaluate(node[3], lookup))
    if kind == "unary":
        return apply_unary(node[1], evaluate(node[2], lookup))
    v = lookup(node[1])
    if v is None:
        raise ExprError(f"bad operand '{node[1]}'" if kind == "sym"
                        else f"undefined local label '{node[1]}'")
    return v


def parse_value(text: str, lookup) -> Value:
    """The value of expression ``text``; ``lookup(name)`` gives a symbol's Value or None."""
    node = compile_expr(text)
    if node is not None:
        try:
            return evaluate(node, lookup)
        except RecursionError:
            pass  # a long chain like a+b+c+...: the parser loops where the tree recurses
    return Parser(text, lookup).parse()  # on a text that does not parse: its first error


_ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "\\": 92, "'": 39, '"': 34, "0": 0}


def char_value(text: str) -> int:
    """The value of a character literal token: a quote, then one character or escape, the
    closing quote optional (so three quotes are 0x27, as in GNU as). A byte that is not
    UTF-8 is itself; another character its first UTF-8 byte, as GNU as reads bytes."""
    if text[1] == "\\":
        if text[2:3] not in _ESCAPES:
            raise ExprError(f"unknown escape in {text}")
        return _ESCAPES[text[2]]
    return text[1].encode("utf-8", "surrogateescape")[0]


def _quotient(x: int, y: int) -> int:
    """C's ``x / y`` on signed 64-bit values: truncated toward zero (-2**63 / -1 wraps)."""
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


_ARITHMETIC = {
    "*": lambda x, y: x * y, "/": _quotient, "%": lambda x, y: x - _quotient(x, y) * y,
    "<<": lambda x, y: (x & MASK64) << y, ">>": lambda x, y: (x & MASK64) >> y,
    "&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y,
    "!": lambda x, y: x | ~y,
    # GNU as: a true comparison is -1
    "==": lambda x, y: -(x == y), "!=": lambda x, y: -(x != y), "<>": lambda x, y: -(x != y),
    "<": lambda x, y: -(x < y), ">": lambda x, y: -(x > y), "<=": lambda x, y: -(x <= y),
    ">=": lambda x, y: -(x >= y), "&&": lambda x, y: int(bool(x and y)),
    "||": lambda x, y: int(bool(x or y)),
}


def combine(op: str, a: Value, b: Value) -> Value:
    if op == "+":
        if not a.absolute and not b.absolute:
            raise ExprError("cannot add two relocatable values")
        base = a if not a.absolute else b
        return Value(s64(a.const + b.const), base.section, base.symbol, base.minus, base.label,
                     base.label_offset)
    if op == "-":
        if b.absolute:
            return Value(s64(a.const - b.const), a.section, a.symbol, a.minus, a.label,
                         a.label_offset)
        if a.symbol is None and b.symbol is None and a.section == b.section:
            return Value(s64(a.const - b.const))
        if b.symbol is None and b.minus is None and a.minus is None and (a.symbol or a.section):
            # sym - label_in_other_section: only the linker knows it (stored PC-relative)
            return Value(s64(a.const - b.const), a.section, a.symbol, b.section, a.label,
                         a.label_offset)
        raise ExprError("difference of symbols in different sections")
    if not (a.absolute and b.absolute):
        raise ExprError(f"operator '{op}' needs absolute values")
    x, y = a.const, b.const
    if op in ("/", "%") and y == 0:
        raise ExprError("division by zero")
    if op in ("<<", ">>") and not 0 <= y <= 63:
        raise ExprError(f"shift count out of range ({y} is not between 0 and 63)")
    return Value(s64(_ARITHMETIC[op](x, y)))
