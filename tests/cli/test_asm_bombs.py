"""Resource bombs against ``vdsotool asm``, each in a child process with a time and memory
bound (issue 13 items 8, 11-14): every one ends in a located error (or, where GNU as would
assemble it, success) well within the bounds, never a hang, a MemoryError, a traceback or
a signal. The limits themselves are stated in docs/assembler.md ("Limits")."""

from __future__ import annotations

import resource
import time

import pytest
from conftest import run_vdsotool

MEMORY = 768 << 20  # address space of the child: several times what a normal run needs
SECONDS = 60  # CPU and wall clock of the child; a case is expected to take a few

BOMBS = {
    "include-self-twice": ('.include "bomb.S"\n.include "bomb.S"\n', 1),
    "nested-rept": (".rept 100000\n.rept 100000\nnop\n.endr\n.endr\n", 1),
    "empty-rept": (".rept 0x7fffffffffffffff\n.endr\n", 1),
    "squaring": (".set x, 3\n.rept 40\n.set x, x*x\n.endr\n.quad x\n", 0),
    "org-1TiB": (".org 1<<40\n", 1),
    "org-8GiB": (".org 1<<33\n", 1),
    "space-rept": (".rept 3000\n.space 1<<20\n.endr\n", 1),
    "fill-rept": (".rept 100000\n.fill 1<<17,8,0\n.endr\n", 1),
    "fill-huge": (".fill 0x7fffffffffffffff, 8, 1\n", 1),
    "align-rept": (".rept 1000\n.byte 1\n.p2align 16\n.endr\n", 1),
    "macro-binary-recursion": (".macro m\nm\nm\n.endm\nm\n", 1),
    "irpc-long": (".irpc c, " + "a" * 300000 + "\n.byte 1\n.endr\n", 1),
    "deep-parentheses": (".long " + "(" * 100000 + "1" + ")" * 100000 + "\n", 1),
    "long-literal": (".long " + "9" * 100000 + "\n", 1),
    "long-sum": (".long " + "+".join(["1"] * 200000) + "\n", 0),
    "byte-line-64KB": (".byte " + ",".join(["1"] * 32768) + "\n", 0),
    "a-MB-of-nop": ("nop\n" * 250000, 1),
    "five-MB-file": ("nop\n" * 1300000, 1),
    "errors": ("bad r3\n" * 100000, 1),
}


def limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (SECONDS, SECONDS))


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_resource_bomb_is_bounded(name, tmp_path):
    text, status = BOMBS[name]
    (tmp_path / "bomb.S").write_text(text)
    start = time.monotonic()
    res = run_vdsotool(["asm", "bomb.S"], tmp_path, timeout=SECONDS, preexec_fn=limits)
    elapsed = time.monotonic() - start
    assert res.returncode == status, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    if status:
        assert res.stderr.startswith("bomb.S:"), res.stderr[:500]
        assert len(res.stderr.splitlines()) <= 3 * 201  # at most 200 errors and the stop
    assert len(res.stdout) < 4 << 20  # a listing linear in the input
    assert elapsed < SECONDS / 2, f"{name} took {elapsed:.1f} s"
