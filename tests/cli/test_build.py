"""``vdsotool build`` argument handling and source-tree discovery (the end-to-end build
waits for the assembler; its differential lives in tests/gnu.py's ``build_image`` hook)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_vdsotool

from vdsotool.errors import VdsoError
from vdsotool.pipeline import find_source_root


def test_source_root_found_from_package_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = find_source_root()
    assert isinstance(root, str) and (Path(root) / "asm" / "images.toml").is_file()


def test_explicit_src_without_sources_is_a_diagnostic(tmp_path):
    with pytest.raises(VdsoError) as err:
        find_source_root(tmp_path)
    assert "no asm/images.toml and linker_scripts/ found" in str(err.value)


def test_cli_usage_errors(tmp_path):
    res = run_vdsotool(["build", "--bits", "32", "--endian", "little"])
    assert res.returncode == 2 and "ppc32 is big-endian only" in res.stderr
    for bad in ("X=zz", "X=", "1bad=2", "=3"):
        res = run_vdsotool(["build", "--bits", "64", "-D", bad])
        assert res.returncode == 2 and f"'{bad}' is not NAME or NAME=INTEGER" in res.stderr


def test_asm_and_build_read_defines_alike(tmp_path):
    """One -D rule for both commands (GNU as --defsym's): NAME alone is 1, bad names and
    empty values are usage errors."""
    src = tmp_path / "d.S"
    src.write_text(".long X\n.long Y\n")
    res = run_vdsotool(["asm", src, "--bits", "32", "-D", "X", "-D", "Y=0x10"])
    assert res.returncode == 0, res.stderr
    assert "00 00 00 01" in res.stdout and "00 00 00 10" in res.stdout
    for bad in ("X=", "1bad=2"):
        res = run_vdsotool(["asm", src, "--bits", "32", "-D", bad])
        assert res.returncode == 2 and f"'{bad}' is not NAME or NAME=INTEGER" in res.stderr


def test_cli_bad_src_no_traceback(tmp_path):
    res = run_vdsotool(["build", "--bits", "64", "--src", tmp_path, "--out", tmp_path / "out"])
    assert res.returncode == 1 and "use --src DIR" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()
