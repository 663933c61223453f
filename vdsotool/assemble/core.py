"""The two-pass assembler: source statements -> :class:`ObjectFile`.

Each pass interprets the statements in order (macros, repetition and conditionals expanded
as they are met); pass 1 only learns label offsets (unknown symbols count as 0), the final
pass encodes with every label known and raises all collected diagnostics. Passes repeat
until label offsets stop moving.

The label passes skip what cannot move a label: ``.cfi_*`` directives (no bytes, no
symbols: directives.py), the operands of an instruction keystone encodes and the target of
a branch (an instruction is 4 bytes whatever they are: instructions.py). Only the final pass
reads, checks and reports them.

A pass depends on the previous one only through the names it asks about before defining
them (forward references, answered from the previous pass's labels) and the names it tests
for being global (branches). Each pass records those names; when every one of them has the
same answer in this pass's results as in the previous pass's, the next pass would repeat
this one statement for statement, so it is not run: the final pass gets exactly the labels
and global names it would have got (a source whose forward references cannot move a label
needs two passes, not three).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from vdsotool.abi.targets import Target
from vdsotool.assemble.expr import ExprError, Value, parse_value
from vdsotool.errors import Diagnostic, SourceLoc, VdsoError
from vdsotool.objfile import FrameDescription, ObjectFile, Section, Symbol
from vdsotool.util.records import field, record

NOP = 0x60000000
MAX_PASSES = 5
MAX_EXPANSION = 100000
CR_BITS = {"lt": 0, "gt": 1, "eq": 2, "so": 3, "un": 3}
_LABEL = re.compile(r"\s*([A-Za-z_.$][A-Za-z0-9_.$]*|\d+)\s*:(?!=)")
_SET = re.compile(r"\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)(.*)")
_REG = re.compile(r"%?(r|f|v|cr)(\d+)$")


class Fail(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@record
class Line:
    loc: SourceLoc
    text: str


@record
class Macro:
    params: list[tuple[str, str | None]]
    body: Sequence[Line]


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
        return [text]  # most lines: nothing to split
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


def parse_string(text: str) -> bytes:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise Fail(f"expected a string, got '{text}'")
    out, i, body = bytearray(), 0, text[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in ("n", "t", "r", "b", "f", "\\", '"', "'"):
            out.append({"n": 10, "t": 9, "r": 13, "b": 8, "f": 12}.get(nxt, ord(nxt or "\\")))
            i += 2
        elif nxt == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            if not m:
                raise Fail("bad \\x escape")
            out.append(int(m.group(), 16) & 0xFF)
            i += 2 + m.end()
        elif nxt.isdigit():
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            if not m:
                raise Fail("bad octal escape")
            out.append(int(m.group(), 8) & 0xFF)
            i += 1 + m.end()
        else:
            raise Fail(f"unknown escape '\\{nxt}'")
    return bytes(out)


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
    return (tuple(labels), "op", *Assembler.head(text))


@lru_cache(maxsize=64)
def read_lines(text: str, path: str) -> tuple[Line, ...]:
    """The statements of a file's text, comments stripped, each with its location.

    Memoised: every pass re-runs every file and every source re-includes the same
    includes (this was a fifth of the assembler's time). The result is a tuple of Lines
    nobody mutates (macro expansion makes new Lines), so sharing it is safe."""
    raw = text.split("\n")
    clean = strip_comments(text).split("\n")
    lines = []
    for n, (orig, c) in enumerate(zip(raw, clean), 1):
        for stmt in split_statements(c):
            col = orig.find(stmt.strip()) + 1 if stmt.strip() else 0
            lines.append(Line(SourceLoc(path, n, max(col, 1), orig), stmt))
    return tuple(lines)


@record
class State:
    target: Target
    labels: dict[str, Value]  # from the previous pass
    final: bool
    obj: ObjectFile = None
    section: str = ".text"
    section_stack: list[tuple[str, str]] = field(default_factory=list)
    previous: str = ".text"
    symbols: dict[str, Value] = field(default_factory=dict)
    local_counts: dict[str, int] = field(default_factory=dict)
    frame: FrameDescription | None = None
    cfa_stack: list = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    abiversion: int | None = None
    listing: list[tuple[str, int, bytes, SourceLoc]] = field(default_factory=list)
    find: Callable[[str], Value | None] | None = None  # symbol lookup of this pass
    # names whose answer came from the previous pass (see the module docstring)
    asked_labels: set[str] = field(default_factory=set)
    asked_globals: set[str] = field(default_factory=set)


class Assembler:
    def __init__(self, target: Target, include_dirs, virtual_includes, defines):
        self.target = target
        self.include_dirs = [str(d) for d in include_dirs]
        self.virtual = dict(virtual_includes or {})
        self.defines = dict(defines or {})
        self.macros: dict[str, Macro] = {}
        self.expanded = 0
        # symbols declared global/weak in the previous pass: GNU as keeps branches to them
        # as relocations (the linker may bind them elsewhere), so do we
        self.global_names: set[str] = set()

    # ---- driver
    def assemble(self, text: str, path: str) -> ObjectFile:
        labels: dict[str, Value] = {}
        for _ in range(MAX_PASSES):
            st = self.run_pass(text, path, labels, final=False)
            new = {k: v for k, v in st.symbols.items()}
            globals_before = self.global_names
            self.global_names = {n for n, y in st.obj.symbols.items() if y.binding != "local"}
            if new == labels:
                break
            repeats = self.next_pass_repeats(st, labels, new, globals_before)
            labels = new
            if repeats:
                break
        st = self.run_pass(text, path, labels, final=True)
        if st.errors:
            raise VdsoError(st.errors)
        self.obj_listing = st.listing
        return st.obj

    def next_pass_repeats(self, st: State, labels: dict[str, Value], new: dict[str, Value],
                          globals_before: set[str]) -> bool:
        """Whether a pass given ``new`` and the current global names would see, for every
        name ``st``'s pass took from its inputs (``labels``, ``globals_before``), the same
        answer, and therefore repeat it."""
        return (all(labels.get(n) == new.get(n) for n in st.asked_labels)
                and all((n in globals_before) == (n in self.global_names) for n in st.asked_globals))

    def is_global(self, st: State, name: str) -> bool:
        """Whether the previous pass declared ``name`` global or weak (noted for the pass)."""
        st.asked_globals.add(name)
        return name in self.global_names

    def run_pass(self, text: str, path: str, labels, final: bool) -> State:
        self.macros = {}
        self.expanded = 0
        st = State(self.target, labels, final)
        st.find = self.lookup(st)
        st.obj = ObjectFile(path=path, target=self.target)
        for name, value in self.defines.items():
            st.symbols[name] = Value(int(value))
            # like GNU as --defsym: a local absolute symbol, first in the object's table
            st.obj.symbols[name] = Symbol(name, None, int(value))
        self.section_of(st, ".text")
        lines = read_lines(text, path)
        try:
            self.run(st, lines, depth=0)
        except Fail as f:  # fatal (e.g. runaway expansion)
            st.errors.append(Diagnostic(f.message, lines[-1].loc if lines else None))
        if st.frame is not None:
            st.errors.append(Diagnostic("unterminated .cfi_startproc at end of file", st.frame.loc))
        self.finish_symbols(st)
        return st

    # ---- statement interpreter (conditionals, macros, repetition)
    def run(self, st: State, lines: Sequence[Line], depth: int) -> None:
        if depth > 50:
            raise Fail("macro/include nesting too deep")
        i = 0
        while i < len(lines):
            line = lines[i]
            word, rest = self.head(line.text)
            try:
                if word in (".macro",):
                    i = self.define_macro(lines, i)
                    continue
                if word in (".rept", ".irp", ".irpc"):
                    i = self.repeat(st, lines, i, depth)
                    continue
                if word.startswith(".if"):
                    i = self.conditional(st, lines, i, depth)
                    continue
                if word in (".else", ".elseif", ".endif", ".endm", ".endr"):
                    raise Fail(f"'{word}' without a matching opening directive")
                if word == ".include":
                    self.include(st, line, rest, depth)
                elif word in self.macros:
                    self.call_macro(st, line, word, rest, depth)
                else:
                    self.statement(st, line)
            except Fail as f:
                st.errors.append(Diagnostic(f.message, line.loc))
            i += 1

    @staticmethod
    @lru_cache(maxsize=4096)  # asked again for the same statement by every pass and block scan
    def head(text: str) -> tuple[str, str]:
        """The directive or mnemonic word of a statement (directives lower-cased) and the
        rest; a leading label is skipped for the block directives."""
        s = text.strip()
        m = _LABEL.match(s) if ":" in s else None
        if m and s[m.end():].strip():
            s2 = s[m.end():].strip()
            w = s2.split(None, 1)
            if w and (w[0].startswith(".if") or w[0] in (".macro", ".rept", ".irp", ".endif", ".else", ".endm", ".endr")):
                return w[0].lower(), (w[1] if len(w) > 1 else "")
        parts = s.split(None, 1)
        if not parts:
            return "", ""
        return parts[0].lower() if parts[0].startswith(".") else parts[0], parts[1] if len(parts) > 1 else ""

    def block_end(self, lines, i, opens, closes) -> int:
        depth = 0
        for j in range(i + 1, len(lines)):
            w, _ = self.head(lines[j].text)
            if w in opens:
                depth += 1
            elif w in closes:
                if depth == 0:
                    return j
                depth -= 1
        raise Fail(f"missing {closes[0]}")

    def define_macro(self, lines, i) -> int:
        _, rest = self.head(lines[i].text)
        end = self.block_end(lines, i, (".macro",), (".endm",))
        parts = rest.replace(",", " ").split()
        if not parts:
            raise Fail(".macro needs a name")
        params = []
        for p in parts[1:]:
            name, _, default = p.partition("=")
            params.append((name, default if "=" in p else None))
        body = lines[i + 1:end]
        if not params:  # nothing to substitute at a call: expand once, share the lines
            body = tuple(Line(l.loc, self.substitute(l.text, {})) if "\\()" in l.text else l
                         for l in body)
        self.macros[parts[0]] = Macro(params, body)
        return end + 1

    def call_macro(self, st, line, name, rest, depth) -> None:
        macro = self.macros[name]
        args = split_operands(rest) if "," in rest else rest.split()
        values = {}
        for idx, (pname, default) in enumerate(macro.params):
            given = None
            for a in args:
                if a.startswith(pname + "="):
                    given = a[len(pname) + 1:]
            if given is None and idx < len(args) and "=" not in args[idx]:
                given = args[idx]
            values[pname] = given if given not in (None, "") else (default or "")
        if len(args) > len(macro.params):
            raise Fail(f"too many arguments to macro '{name}'")
        body = macro.body if not macro.params else \
            [Line(l.loc, self.substitute(l.text, values)) for l in macro.body]
        self.count(len(body))
        self.run(st, body, depth + 1)

    @staticmethod
    def substitute(text: str, values: dict[str, str]) -> str:
        for pname in sorted(values, key=len, reverse=True):
            text = text.replace("\\" + pname, values[pname])
        return text.replace("\\()", "")

    def count(self, n: int) -> None:
        self.expanded += n
        if self.expanded > MAX_EXPANSION:
            raise Fail("too many statements from macro/.rept expansion")

    def repeat(self, st, lines, i, depth) -> int:
        word, rest = self.head(lines[i].text)
        end = self.block_end(lines, i, (".rept", ".irp", ".irpc"), (".endr",))
        body = lines[i + 1:end]
        if word == ".rept":
            n = self.absolute(st, rest)
            if n < 0 or n * max(len(body), 1) > MAX_EXPANSION:
                raise Fail(f"bad .rept count {n}")
            for _ in range(n):
                self.count(len(body))
                self.run(st, body, depth + 1)
        else:
            parts = split_operands(rest)
            if not parts or not parts[0]:
                raise Fail(f"{word} needs a parameter name")
            name = parts[0]
            items = parts[1:] if word == ".irp" else list("".join(parts[1:]))
            for item in items:
                self.count(len(body))
                self.run(st, [Line(l.loc, self.substitute(l.text, {name: item})) for l in body], depth + 1)
        return end + 1

    def conditional(self, st, lines, i, depth) -> int:
        """Find the branches of .if/.elseif/.else/.endif and run the first true one."""
        branches, start, cond_line, nest = [], i, lines[i], 0
        j = i + 1
        while j < len(lines):
            w, _ = self.head(lines[j].text)
            if w.startswith(".if"):
                nest += 1
            elif w == ".endif":
                if nest == 0:
                    branches.append((cond_line, lines[start + 1:j]))
                    break
                nest -= 1
            elif w in (".else", ".elseif") and nest == 0:
                branches.append((cond_line, lines[start + 1:j]))
                start, cond_line = j, lines[j]
            j += 1
        else:
            raise Fail("missing .endif")
        for cline, body in branches:
            if self.condition_true(st, cline):
                self.run(st, body, depth + 1)
                break
        return j + 1

    def condition_true(self, st, line: Line) -> bool:
        word, rest = self.head(line.text)
        if word == ".else":
            return True
        if word in (".ifdef", ".ifndef"):
            name = rest.strip()
            known = name in st.symbols or name in self.defines
            return known if word == ".ifdef" else not known
        if word in (".ifb", ".ifnb"):
            return (not rest.strip()) == (word == ".ifb")
        if word in (".ifc", ".ifnc"):
            a, _, b = rest.partition(",")
            return (a.strip() == b.strip()) == (word == ".ifc")
        v = self.absolute(st, rest)
        tests = {".if": v != 0, ".elseif": v != 0, ".ifne": v != 0, ".ifeq": v == 0,
                 ".ifgt": v > 0, ".ifge": v >= 0, ".iflt": v < 0, ".ifle": v <= 0}
        if word not in tests:
            raise Fail(f"unknown conditional '{word}'")
        return tests[word]

    def include(self, st, line: Line, rest: str, depth: int) -> None:
        name = parse_string(rest).decode()
        base = os.path.dirname(line.loc.path)
        for d in [base, *self.include_dirs]:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                with open(p, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                if p not in st.obj.inputs:
                    st.obj.inputs.append(p)
                self.run(st, read_lines(text, p), depth + 1)
                return
        if name in self.virtual:
            self.run(st, read_lines(self.virtual[name], name), depth + 1)
            return
        raise Fail(f"include file '{name}' not found")

    # ---- one statement
    def statement(self, st: State, line: Line) -> None:
        labels, kind, word, rest = split_statement(line.text)
        for name in labels:
            self.define_label(st, name, line.loc)
        if kind == "empty":
            return
        if kind == "set":
            self.set_symbol(st, word, rest)
            return
        if word.startswith("."):
            directives.run(self, st, line, word, rest)
        else:
            self.instruction(st, line, word, rest)

    def define_label(self, st, name: str, loc: SourceLoc | None = None) -> None:
        if name.isdigit():
            n = st.local_counts.get(name, 0) + 1
            st.local_counts[name] = n
            name = f"{name}\x02{n}"
        elif name in st.symbols and st.symbols[name].section is not None and st.final and name in st.obj.symbols and st.obj.symbols[name].defined:
            raise Fail(f"symbol '{name}' is already defined")
        st.symbols[name] = Value(self.here(st), st.section)
        sym = st.obj.symbols.get(name) or Symbol(name, st.section, 0)
        sym.section, sym.value, sym.defined = st.section, self.here(st), True
        sym.loc = sym.loc or loc  # where it is defined, for the linker's diagnostics
        st.obj.symbols[name] = sym

    def set_symbol(self, st, name: str, expr: str) -> None:
        v = self.value(st, expr)
        if v.symbol is not None:
            raise Fail(f"cannot set '{name}' to an undefined symbol")
        st.symbols[name] = v
        sym = st.obj.symbols.get(name) or Symbol(name, None, 0)
        sym.section, sym.value, sym.defined = v.section, v.const, True
        st.obj.symbols[name] = sym

    def finish_symbols(self, st) -> None:
        for name in list(st.obj.symbols):
            if "\x02" in name:
                del st.obj.symbols[name]

    # ---- sections and output
    def section_of(self, st, name: str, flags: str | None = None, type_: str = "progbits") -> Section:
        if name not in st.obj.sections:
            default = {".text": "ax", ".data": "aw", ".bss": "aw", ".rodata": "a"}.get(name, "")
            st.obj.sections[name] = Section(name, flags if flags is not None else default,
                                            "nobits" if name == ".bss" else type_, 1)
        return st.obj.sections[name]

    def here(self, st) -> int:
        return st.obj.sections[st.section].size

    def emit(self, st, data: bytes, line: Line | None = None) -> None:
        sec = st.obj.sections[st.section]
        if line is not None:
            st.listing.append((st.section, sec.size, bytes(data), line.loc))
        sec.data += data

    def word(self, value: int, size: int) -> bytes:
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, self.target.byteorder)

    # ---- expressions
    def lookup(self, st):
        def find(name: str) -> Value | None:
            if name == ".":
                return Value(self.here(st), st.section)
            m = re.fullmatch(r"(\d+)([bf])", name)
            if m:
                return self.local_label(st, m.group(1), m.group(2))
            if name in st.symbols:
                return self.named(st.symbols[name], name)
            st.asked_labels.add(name)  # not defined yet: what follows depends on st.labels
            if name in st.labels and st.labels[name].section is not None:
                return self.named(st.labels[name], name)
            low = name.lower()
            if low in CR_BITS:
                return Value(CR_BITS[low])
            reg = _REG.match(low)
            if reg and low.startswith("cr") and int(reg.group(2)) < 8:
                return Value(int(reg.group(2)))
            if st.final and name in st.labels:
                return st.labels[name]
            return Value(0, None, name)

        return find

    @staticmethod
    def named(v: Value, name: str) -> Value:
        if v.section is None or v.symbol is not None:
            return v
        return Value(v.const, v.section, None, v.minus, name, v.const)

    def reloc_target(self, v: Value) -> tuple[str, int]:
        """(symbol, addend) for a relocatable value: GNU as relocates against a global
        symbol itself (the linker may bind it elsewhere), otherwise against the section."""
        if v.symbol is not None:
            return v.symbol, v.const
        if v.label in self.global_names:
            return v.label, v.const - v.label_offset
        return v.section, v.const

    def local_label(self, st, num: str, direction: str) -> Value | None:
        n = st.local_counts.get(num, 0)
        key = f"{num}\x02{n if direction == 'b' else n + 1}"
        if direction == "b":
            return st.symbols.get(key)
        st.asked_labels.add(key)
        v = st.labels.get(key)
        if v is None and not st.final:
            return Value(self.here(st), st.section)
        return v

    def value(self, st, text: str) -> Value:
        try:
            return parse_value(text, st.find)
        except ExprError as e:
            raise Fail(str(e)) from None
        except (RecursionError, OverflowError, ValueError, MemoryError):
            raise Fail(f"expression too complex: '{text.strip()[:40]}'") from None

    def absolute(self, st, text: str) -> int:
        v = self.value(st, text)
        if not v.absolute:
            if not st.final:
                return 0
            raise Fail(f"expression '{text.strip()}' is not an absolute value")
        return v.const

    # ---- instructions
    def instruction(self, st, line: Line, mnemonic: str, rest: str) -> None:
        data = instructions.encode(self, st, line, mnemonic.lower(), split_operands(rest))
        self.emit(st, data, line)


def assemble_text(text, path, target, include_dirs=(), virtual_includes=None, defines=None):
    asm = Assembler(target, include_dirs, virtual_includes, defines)
    obj = asm.assemble(text, path)
    return obj, asm.obj_listing


# The statement handlers import this module's Fail, Line and helpers, so they come last:
# every name they take from here exists by now, whichever of the modules is imported first.
from vdsotool.assemble import directives, instructions  # noqa: E402
