"""`vdsotool build` stays light: lief and capstone (readers for dump, check tests and the
disassembler) are never imported on the build path, whichever way the command line is parsed.

Measured with ``python -X importtime``, which names every module the process imported; a
change that imports a heavy reader at module level anywhere on the build path fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("lief", "capstone")


def imported_modules(args: list[str], env: dict[str, str]) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "vdsotool", *args],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "typer"])
@pytest.mark.parametrize("bits", ["32", "64"])
def test_build_imports_neither_lief_nor_capstone(tmp_path, fast_path, bits):
    env = dict(os.environ, VDSOTOOL_NO_CACHE="1",
               VDSOTOOL_NO_FASTPATH="" if fast_path else "1")
    names = imported_modules(["build", "--bits", bits, "--out", str(tmp_path)], env)
    assert "vdsotool.pipeline" in names, "importtime saw the build (sanity check)"
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, f"vdsotool build imported {heavy}"
    assert ("typer" in names) != fast_path, "the fast path runs without typer, the other with it"
