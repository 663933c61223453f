"""The assembler's speed-ups change no result: each is checked against the plain path it
short-cuts (docs/performance.md).

* Expressions are parsed once into a folded tree (vdsotool/assemble/expr.py
  ``parse_value``); evaluating the tree must give what the direct recursive-descent
  ``Parser`` gives -- the same value or the same first error -- for any token soup and any
  symbol table, including symbols that are undefined, section-relative or absent.
* Each file's statements are split once per process (source.py ``read_lines``): the same text
  under two paths keeps each path in its locations, and a source assembled again gives the
  same object and the same diagnostics.
* A pass that took nothing from the previous pass that has since changed is not repeated
  (assembler.py ``next_pass_repeats``): assembling with that shortcut must give the same object,
  listing and diagnostics as running every pass until the labels stop moving, for
  programs full of forward references, globals, late ``.set``s and label-dependent sizes.
* Comments are stripped by one regular-expression scan, and operands without parentheses or
  strings are split with ``str.split``: both must agree with the character-by-character
  definitions below (strings and character literals protect '#'
  and '/*', block comments keep their newlines) on any text made of the tricky characters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdsotool.abi.targets import TARGETS
from vdsotool.pipeline import find_source_root, image_sources
from vdsotool.assemble.includes import asm_includes
from vdsotool.assemble import assemble, assemble_with_listing
from vdsotool.assemble.assembler import Assembler
from vdsotool.assemble.source import (read_lines, split_by_characters, split_operands,
                                      strip_comments)
from vdsotool.assemble.expr import ExprError, Parser, Value, compile_expr, parse_value
from vdsotool.errors import VdsoError

TOKENS = ["1", "0", "7", "010", "08", "0x1f", "0b101", "'a'", "'\\n'", "'\\q'", "1b", "2f",
          "a", "b", "text_lbl", "data_lbl", "undef", ".", "+", "-", "*", "/", "%", "<<", ">>",
          "&", "|", "^", "~", "!", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "(", ")",
          "(", ")", " ", "@", "$"]

SYMBOLS = {
    "a": Value(5), "b": Value(0), ".": Value(12, ".text"),
    "text_lbl": Value(40, ".text", label="text_lbl", label_offset=40),
    "data_lbl": Value(8, ".data", label="data_lbl", label_offset=8),
    "undef": Value(0, None, "undef"),
    "1b": Value(4, ".text"),
}


def lookup(name: str) -> Value | None:
    return SYMBOLS.get(name)  # "2f" and unknown names: None, as for an unknown local label


def outcome(fn):
    try:
        return fn()
    except ExprError as err:
        return ("error", str(err))
    except (RecursionError, OverflowError, ValueError, MemoryError) as err:
        return ("too complex", type(err).__name__)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_compiled_expressions_equal_direct_parsing(tokens):
    text = " ".join(tokens)
    assert outcome(lambda: parse_value(text, lookup)) == \
        outcome(lambda: Parser(text, lookup).parse())


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", Value(7)),
    ("(1 << 4) | 0x3", Value(19)),
    ("text_lbl - . + 4", Value(32)),
    ("1 / 0 + )", ("error", "division by zero")),  # evaluation error before the junk
    ("08 + 1", ("error", "bad number '08'")),
    ("2f", ("error", "undefined local label '2f'")),
    ("text_lbl - undef", ("error", "difference of symbols in different sections")),
    ("-text_lbl", ("error", "operator '-' needs an absolute value")),
])
def test_known_expression_results(text, expected):
    assert outcome(lambda: parse_value(text, lookup)) == expected


def test_constant_subexpressions_are_folded_and_errors_are_not():
    assert compile_expr("(1 + 2) * 0x10") == Value(48)
    assert compile_expr("a + 1") == ("binary", "+", ("sym", "a"), Value(1))
    # folding would raise here: kept as a node, so the error comes when it is evaluated
    assert compile_expr("1 / 0") == ("binary", "/", Value(1), Value(0))
    assert compile_expr("1 +") is None  # does not parse: evaluated directly


def test_long_chains_still_evaluate():
    """The tree of a+a+...+a is as deep as the chain; the parser loops instead."""
    text = " + ".join(["a"] * 3000)
    assert parse_value(text, lookup) == Value(5 * 3000)


def test_deep_nesting_is_still_too_complex():
    text = "(" * 5000 + "1" + ")" * 5000
    assert outcome(lambda: parse_value(text, lookup))[0] == "too complex"


def test_shared_lines_keep_their_path():
    text = "  nop\n\tli r3, 1 ; li r4, 2\n"
    one, two = read_lines(text, "one.S"), read_lines(text, "two.S")
    assert [(l.loc.path, l.loc.line, l.loc.col, l.text) for l in one] == \
        [("one.S", 1, 3, "  nop"), ("one.S", 2, 2, "\tli r3, 1 "), ("one.S", 2, 13, " li r4, 2"),
         ("one.S", 3, 1, "")]
    assert [l.loc.path for l in two] == ["two.S"] * 4


def test_assembling_again_gives_the_same_object_and_errors():
    target = TARGETS["ppc64"]
    good = ".macro M r\n addi \\r, \\r, 1 + 2\n.endm\n M r3\n1: b 1b\n .long 2f - 1b\n2:\n"
    assert assemble(good, "g.S", target) == assemble(good, "g.S", target)
    bad = " addi r3, r3, 1 / 0\n .long undef - 1b\n"
    errors = []
    for _ in range(2):
        with pytest.raises(VdsoError) as info:
            assemble(bad, "b.S", target)
        errors.append([d.render() for d in info.value.diagnostics])
    assert errors[0] == errors[1] and len(errors[0]) == 2


def strip_comments_by_characters(text: str) -> str:
    """The definition: one character at a time, in GNU as's order of precedence."""
    out, i, in_str, in_block = [], 0, False, False
    while i < len(text):
        c = text[i]
        if in_block:
            if text.startswith("*/", i):
                in_block, i = False, i + 2
                continue
            out.append("\n" if c == "\n" else " ")
        elif in_str:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif c in '"\n':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("/*", i):
            in_block, i = True, i + 2
            out.append("  ")
            continue
        elif c == "#":
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        elif c == "'" and i + 1 < len(text):
            n = 3 if text[i + 1] == "\\" else 2
            out.append(text[i:i + n])
            i += n
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


