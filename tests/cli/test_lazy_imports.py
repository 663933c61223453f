"""`vdsotool build` stays light: lief, capstone and pyelftools (readers for dump, check tests
and the disassembler) are never imported on the build path, whichever way the command line is
parsed, and a cold build imports none of the modules the performance work took off its path.

Measured with ``python -X importtime``, which names every module the process imported; a
change that imports a heavy reader at module level anywhere on the build path fails here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import imported_modules, run_vdsotool

HEAVY = ("lief", "capstone", "elftools")


def build_imports(tmp_path, bits: str) -> set[str]:
    res = run_vdsotool(["build", "--bits", bits, "--out", tmp_path], tmp_path,
                       importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return imported_modules(res.stderr)


@pytest.mark.parametrize("bits", ["32", "64"])
def test_build_imports_neither_lief_nor_capstone(tmp_path, bits):
    names = build_imports(tmp_path, bits)
    assert "vdsotool.pipeline" in names, "importtime saw the build (sanity check)"
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, f"vdsotool build imported {heavy}"
    assert "typer" not in names, "a plain command line runs without typer"


# Modules a build does without (docs/performance.md): dataclasses and inspect (value classes
# are records), keystone's own Python module (its library is loaded through vdsotool's
# binding), tempfile (atomic writes), pathlib (plain string paths on the build path).
AVOIDED = ("dataclasses", "inspect", "keystone", "tempfile", "pathlib")


def avoided(name: str) -> bool:
    return any(name == a or name.startswith(a + ".") for a in AVOIDED)


def test_a_cold_build_imports_none_of_the_avoided_modules(tmp_path):
    start = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"],
                           capture_output=True, text=True, check=True)
    names = build_imports_cold(tmp_path)
    assert "vdsotool.assemble.keystone_lib" in names, "keystone was needed (sanity check)"
    already = imported_modules(start.stderr)  # a site-packages .pth may import some anywhere
    extra = sorted(n for n in names - already if avoided(n))
    assert not extra, f"a cold build imported {extra}"


def build_imports_cold(tmp_path) -> set[str]:
    res = run_vdsotool(["build", "--bits", "64", "--emit", "offsets", "--out", tmp_path / "out"],
                       tmp_path, importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return imported_modules(res.stderr)
