"""The typer-free fast path (vdsotool/cli_build.py) behaves exactly like the typer command.

``vdsotool`` starts in vdsotool/__main__.py, which runs a plain ``build`` command line
without typer; ``VDSOTOOL_NO_FASTPATH=1`` sends every command line to typer. Both must give
the same files, the same stderr, the same stdout and the same exit status — for a good
build, a source error (exit 1 with ``file:line:col: error:`` and a caret) and usage errors
(exit 2, which only typer reports: the fast path must defer them). Each command runs in a
fresh process, from a copy of the sources.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import copy_sources, imported_modules, run_vdsotool
from conftest import output_files as files

from vdsotool import cli_build


def vdsotool(args: list[str], cwd: Path, fast: bool,
             importtime: bool = False) -> subprocess.CompletedProcess:
    return run_vdsotool(args, cwd, fast=fast, importtime=importtime)


def used_typer(res: subprocess.CompletedProcess) -> bool:
    return "typer" in imported_modules(res.stderr)


@pytest.fixture
def tree(tmp_path) -> Path:
    return copy_sources(tmp_path / "tree")


def both_paths(args: list[str], tmp_path: Path, tree: Path):
    """Run ``args`` through the fast path and through typer, each in its own working
    directory (so relative --out paths print the same), and return both results and
    their output directories."""
    results = {}
    for fast in (True, False):
        cwd = tmp_path / ("fast" if fast else "typer")
        cwd.mkdir()
        results[fast] = (vdsotool(args, cwd, fast), cwd)
    (f, fcwd), (t, tcwd) = results[True], results[False]
    return f, t, fcwd, tcwd


def assert_same(f, t, fcwd, tcwd) -> None:
    assert f.returncode == t.returncode
    assert f.stderr == t.stderr
    assert f.stdout == t.stdout
    assert files(fcwd / "out") == files(tcwd / "out")


# --- same results ------------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    ["--bits", "32"],
    ["--bits", "64", "--endian", "little", "--emit", "offsets,c"],
    ["--bits=64", "--emit=none", "-D", "LINUX_VERSION_CODE=0x20610", "--page-size", "65536"],
    ["--bits", "64", "--json"],
    ["--bits", "32", "--emit", "none", "--linux-version", "6.1.300", "-D", "LINUX_VERSION_CODE=1"],
], ids=["ppc32", "ppc64le-emit", "equals-forms-define", "json", "linux-version"])
def test_a_good_build_is_the_same_on_both_paths(extra, tmp_path, tree):
    f, t, fcwd, tcwd = both_paths(["build", *extra, "--src", tree, "--out", "out"], tmp_path, tree)
    assert f.returncode == 0, f.stderr
    assert_same(f, t, fcwd, tcwd)
    assert (fcwd / "out").is_dir() and any((fcwd / "out").iterdir())
    if "--json" in extra:
        assert '"target": "ppc64"' in f.stdout
    else:
        assert re.search(r"^  VDSO(32|64)L out/vdso", f.stderr, re.M)


def test_the_defaults_are_the_same_on_both_paths(tmp_path, tree):
    """No --out, --endian, --emit or --page-size: each path fills in its own defaults."""
    f, t, fcwd, tcwd = both_paths(["build", "--bits", "64", "--src", tree], tmp_path, tree)
    assert f.returncode == 0, f.stderr
    assert_same(f, t, fcwd, tcwd)
    assert {"vdso64.so", "vdso64-blob.c", "vdso64-offsets.h"} <= set(files(fcwd / "out"))


def test_a_source_error_is_the_same_on_both_paths(tmp_path, tree):
    source = tree / "asm" / "cacheflush.S"
    text = source.read_text()
    source.write_text(text.replace("\tli\tr5,LINE_SIZE-1", "\tlii\tr5,LINE_SIZE-1", 1))
    line = next(n for n, l in enumerate(source.read_text().splitlines(), 1) if "lii" in l)
    f, t, fcwd, tcwd = both_paths(["build", "--bits", "64", "--src", tree, "--out", "out"],
                                  tmp_path, tree)
    assert f.returncode == 1
    assert_same(f, t, fcwd, tcwd)
    assert re.search(rf"cacheflush\.S:{line}:\d+: error: .*lii", f.stderr), f.stderr
    assert re.search(r"^\s*\^", f.stderr, re.M), "a caret under the source line"
    assert "Traceback" not in f.stderr and not (fcwd / "out").exists()


@pytest.mark.parametrize("extra", [
    ["--bits", "65"],
    ["--bits", "32", "--endian", "little"],
    ["--bits", "64", "--endian", "middle"],
    ["--bits", "64", "-D", "X=zz"],
    ["--bits", "64", "-D", "X="],
    ["--bits", "64", "-D", "1bad=2"],
    ["--bits", "64", "--emit", "bogus"],
    ["--bits", "64", "--page-size", "300"],
    ["--bits", "64", "--page-size", "big"],
    ["--bits", "64", "--linux-version", "6.x"],
    ["--bits", "64", "--linux-version", "256.1"],
    ["--bits", "64", "--frobnicate"],
    ["--bits", "64", "stray"],
    ["--bits"],
    [],
], ids=lambda a: " ".join(a) or "no-bits")
def test_usage_errors_come_from_typer_on_both_paths(extra, tmp_path, tree):
    f, t, fcwd, tcwd = both_paths(["build", *extra, "--src", tree, "--out", "out"], tmp_path, tree)
    assert f.returncode == 2, f.stderr
    assert_same(f, t, fcwd, tcwd)
    assert "Usage: " in f.stderr and "Traceback" not in f.stderr
    assert not (fcwd / "out").exists()


def test_build_help_works_and_tells_the_truth(tmp_path, tree):
    f, t, fcwd, tcwd = both_paths(["build", "--help"], tmp_path, tree)
    assert f.returncode == 0
    assert_same(f, t, fcwd, tcwd)
    for option in ("--bits", "--endian", "--out", "--src", "-D", "--emit", "--page-size",
                   "--json"):
        assert option in f.stdout, option


def test_an_empty_src_means_what_typer_makes_of_it(tmp_path, tree):
    """typer reads ``--src ''`` as the path '.', not as "no --src": the fast path defers."""
    f, t, fcwd, tcwd = both_paths(["build", "--bits", "64", "--src=", "--out", "out"],
                                  tmp_path, tree)
    assert f.returncode == t.returncode == 1
    assert_same(f, t, fcwd, tcwd)


def test_a_summary_that_cannot_be_written_fails_the_same_on_both_paths(tmp_path, tree):
    """The fast path leaves with os._exit (no interpreter teardown, vdsotool/__main__.py):
    what is still buffered for stdout must be flushed first, and a flush that fails must
    fail the command (120, as CPython's own exit reports it), as it does on typer's path."""
    results = {}
    for fast in (True, False):
        cwd = tmp_path / ("fast" if fast else "typer")
        cwd.mkdir()
        with open("/dev/full", "w") as full:  # every write fails with ENOSPC
            results[fast] = run_vdsotool(
                ["build", "--bits", "64", "--json", "--src", tree, "--out", "out"], cwd,
                fast=fast, stdout=full, drop_env=("PYTHONUNBUFFERED",))  # buffered: flushed at exit
        assert files(cwd / "out"), "the build itself succeeded and wrote its outputs"
    assert results[True].returncode == results[False].returncode == 120
    assert "Traceback" not in results[True].stderr


# --- which path runs ---------------------------------------------------------------------------

@pytest.mark.parametrize("args,fast", [
    (["build", "--bits", "64", "--out", "out"], True),
    (["build", "--bits=32", "--out=out", "-D", "X=1", "--json"], True),
    (["build", "--bits", "64", "--out", "out", "--page-size", "262144"], False),  # typer's rule
    (["build", "--bits", "64", "--out", "out", "-DX=1"], False),  # attached short option
    (["build", "--bits", "64", "--bits", "64", "--out", "out"], False),  # repeated
    (["build", "--out", "out", "--bits", "64", "--", ], False),
], ids=["plain", "equals-forms", "odd-page-size", "attached-D", "repeated", "double-dash"])
def test_only_plain_build_lines_skip_typer(args, fast, tmp_path, tree):
    res = vdsotool([*args[:1], "--src", tree, *args[1:]], tmp_path, fast=True, importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert used_typer(res) != fast


def test_a_second_build_runs_again_and_rewrites_nothing(tmp_path, tree):
    """No hidden state decides whether a build runs (make does, from the depfile); outputs
    whose content is unchanged are not rewritten, so their mtimes stay."""
    args = ["build", "--bits", "64", "--src", tree, "--out", "out"]
    assert vdsotool(args, tmp_path, fast=False).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    for fast in (True, False):
        again = vdsotool(args, tmp_path, fast=fast)
        assert again.returncode == 0 and "VDSO64L" in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == before


# --- output names without pathlib --------------------------------------------------------------

@given(st.lists(st.sampled_from(["", ".", "..", "out", "a b", "x.y"]), max_size=6),
       st.sampled_from(["", "/", "//", "///"]), st.sampled_from(["", "/", "//"]))
@settings(max_examples=300, deadline=None)
def test_pure_path_spells_a_path_as_pathlib_does(parts, lead, trail):
    """The fast path names its outputs from --out/--src as typer's Path options do."""
    text = lead + "/".join(parts) + trail
    assert cli_build.pure_path(text) == str(PurePosixPath(text)), text


@pytest.mark.parametrize("out", ["./out", "out/", "out//sub/./", "sub/../out"])
def test_unnormalised_out_paths_print_the_same_on_both_paths(out, tmp_path, tree):
    """Progress lines and --json name the outputs: the same spelling on both paths."""
    f, t, fcwd, tcwd = both_paths(["build", "--bits", "32", "--emit", "offsets", "--json",
                                   "--src", tree, "--out", out], tmp_path, tree)
    assert f.returncode == 0, f.stderr
    assert f.stdout == t.stdout and f.stderr == t.stderr
    assert str(PurePosixPath(out) / "vdso32.so") in f.stdout
