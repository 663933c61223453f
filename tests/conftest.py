"""Shared test fixtures: the real oracles (GNU cross tools, qemu-user, elfutils), golden
files with a bless switch, and running the CLI.

Layout, by what a test needs: ``tests/unit/`` pure Python (no external tool),
``tests/oracle/`` checked against GNU as/ld, objdump/readelf, elfutils, qemu-user, libgcc
or a compiler, ``tests/cli/`` runs the command line. Shared data stays at the top:
``golden/``, ``data/``, ``asm_corpus/``; ``gnu.py`` builds the GNU reference images;
``debian_images.py`` fetches the Debian kernels' vDSO images (fixture ``debian_vdso``).

Oracles: a test that needs a tool asks for it with ``need_tool("powerpc64-linux-gnu-as")``.
Missing tools skip the test with the reason, except under ``CI=true`` where the run fails:
CI installs them (``scripts/install-test-deps.sh``), so a missing one is a broken setup.

Golden files live under ``tests/golden/``; ``BLESS=1`` (or ``make bless``) rewrites them
from the current output instead of comparing.

Property tests (hypothesis) are derandomized: every run draws the same examples, so a
failure reproduces and CI never passes or fails by chance; more examples come from each
test's own ``max_examples``, not from luck.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from debian_images import _debian_images, debian_vdso  # noqa: F401 - fixtures for every test

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile("vdsotool", derandomize=True, database=None)
settings.load_profile("vdsotool")
BLESS = os.environ.get("BLESS", "") not in ("", "0")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="run the slow suite (full-size fuzzing)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="full-size fuzzing: run with --slow (make test does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def need_tool(name: str) -> str:
    """Path of an oracle tool; skips (or fails under CI) when it is not installed."""
    path = shutil.which(name)
    if path:
        return path
    msg = f"{name} not installed (run scripts/install-test-deps.sh as root)"
    if IN_CI:
        pytest.fail(f"CI needs {msg}")
    pytest.skip(msg)


def check_golden(name: str, actual: str | bytes) -> None:
    """Compare with tests/golden/<name>; with BLESS=1, (re)write it instead."""
    path = GOLDEN / name
    binary = isinstance(actual, bytes)
    if BLESS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual) if binary else path.write_text(actual)
        return
    if not path.exists():
        pytest.fail(f"golden file {path.relative_to(ROOT)} missing: run with BLESS=1 to create it")
    expected = path.read_bytes() if binary else path.read_text()
    assert actual == expected, f"output differs from {path.relative_to(ROOT)} (BLESS=1 to update)"


@pytest.fixture(scope="session")
def gnu_images() -> dict[str, Path]:
    """Target name -> GNU's build of its shipped image (tests/gnu.py, once per process)."""
    from gnu import built_image

    from vdsotool.abi.targets import TARGETS

    return {name: built_image("gnu", name) for name in TARGETS}


def compile_header(compiler: str, directory: Path, name: str,
                   text: str) -> subprocess.CompletedProcess:
    """Compile a C file that includes ``text`` as ``directory/name`` (strict C11, warnings
    as errors): how the tests check a generated header's static asserts with each compiler."""
    (directory / name).write_text(text)
    src = directory / "t.c"
    src.write_text(f'#include "{name}"\nint main(void) {{ return 0; }}\n')
    return subprocess.run([compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-c", "-I",
                           str(directory), "-o", str(directory / "t.o"), str(src)],
                          capture_output=True, text=True)


def copy_sources(dest: Path) -> Path:
    """A private copy of the vDSO sources (``asm/``, ``linker_scripts/``) at ``dest``, for
    tests that edit them or build from another directory; returns ``dest``."""
    for part in ("asm", "linker_scripts"):
        shutil.copytree(ROOT / part, dest / part)
    return dest


def vdsotool_command() -> list[str]:
    """The command a user runs: the installed console script (``vdsotool/__main__.py``),
    else ``python -m vdsotool``. For runs :func:`run_vdsotool` cannot make (a process to
    signal part way)."""
    script = Path(sys.executable).parent / "vdsotool"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vdsotool"]


def run_vdsotool(args: list, cwd: str | Path | None = None,
                 importtime: bool = False, extra_env: dict | None = None,
                 timeout: float = 120, stdout=None, drop_env: tuple[str, ...] = (),
                 input: str | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    """``vdsotool <args>`` as a user runs it: a fresh process of :func:`vdsotool_command`,
    in ``cwd`` (None: this process's), text output captured. ``importtime``: under
    ``python -X importtime``, whose stderr :func:`imported_modules` reads. ``stdout``: a
    file to write stdout to instead of capturing it; ``drop_env``: variables of this
    environment the run does not inherit; ``input``: the text on its stdin;
    ``preexec_fn``: run in the child before vdsotool (resource limits)."""
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    env |= extra_env or {}
    cmd = vdsotool_command()
    if importtime:  # the console script itself when there is one: `-m` adds runpy's imports
        cmd = [sys.executable, "-X", "importtime", *(cmd if len(cmd) == 1 else ["-m", "vdsotool"])]
    streams = {"capture_output": True} if stdout is None else \
        {"stdout": stdout, "stderr": subprocess.PIPE}
    return subprocess.run(cmd + [str(a) for a in args], cwd=cwd, env=env, text=True,
                          input=input, timeout=timeout, preexec_fn=preexec_fn, **streams)


def output_files(directory: Path) -> dict[str, bytes]:
    """name -> bytes of the files in ``directory`` (empty when it does not exist)."""
    if not directory.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def imported_modules(stderr: str) -> set[str]:
    """The modules a ``python -X importtime`` run imported, from its stderr."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line}
