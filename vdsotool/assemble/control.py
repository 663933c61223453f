"""The statement interpreter of one pass: ``.macro``, ``.rept``/``.irp``/``.irpc``,
``.if*``, ``.include`` expanded as they are met; every other statement goes to its handler.

Budgets (GNU as has limits of the same kind): at most :data:`MAX_STATEMENTS` statements
run per pass, counting those of macros, repetitions and includes; macros, includes and
blocks nest at most :data:`MAX_DEPTH` deep (a file that includes itself stops there, long
before one that includes itself twice could double its work); the pass stops after
:data:`MAX_ERRORS` errors. Exceeding a budget stops the pass with an error at the statement.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from vdsotool.assemble import directives, instructions
from vdsotool.assemble.source import (AsmError, Fatal, Line, block_end, head, parse_string,
                                      printable, read_file, read_lines, split_operands,
                                      split_statement)
from vdsotool.assemble.state import Pass
from vdsotool.errors import Diagnostic
from vdsotool.util.records import record

MAX_STATEMENTS = 100_000
MAX_DEPTH = 50
MAX_ERRORS = 200  # then the pass stops: the first ones are what a reader needs
COMPARISONS = {".if": lambda v: v != 0, ".elseif": lambda v: v != 0, ".ifne": lambda v: v != 0,
               ".ifeq": lambda v: v == 0, ".ifgt": lambda v: v > 0, ".ifge": lambda v: v >= 0,
               ".iflt": lambda v: v < 0, ".ifle": lambda v: v <= 0}


@record
class Macro:
    params: list[tuple[str, str | None]]
    body: Sequence[Line]


class Interpreter:
    """Runs statements into a :class:`Pass`; macros are defined per pass, in order."""

    def __init__(self, p: Pass, include_dirs: list[str], virtual: dict[str, str]):
        self.p = p
        self.include_dirs = include_dirs
        self.virtual = virtual
        self.macros: dict[str, Macro] = {}
        self.statements = 0

    def run(self, lines: Sequence[Line], depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise Fatal(f"macros and includes nested more than {MAX_DEPTH} deep")
        i = 0
        while i < len(lines):
            line = lines[i]
            word, rest = head(line.text)
            try:
                self.statements += 1
                if self.statements > MAX_STATEMENTS:
                    raise Fatal(f"more than {MAX_STATEMENTS} statements in one pass "
                                "(with those of macros, .rept and .include)")
                if word == ".macro":
                    i = self.define_macro(lines, i)
                    continue
                if word in (".rept", ".irp", ".irpc"):
                    i = self.repeat(lines, i, depth)
                    continue
                if word.startswith(".if"):
                    i = self.conditional(lines, i, depth)
                    continue
                if word in (".else", ".elseif", ".endif", ".endm", ".endr"):
                    raise AsmError(f"'{word}' without a matching opening directive")
                if word == ".include":
                    self.include(line, rest, depth)
                elif word in self.macros:
                    self.call_macro(word, rest, depth)
                else:
                    self.statement(line)
            except Fatal as err:
                if not err.reported:  # at the innermost statement; the pass stops
                    self.p.errors.append(Diagnostic(printable(err.message), line.loc))
                    err.reported = True
                raise
            except AsmError as err:
                self.p.errors.append(Diagnostic(printable(err.message), line.loc))
                if len(self.p.errors) >= MAX_ERRORS:
                    raise Fatal(f"too many errors (stopped after {MAX_ERRORS})") from None
            i += 1

    def statement(self, line: Line) -> None:
        self.p.statement += 1
        labels, kind, word, rest = split_statement(line.text)
        for name in labels:
            self.p.define_label(name, line.loc)
        if kind == "set":
            self.p.set_symbol(word, rest)
        elif kind == "op" and word.startswith("."):
            directives.run(self.p, line, word, rest)
        elif kind == "op":
            data = instructions.encode(self.p, line, word.lower(), split_operands(rest))
            self.p.emit(data, line)

    # ---- macros
    def define_macro(self, lines: Sequence[Line], i: int) -> int:
        _, rest = head(lines[i].text)
        end = block_end(lines, i, (".macro",), (".endm",))
        parts = rest.replace(",", " ").split()
        if not parts:
            raise AsmError(".macro needs a name")
        params = []
        for part in parts[1:]:
            name, eq, default = part.partition("=")
            params.append((name, default if eq else None))
        body = lines[i + 1:end]
        if not params:  # nothing to substitute at a call: expand once, share the lines
            body = tuple(Line(l.loc, substitute(l.text, {})) if "\\()" in l.text else l for l in body)
        self.macros[parts[0]] = Macro(params, body)
        return end + 1

    def call_macro(self, name: str, rest: str, depth: int) -> None:
        macro = self.macros[name]
        args = split_operands(rest) if "," in rest else rest.split()
        if len(args) > len(macro.params):
            raise AsmError(f"too many arguments to macro '{name}'")
        values = {}
        for idx, (pname, default) in enumerate(macro.params):
            given = next((a[len(pname) + 1:] for a in reversed(args) if a.startswith(pname + "=")), None)
            if given is None and idx < len(args) and "=" not in args[idx]:
                given = args[idx]
            values[pname] = given if given not in (None, "") else (default or "")
        body = macro.body if not macro.params else \
            [Line(l.loc, substitute(l.text, values)) for l in macro.body]
        self.run(body, depth + 1)

    # ---- repetition and conditions
    def repeat(self, lines: Sequence[Line], i: int, depth: int) -> int:
        word, rest = head(lines[i].text)
        end = block_end(lines, i, (".rept", ".irp", ".irpc"), (".endr",))
        body = lines[i + 1:end]
        if word == ".rept":
            n = self.p.absolute(rest)
            if n < 0:
                raise AsmError(f"bad .rept count {n}")
            if self.statements + n * max(len(body), 1) > MAX_STATEMENTS:  # before expanding
                raise Fatal(f".rept {n} of {len(body)} statement(s) is more than {MAX_STATEMENTS}")
            for _ in range(n):
                self.run(body, depth + 1)
        else:
            parts = split_operands(rest)
            if not parts or not parts[0]:
                raise AsmError(f"{word} needs a parameter name")
            items = parts[1:] if word == ".irp" else list("".join(parts[1:]))
            for item in items:
                self.run([Line(l.loc, substitute(l.text, {parts[0]: item})) for l in body], depth + 1)
        return end + 1

    def conditional(self, lines: Sequence[Line], i: int, depth: int) -> int:
        """Find the branches of .if/.elseif/.else/.endif and run the first true one."""
        branches, start, cond_line, nest = [], i, lines[i], 0
        for j in range(i + 1, len(lines)):
            w, _ = head(lines[j].text)
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
        else:
            raise AsmError("missing .endif")
        for cline, body in branches:
            if self.condition_true(cline):
                self.run(body, depth + 1)
                break
        return j + 1

    def condition_true(self, line: Line) -> bool:
        word, rest = head(line.text)
        if word == ".else":
            return True
        if word in (".ifdef", ".ifndef"):
            return (rest.strip() in self.p.symbols) == (word == ".ifdef")
        if word in (".ifb", ".ifnb"):
            return (not rest.strip()) == (word == ".ifb")
        if word in (".ifc", ".ifnc"):
            a, _, b = rest.partition(",")
            return (a.strip() == b.strip()) == (word == ".ifc")
        if word not in COMPARISONS:
            raise AsmError(f"unknown conditional '{printable(word)}'")
        return COMPARISONS[word](self.p.absolute(rest))

    # ---- includes
    def include(self, line: Line, rest: str, depth: int) -> None:
        name = os.fsdecode(parse_string(rest))
        if "\0" in name:
            raise AsmError("include file name holds a NUL byte")
        for d in [os.path.dirname(line.loc.path), *self.include_dirs]:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                try:
                    text = read_file(path)
                except OSError as err:
                    raise AsmError(f"cannot read include file '{printable(path)}': {err.strerror}") from None
                if path not in self.p.obj.inputs:
                    self.p.obj.inputs.append(path)
                self.run(read_lines(text, path), depth + 1)
                return
        if name in self.virtual:
            self.run(read_lines(self.virtual[name], name), depth + 1)
            return
        raise AsmError(f"include file '{printable(name)}' not found")


def substitute(text: str, values: dict[str, str]) -> str:
    for pname in sorted(values, key=len, reverse=True):
        text = text.replace("\\" + pname, values[pname])
    return text.replace("\\()", "")
