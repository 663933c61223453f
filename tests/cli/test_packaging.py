"""vdsotool as a kernel CI job gets it: ``python -m build`` makes an sdist and a wheel (the
wheel built from the sdist, as ``build`` does), the wheel installs into a fresh venv with
only its declared runtime dependencies, and the installed tool builds the shipped images in
an empty directory, equal byte for byte to the checkout's build; ``--src DIR`` still builds
another tree.

The sdist build and the fresh venv's dependencies come from pip's configured index (and its
cache), as ``make venv`` gets them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, copy_sources, output_files, run_vdsotool

pytestmark = pytest.mark.slow  # ~30 s: a build backend, a venv and its dependencies


def _run(cmd: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(dist directory, bin directory of a fresh venv with the wheel installed)."""
    base = tmp_path_factory.mktemp("packaging")
    dist, tree = base / "dist", base / "checkout"
    # a copy, so the sdist step's egg-info and build/ never touch the checkout in use
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv", "out", "build", "dist", "*.egg-info", "__pycache__", ".*cache"))
    _run([sys.executable, "-m", "build", "--outdir", dist, tree], cwd=base)
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=base)
    wheel = next(dist.glob("vdsotool-*.whl"))
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], cwd=base)
    return dist, venv / "bin"


def _installed_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("VDSOTOOL_", "PYTHON"))}


def test_sdist_carries_the_sources_and_the_wheel_a_derived_copy(installed):
    dist, _ = installed
    sources = sorted(p.relative_to(ROOT).as_posix() for part in ("asm", "linker_scripts")
                     for p in (ROOT / part).rglob("*") if p.is_file())
    with tarfile.open(next(dist.glob("vdsotool-*.tar.gz"))) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert set(sources) <= names
    with zipfile.ZipFile(next(dist.glob("vdsotool-*.whl"))) as wheel:
        shipped = {n.removeprefix("vdsotool/sources/"): wheel.read(n) for n in wheel.namelist()
                   if n.startswith("vdsotool/sources/")}
        metadata = next(wheel.read(n).decode() for n in wheel.namelist()
                        if n.endswith(".dist-info/METADATA"))
    assert shipped == {s: (ROOT / s).read_bytes() for s in sources}
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    runtime = {r.split(">")[0].split("=")[0].split(";")[0].strip() for r in requires
               if "extra ==" not in r}
    assert "lief" not in runtime and "pyelftools" not in runtime


def test_installed_tool_builds_the_checkouts_images_in_an_empty_directory(installed, tmp_path):
    _, bin_dir = installed
    env = _installed_env()
    empty = tmp_path / "empty"
    empty.mkdir()
    for bits, endian in ((32, "big"), (64, "big"), (64, "little")):
        _run([bin_dir / "vdsotool", "build", "--bits", bits, "--endian", endian, "--out", "o"],
             cwd=empty, env=env)
        res = run_vdsotool(["build", "--bits", bits, "--endian", endian, "--out", "o"],
                           cwd=tmp_path)  # the checkout's tool, from its tree
        assert res.returncode == 0, res.stderr
    ours, checkout = output_files(empty / "o"), output_files(tmp_path / "o")
    assert len(ours) == 3 * 7 and ours == checkout
    # the rest of the tool runs on its declared dependencies alone
    image = empty / "o" / "vdso64.so"
    for command in (["dump", "--all", image], ["check", image], ["cpus"],
                    ["verify", "--no-exec", image]):
        _run([bin_dir / "vdsotool", *command], cwd=empty, env=env)
    imports = _run([bin_dir / "python", "-c", "import importlib.util as u;"
                    "print(u.find_spec('lief'), u.find_spec('elftools'))"], cwd=empty, env=env)
    assert imports.stdout.split() == ["None", "None"]


def test_installed_tool_builds_another_tree_with_src(installed, tmp_path):
    _, bin_dir = installed
    env = _installed_env()
    tree = copy_sources(tmp_path / "tree")
    with open(tree / "asm" / "cacheflush.S", "a") as f:
        f.write("\t.text\n\tnop\n")  # a tree that differs from the shipped one
    _run([bin_dir / "vdsotool", "build", "--bits", "64", "--src", tree, "--out", "mine"],
         cwd=tmp_path, env=env)
    _run([bin_dir / "vdsotool", "build", "--bits", "64", "--out", "shipped"],
         cwd=tmp_path, env=env)
    res = run_vdsotool(["build", "--bits", "64", "--src", tree, "--out", "checkout"],
                       cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    mine = output_files(tmp_path / "mine")
    assert mine == output_files(tmp_path / "checkout")
    assert mine["vdso64.so"] != output_files(tmp_path / "shipped")["vdso64.so"]
