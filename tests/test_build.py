"""``vdsotool build`` argument handling and source-tree discovery (the end-to-end build
waits for the assembler; its differential lives in tests/gnu.py's ``build_image`` hook)."""

from __future__ import annotations

import pytest

from vdsotool.errors import VdsoError
from vdsotool.pipeline import find_source_root


def test_source_root_found_from_package_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = find_source_root()
    assert (root / "asm" / "images.toml").is_file()


def test_explicit_src_without_sources_is_a_diagnostic(tmp_path):
    with pytest.raises(VdsoError) as err:
        find_source_root(tmp_path)
    assert "no asm/images.toml and linker_scripts/ found" in str(err.value)


def test_cli_usage_errors(cli, tmp_path):
    res = cli("build", "--bits", "32", "--endian", "little")
    assert res.returncode == 2 and "ppc32 is big-endian only" in res.stderr
    res = cli("build", "--bits", "64", "-D", "X=zz")
    assert res.returncode == 2 and "'X=zz' is not NAME=INTEGER" in res.stderr


def test_cli_bad_src_no_traceback(cli, tmp_path):
    res = cli("build", "--bits", "64", "--src", tmp_path, "--out", tmp_path / "out")
    assert res.returncode == 1 and "use --src DIR" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()