TRICKY = st.text(alphabet='"\'\\/*#;\n ax', max_size=40)


@settings(max_examples=2000, deadline=None)
@given(TRICKY)
def test_comment_stripping_follows_its_definition(text):
    assert strip_comments(text) == strip_comments_by_characters(text)


@pytest.mark.parametrize("text", [
    "", "/*/", "/**/", "a/*b\nc*/d", "/* open\n", '"#x" # c', "'#' # c", "'\\#", '"a\\\nb#"#c',
    "x /* a */ y # z\n w",
])
def test_comment_stripping_examples(text):
    assert strip_comments(text) == strip_comments_by_characters(text)



# statements whose sizes or encodings depend on labels defined later, on names declared
# global later, on .set values given later, or on conditions over labels
PASS_LINES = [
    "1: nop", "b 1f", "b 1b", "beq 2f", "2:", "bl ext", "bl glob", ".globl glob", "glob: nop",
    ".long fwd - .", "fwd: .long 0", ".set late, 8", ".space late", ".rept late / 4", ".endr",
    ".if fwd - glob > 8", ".if late", ".else", ".endif", ".org 0x40", "x = y + 1", "y = 3",
    ".align 4", "li r3, fwd@l", "lis r4, ext@ha", ".globl x", "b x", ".weak fwd", "nop",
    "addi r3, r3, late", ".quad glob", ".byte fwd - 1b", "bdnz 1f", ".section .data",
    ".previous", "blr",
]


def assemble_outcome(text: str, target, path: str = "p.S", **kwargs):
    try:
        obj, listing = assemble_with_listing(text, path, target, **kwargs)
        return obj, listing
    except VdsoError as err:
        return [d.render() for d in err.diagnostics]


def every_pass_outcome(monkeypatch, text: str, target, path: str = "p.S", **kwargs):
    with monkeypatch.context() as m:
        m.setattr(Assembler, "next_pass_repeats", lambda *args: False)
        return assemble_outcome(text, target, path, **kwargs)


@settings(max_examples=400, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PASS_LINES), max_size=24),
       st.sampled_from(["ppc32", "ppc64", "ppc64le"]))
def test_skipping_a_repeated_pass_changes_nothing(monkeypatch, lines, target):
    text = "\n".join(lines) + "\n"
    assert assemble_outcome(text, TARGETS[target]) == \
        every_pass_outcome(monkeypatch, text, TARGETS[target])


@pytest.mark.parametrize("target", ["ppc32", "ppc64", "ppc64le"])
def test_skipping_a_repeated_pass_on_the_vdso_sources(monkeypatch, target):
    t = TARGETS[target]
    root = Path(find_source_root(None))
    for path in map(Path, image_sources(root, t)):
        kwargs = {"include_dirs": [root / "asm"], "virtual_includes": asm_includes(t)}
        text = path.read_text()
        assert assemble_outcome(text, t, str(path), **kwargs) == \
            every_pass_outcome(monkeypatch, text, t, str(path), **kwargs)


def passes_of(text: str, monkeypatch) -> tuple[list[bool], object]:
    """(the ``final`` flag of each pass run, in order; the object) of assembling ``text``."""
    calls: list[bool] = []
    original = Assembler.run_pass

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("final", args[-1] if args else None))
        return original(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Assembler, "run_pass", counting)
        obj = assemble(text, "t.S", TARGETS["ppc64"])
    return calls, obj


def test_forward_references_still_take_another_pass(monkeypatch):
    # 1f unknown in pass 1, known in pass 2
    assert passes_of(".long 1f\nnop\n1: blr\n", monkeypatch)[0] == [False, False, True]
    # nothing asked before it was defined
    assert passes_of("1: nop\nb 1b\n", monkeypatch)[0] == [False, True]
    # x defined before use: nothing to ask
    assert passes_of(".globl x\nx = 5\n.long x\n.if x\nnop\n.endif\n", monkeypatch)[0] == \
        [False, True]


def test_branches_ask_nothing_in_the_label_passes(monkeypatch):
    """A branch is 4 bytes wherever it goes, so its target (a forward label, a global) is
    only read by the final pass: no extra pass, and the same encoding and relocations."""
    calls, fwd = passes_of("nop\nb 1f\nnop\n1: blr\n", monkeypatch)
    assert calls == [False, True]
    calls, glob = passes_of("b x\n.globl x\nx: blr\n", monkeypatch)
    assert calls == [False, True]
    assert fwd.sections[".text"].data[4:8] == (0x48000008).to_bytes(4, "big")  # b +8
    [rel] = glob.sections[".text"].relocations  # to a global: kept as a relocation
    assert (rel.offset, rel.kind, rel.symbol) == (0, "rel24", "x")


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=',()" a\t', max_size=16))
def test_operand_splitting_follows_its_definition(text):
    assert tuple(split_operands(text)) == split_by_characters(text)
