"""Differential fuzzing of the assembler against GNU as (fixed seeds; ``--slow`` runs more).

* Expressions: random expressions over every operator GNU as has, with 64-bit edge values,
  each stored with ``.quad``. Where GNU as stores a value silently, vdsotool stores the same
  8 bytes; where GNU as warns (division by zero, shift count out of range, a bignum) or
  refuses, vdsotool reports an error at that line.
* Operand ranges: every instruction form vdsotool hands to keystone (``isa.KEYSTONE_FORMS``)
  and the forms it encodes itself, each operand at the edges of its field (one below, the
  lowest, the highest, one above; a DS displacement off its multiple) with the others
  valid. What vdsotool accepts GNU accepts, with the same bytes; the values inside the
  ranges are accepted (so the check is not vacuous).
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool

from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.assemble import assemble, isa
from vdsotool.errors import VdsoError

BINARY = ["*", "/", "%", "<<", ">>", "|", "^", "&", "!", "+", "-", "==", "!=", "<>", "<", ">",
          "<=", ">=", "&&", "||"]
UNARY = ["-", "~", "!", "+"]
EDGES = ["0", "1", "2", "3", "7", "31", "32", "63", "64", "65", "0x7fffffff", "0x80000000",
         "0xffffffff", "0x100000000", "0x7fffffffffffffff", "0x8000000000000000",
         "0xffffffffffffffff", "12345", "017", "0b101", "'a'"]  # (bignums: the case files)


def random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(EDGES)
    if rng.random() < 0.2:
        return rng.choice(UNARY) + random_expression(rng, depth - 1)
    text = f"{random_expression(rng, depth - 1)} {rng.choice(BINARY)} {random_expression(rng, depth - 1)}"
    return f"({text})" if rng.random() < 0.5 else text


def gnu_run(target, lines: list[str], tmp: Path) -> tuple[dict[int, str], bytes | None]:
    """GNU as on ``lines`` (one statement each): {1-based line: first message} for every
    line it warned about or refused, and the .text bytes when it made an object."""
    gas, objcopy = need_tool(target.gnu_tool("as")), need_tool(target.gnu_tool("objcopy"))
    src, obj, raw = tmp / "g.s", tmp / "g.o", tmp / "g.bin"
    src.write_text("\n".join(lines) + "\n")
    obj.unlink(missing_ok=True)
    proc = subprocess.run([gas, *target.gnu_as_flags, "-o", str(obj), str(src)],
                          capture_output=True, text=True)
    messages: dict[int, str] = {}
    for m in re.finditer(r"^.*?g\.s:(\d+): (.*)$", proc.stderr, re.M):
        n = int(m.group(1))  # an internal error is what counts about its line
        messages[n] = m.group(2) if "Internal error" in m.group(2) else messages.get(n, m.group(2))
    if proc.returncode != 0 or not obj.exists():
        return messages, None
    subprocess.run([objcopy, "-O", "binary", "--only-section=.text", str(obj), str(raw)], check=True)
    return messages, raw.read_bytes()


def gnu_verdicts(target, lines: list[str], tmp: Path) -> tuple[set[int], bytes]:
    """(lines GNU as diagnoses, .text of the others) — lines on which GNU as itself dies
    (2.40 traps on -2**63 / -1) are dropped from ``lines`` in place."""
    while True:
        messages, _ = gnu_run(target, lines, tmp)
        dying = [n for n, msg in messages.items() if "Internal error" in msg]
        if not dying:
            break
        del lines[dying[0] - 1]
    flagged = set(messages)
    clean = [line for n, line in enumerate(lines, 1) if n not in flagged]
    again, text = gnu_run(target, clean, tmp)
    assert not again and text is not None, again
    return flagged, text


def vdsotool_verdicts(target, lines: list[str]) -> tuple[set[int], bytes]:
    """(lines vdsotool refuses, .text of the lines it accepts); in chunks of fewer lines
    than the errors a pass reports before it stops."""
    refused, chunk = set(), 150
    for start in range(0, len(lines), chunk):
        try:
            assemble("\n".join(lines[start:start + chunk]) + "\n", "v.s", target)
        except VdsoError as err:
            refused |= {start + d.loc.line for d in err.diagnostics}
    clean = [line for n, line in enumerate(lines, 1) if n not in refused]
    return refused, bytes(assemble("\n".join(clean) + "\n", "v.s", target).sections[".text"].data)


@pytest.mark.parametrize("seed", [1, 2, *(pytest.param(n, marks=pytest.mark.slow)
                                          for n in range(3, 13))])
def test_expressions_are_gnu_as_arithmetic(seed, tmp_path):
    rng = random.Random(seed)
    lines = [f".quad {random_expression(rng, rng.randint(1, 4))}" for _ in range(500)]
    flagged, gnu_text = gnu_verdicts(PPC64, lines, tmp_path)
    refused, ours = vdsotool_verdicts(PPC64, lines)
    wrongly_accepted = sorted(flagged - refused)
    assert not wrongly_accepted, [lines[n - 1] for n in wrongly_accepted[:5]]
    assert refused == flagged, [lines[n - 1] for n in sorted(refused - flagged)[:5]]
    assert ours == gnu_text
    assert len(lines) - len(flagged) > 300, "most expressions are values (not vacuous)"


def edge_values(kind: str) -> tuple[list[int], list[int]]:
    """(values inside the kind's range, values just outside it)."""
    lo, hi, multiple = isa.OPERAND_KINDS[kind]
    inside = sorted({lo, hi, 0 if lo <= 0 <= hi else lo, (lo + hi) // 2 // multiple * multiple})
    outside = [lo - multiple, hi + multiple] + ([lo + 2] if multiple == 4 else [])
    return inside, outside


VALID = {"r": 3, "mem": "8(4)", "mem_ds": "8(4)"}


def operand_text(kind: str, value) -> str:
    if kind in isa.MEMORY_KINDS:
        return f"{value}(4)" if isinstance(value, int) else value
    return str(value)


def form_lines() -> tuple[list[str], set[str]]:
    """Every keystone form with each operand at its edges (the rest valid), and the lines
    whose values are all inside their ranges."""
    lines, inside_lines = [], set()
    for mnemonic, kinds in sorted(isa.KEYSTONE_FORMS.items()):
        valid = [operand_text(k, VALID.get(k, edge_values(isa.MEMORY_KINDS.get(k, k))[0][-1]))
                 for k in kinds]
        if not kinds:
            lines.append(mnemonic)
            inside_lines.add(mnemonic)
        for i, kind in enumerate(kinds):
            base_kind = isa.MEMORY_KINDS.get(kind, kind)
            inside, outside = edge_values(base_kind)
            for value in inside + outside:
                ops = list(valid)
                ops[i] = operand_text(kind, value)
                line = f"{mnemonic} {','.join(ops)}"
                lines.append(line)
                if value in inside:
                    inside_lines.add(line)
            if kind in isa.MEMORY_KINDS:
                for reg in (0, 3, 31, 32, -1):  # 3: the target register of the loads
                    ops = list(valid)
                    ops[i] = f"8({reg})"
                    lines.append(f"{mnemonic} {','.join(ops)}")
                    if 0 <= reg <= 31:
                        inside_lines.add(lines[-1])
    # forms vdsotool encodes itself: their register, CR-bit, BO and BH fields
    own = [("mftb {}", "r"), ("mftbu {}", "r"), ("crxor {},1,2", "n5"), ("crclr {}", "n5"),
           ("bc {},0,.+8", "n5"), ("bclr 20,0,{}", "bh"), ("bcctr {},0", "n5"),
           ("beqlr {}", "bh"), ("mtcrf 0x80,{}", "r")]
    for template, kind in own:
        inside, outside = edge_values(kind)
        for value in inside + outside:
            lines.append(template.format(value))
            if value in inside:
                inside_lines.add(lines[-1])
    return list(dict.fromkeys(lines)), inside_lines


@pytest.mark.parametrize("target", [PPC64, PPC32, PPC64LE], ids=["ppc64", "ppc32", "ppc64le"])
def test_operand_ranges_of_every_form_are_gnu_as_ranges(target, tmp_path):
    lines, inside = form_lines()
    flagged, gnu_text = gnu_verdicts(target, lines, tmp_path)
    refused, ours = vdsotool_verdicts(target, lines)
    accepted_only_by_us = sorted(flagged - refused)
    assert not accepted_only_by_us, [lines[n - 1] for n in accepted_only_by_us[:60]]
    # where both accept, the same bytes: GNU's text without the lines only GNU accepts
    both = [line for n, line in enumerate(lines, 1) if n not in refused]
    _, gnu_both = gnu_run(target, both, tmp_path)
    assert ours == gnu_both
    # in-range values are accepted wherever GNU accepts them
    refused_inside = [lines[n - 1] for n in sorted(refused - flagged) if lines[n - 1] in inside]
    assert not refused_inside, refused_inside[:10]
    assert len(lines) - len(refused) > 500


@pytest.mark.parametrize("defines", [{"LINUX_VERSION_CODE": -1}, {"X": -1},
                                     {"X": 0x7FFFFFFFFFFFFFFF, "Y": -0x8000000000000000}],
                         ids=["version-minus-one", "minus-one", "64-bit-edges"])
@pytest.mark.parametrize("target", [PPC32, PPC64], ids=["ppc32", "ppc64"])
def test_defines_at_the_64_bit_edges_build_gnus_image(target, defines, tmp_path):
    """-D values that are negative or at the 64-bit edges (issue 13 item 6: `-D X=-1`
    reached struct.pack in the ELF writer) give GNU's image and debug twin, symbol values
    stored as GNU as --defsym stores them."""
    from gnu import gnu_build

    from vdsotool.pipeline import build_outputs, debug_path, find_source_root, image_path

    gnu = gnu_build(target, tmp_path / "gnu", defines)
    ours = build_outputs(target, find_source_root(None), tmp_path, defines)
    assert ours[image_path(tmp_path, target)] == gnu.read_bytes()
    assert ours[debug_path(tmp_path, target)] == gnu.with_name(gnu.name + ".dbg").read_bytes()
