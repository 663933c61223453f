"""The two-pass assembler: source text -> :class:`ObjectFile` (and a listing).

Each pass interprets the statements in order (control.py: macros, repetition, conditionals
and includes expanded as they are met) into a fresh :class:`Pass` (state.py). The label
passes only learn label offsets (unknown symbols count as 0); the final pass encodes with
every label known and raises all collected diagnostics. Passes repeat until label offsets
stop moving.

The label passes skip what cannot move a label: ``.cfi_*`` directives (no bytes, no
symbols), the operands of an instruction keystone encodes and the target of a branch (an
instruction is 4 bytes whatever they are). Only the final pass reads, checks and reports
them.

A pass depends on the previous one only through the names it asks about before defining
them (forward references, answered from the previous pass's labels) and the names it tests
for being global (branches). Each pass records those names; when every one of them has the
same answer in this pass's results as in the previous pass's, the next pass would repeat
this one statement for statement, so it is not run (a source whose forward references
cannot move a label needs two passes, not three).
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.assemble.control import Interpreter
from vdsotool.assemble.expr import Value
from vdsotool.assemble.source import Fatal, read_lines
from vdsotool.assemble.state import ListingRow, Pass, new_pass
from vdsotool.errors import Diagnostic, VdsoError
from vdsotool.objfile import ObjectFile

MAX_PASSES = 5


class Assembler:
    def __init__(self, target: Target, include_dirs=(), virtual_includes=None, defines=None):
        self.target = target
        self.include_dirs = [str(d) for d in include_dirs]
        self.virtual = dict(virtual_includes or {})
        self.defines = dict(defines or {})
        # symbols declared global/weak in the previous pass: GNU as keeps branches to them
        # as relocations (the linker may bind them elsewhere), so do we
        self.global_names: set[str] = set()

    def assemble(self, text: str, path: str) -> tuple[ObjectFile, list[ListingRow]]:
        labels: dict[str, Value] = {}
        for _ in range(MAX_PASSES):
            p = self.run_pass(text, path, labels, final=False)
            if p.stopped:
                break  # the final pass stops there too, and reports it
            new = dict(p.symbols)
            globals_before = self.global_names
            self.global_names = {n for n, y in p.obj.symbols.items() if y.binding != "local"}
            if new == labels:
                break
            repeats = self.next_pass_repeats(p, labels, new, globals_before)
            labels = new
            if repeats:
                break
        p = self.run_pass(text, path, labels, final=True)
        if p.errors:
            raise VdsoError(p.errors)
        p.obj.abiversion = p.abiversion or 0
        return p.obj, p.listing

    def next_pass_repeats(self, p: Pass, labels: dict[str, Value], new: dict[str, Value],
                          globals_before: set[str]) -> bool:
        """Whether a pass given ``new`` and the current global names would see, for every
        name ``p`` took from its inputs (``labels``, ``globals_before``), the same answer,
        and therefore repeat it."""
        return (all(labels.get(n) == new.get(n) for n in p.asked_labels)
                and all((n in globals_before) == (n in self.global_names) for n in p.asked_globals))

    def run_pass(self, text: str, path: str, labels: dict[str, Value], final: bool) -> Pass:
        p = new_pass(self.target, labels, self.global_names, final, path, self.defines)
        try:
            Interpreter(p, self.include_dirs, self.virtual).run(read_lines(text, path))
        except Fatal:
            p.stopped = True  # reported at its statement; the pass ends there
        else:
            if p.frame is not None:
                p.errors.append(Diagnostic("unterminated .cfi_startproc at end of file", p.frame.loc))
        p.drop_local_labels()
        return p


def assemble_text(text: str, path: str, target: Target, include_dirs=(), virtual_includes=None,
                  defines=None) -> tuple[ObjectFile, list[ListingRow]]:
    return Assembler(target, include_dirs, virtual_includes, defines).assemble(text, path)
