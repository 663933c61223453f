"""``vdsotool build --depfile``: a make rule naming every file the build read, and `make build`
running no vdsotool once nothing changed. GNU make itself reads the depfiles here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, copy_sources, run_vdsotool

MAKE = shutil.which("make")


def rule(depfile: Path) -> tuple[list[str], list[str]]:
    """(targets, prerequisites) of the depfile's first rule, unescaped."""
    text = depfile.read_text()
    first = text.split("\n\n", 1)[0].replace("\\\n", " ")
    targets, _, inputs = re.split(r"(?<!\\):", first, maxsplit=1)[0], None, \
        re.split(r"(?<!\\):", first, maxsplit=1)[1]
    def words(s: str) -> list[str]:
        return [w.replace("\\ ", " ").replace("\\#", "#").replace("$$", "$")
                for w in re.split(r"(?<!\\) +", s.strip()) if w]
    return words(targets), words(inputs)


def test_the_depfile_names_every_input_and_every_output(tmp_path):
    tree = copy_sources(tmp_path / "tree")
    res = run_vdsotool(["build", "--bits", "32", "--src", tree, "--out", "out",
                        "--depfile", "out/vdso32.d"], tmp_path)
    assert res.returncode == 0, res.stderr
    targets, inputs = rule(tmp_path / "out" / "vdso32.d")
    made = sorted(p for p in os.listdir(tmp_path / "out"))
    assert targets[0] == "out/vdso32.d" and sorted(os.path.basename(t) for t in targets) == made
    sources = tomllib.loads((tree / "asm" / "images.toml").read_text())["ppc32"]["sources"]
    expected = {tree / "asm" / "images.toml", tree / "linker_scripts" / "vdso32.lds"}
    for name in sources:
        expected.add(tree / "asm" / name)
        for included in re.findall(r'^\s*\.include\s+"([^"]+)"', (tree / "asm" / name).read_text(),
                                   re.M):
            if (tree / "asm" / included).is_file():  # (the generated ones are vdsotool's code)
                expected.add(tree / "asm" / included)
    assert expected <= {Path(p) for p in inputs}, expected - {Path(p) for p in inputs}
    assert all(os.path.isfile(p) for p in inputs), "every prerequisite is a file"
    own = {os.path.relpath(p, ROOT) for p in inputs if p.startswith(str(ROOT / "vdsotool"))}
    assert {"vdsotool/pipeline.py", "vdsotool/cli.py", "vdsotool/assemble/__init__.py"} <= own
    assert any(p.startswith("vdsotool/emit/templates/compiled/") for p in own)
    assert len(inputs) == len(set(inputs))


def test_make_reads_the_depfile_of_a_tree_with_awkward_names(tmp_path):
    """Spaces, '#' and '$' in paths are escaped as make wants them: make finds every
    prerequisite (up to date), and reruns once one is newer than the depfile."""
    tree = copy_sources(tmp_path / "a b#c$d")
    depfile, image = Path("out dir/vdso64.d"), Path("out dir/vdso64.so")  # as make names them
    res = run_vdsotool(["build", "--bits", "64", "--src", tree, "--out", "out dir",
                        "--emit", "none", "--depfile", depfile], tmp_path)
    assert res.returncode == 0, res.stderr
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"all: {make_word(image)}\n{make_word(image)}:\n\t@echo REBUILD\n"
                        f"include {make_word(depfile)}\n")

    def stale() -> bool:
        res = subprocess.run([MAKE, "-f", makefile], cwd=tmp_path, capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stderr
        return "REBUILD" in res.stdout

    assert not stale(), "every prerequisite found, none newer"
    old = os.stat(tree / "asm" / "note.S").st_mtime_ns - 10**9
    os.utime(tmp_path / image, ns=(old, old))
    assert stale(), "note.S is newer than the image"
    (tree / "asm" / "note.S").unlink()
    assert stale(), "a deleted input: rebuilt, not an error"


def make_word(path: Path) -> str:
    return str(path).replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def make(*args: str, out: Path) -> subprocess.CompletedProcess:
    """`make` in the checkout with OUT in a private directory; the venv and its bytecode
    taken as they are (-o: never remade here)."""
    return subprocess.run([MAKE, "-o", ".venv/.stamp", "-o", ".venv/.bytecode", f"OUT={out}",
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_make_build_with_nothing_changed_runs_no_vdsotool(tmp_path):
    out = tmp_path / "out"
    first = make("build", out=out)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("vdsotool build") == 3
    assert {"vdso32.so", "vdso64.so", "vdso64le.so", "vdso64-blob.c"} <= set(os.listdir(out))
    assert make("-q", "build", out=out).returncode == 0, "make finds nothing to do"
    again = make("build", out=out)
    assert again.returncode == 0 and "vdsotool" not in again.stdout + again.stderr
    # inputs newer than one image's depfile: only that image is built again, and its
    # outputs, the same bytes, keep their timestamps
    stamp = os.stat(out / "vdso64.so").st_mtime_ns
    os.utime(out / "vdso64.d", ns=(0, 0))
    third = make("build", out=out)
    assert third.returncode == 0 and third.stdout.count("vdsotool build") == 1
    assert "--bits 64 --out" in third.stdout and "--endian little" not in third.stdout
    assert os.stat(out / "vdso64.so").st_mtime_ns == stamp
    assert make("-q", "build", out=out).returncode == 0
