"""Where an image build (`vdsotool build --emit offsets`) spends its time (docs/performance.md).

Every figure is a median over ``--rounds`` runs, fresh processes for what a process pays
once (interpreter start, imports), phases timed inside one process for the build itself:

* ``start``     – ``python -c pass`` in the venv: interpreter start and ``site``;
* ``imports``   – the modules a ``build --emit offsets`` imports, keystone aside, minus
  ``start``; ``records`` – how much of that is creating the value classes (timed around
  ``vdsotool.util.records._process`` in the same process);
* ``keystone``  – loading keystone's library on top of those (vdsotool's ctypes binding,
  assemble/keystone_lib.py: importing ctypes, dlopen, the prototypes);
* ``includes``, ``assemble``, ``link``, ``check``, ``offsets`` – the pipeline's phases in one
  process (imports done, keystone's engine made, every assembler and CFI memo and the
  encoding memo cleared before each round: a cold build's work);
* ``cold``      – the whole command, ``vdsotool build --emit offsets`` into an empty output
  directory, as ``make bench`` runs it; ``rest`` is what the pieces above leave of it.

Python's bytecode cache is on (a private ``PYTHONPYCACHEPREFIX``, filled first), as in
``make bench``. Usage: ``.venv/bin/python bench/breakdown.py [--rounds N] [--target T]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# what `vdsotool build --emit offsets` imports (keystone aside)
BUILD_IMPORTS = ("vdsotool.cli", "vdsotool.util.atomic",
                 "vdsotool.pipeline", "vdsotool.assemble.includes", "vdsotool.abi.datapage",
                 "vdsotool.cfi.sigframe", "vdsotool.assemble.assembler",
                 "vdsotool.assemble.directives", "vdsotool.assemble.instructions",
                 "vdsotool.inspect.check", "vdsotool.link.driver", "vdsotool.link.script",
                 "vdsotool.emit", "vdsotool.emit.offsets")

# run in a fresh process: prints the seconds spent creating record classes during the imports
_COUNT_RECORDS = f"""
import time
from vdsotool.util import records
spent = [0.0]
create = records._process
def timed(*args, **kwargs):
    start = time.perf_counter()
    try:
        return create(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - start
records._process = timed
import {", ".join(BUILD_IMPORTS)}
print(spent[0])
"""


def python_env(pycache: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "VDSOTOOL_NO_CACHE", "VDSOTOOL_CACHE_DIR")}
    return env | {"PYTHONPYCACHEPREFIX": str(pycache)}


def timed_run(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, str]:
    start = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"breakdown: {cmd} failed:\n{r.stderr}")
    return time.perf_counter() - start, r.stdout


def process_costs(rounds: int, target: str, tmp: Path) -> dict[str, float]:
    """Medians, in seconds, of the fresh-process measurements (interleaved rounds)."""
    from bench import vdsotool_command
    from vdsotool.abi.targets import TARGETS

    env = python_env(tmp / "pycache")
    py = sys.executable
    t = TARGETS[target]
    build = vdsotool_command() + ["build", "--bits", str(t.bits), "--endian", t.endian,
                                  "--emit", "offsets"]
    imports = "import " + ", ".join(BUILD_IMPORTS)
    commands = {"start": [py, "-c", "pass"], "imports": [py, "-c", imports],
                "keystone": [py, "-c", imports + ", vdsotool.assemble.keystone_lib as k; k.version()"]}
    timed_run(build + ["--out", str(tmp / "prime")], env)
    samples: dict[str, list[float]] = {k: [] for k in (*commands, "cold", "records")}
    for i in range(rounds):
        for name, cmd in commands.items():
            samples[name].append(timed_run(cmd, env, tmp)[0])
        samples["cold"].append(timed_run(build + ["--out", str(tmp / f"out-{i}")], env)[0])
        samples["records"].append(float(timed_run([py, "-c", _COUNT_RECORDS], env, tmp)[1]))
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {"start": med["start"], "imports": med["imports"] - med["start"],
            "records": med["records"], "keystone": med["keystone"] - med["imports"],
            "cold": med["cold"]}


def phase_costs(rounds: int, target_name: str) -> dict[str, float]:
    """Medians, in seconds, of the pipeline's phases timed in this process."""
    from vdsotool import pipeline
    from vdsotool.assemble.includes import asm_includes
    from vdsotool.abi.targets import TARGETS
    from vdsotool.assemble import assemble_file, expr, keystone_backend, source
    from vdsotool.emit import kernel_outputs
    from vdsotool.elf import read
    from vdsotool.inspect.check import check_image
    from vdsotool.link.driver import link_image
    from vdsotool.link.script import read_script

    target, root = TARGETS[target_name], Path(pipeline.find_source_root(ROOT))
    from vdsotool.cfi import encode, sigframe

    memos = (source.read_lines, source._split_operands, source.split_statement, source.head,
             expr.compile_expr, sigframe._op, sigframe._gregs_base, sigframe._plus)
    pipeline.build_outputs(target, root, Path("out"), {})  # imports, keystone's engine
    samples: dict[str, list[float]] = {k: [] for k in ("includes", "assemble", "link", "check",
                                                       "offsets")}
    for _ in range(rounds):
        for memo in memos:
            memo.cache_clear()
        keystone_backend._cache.clear()
        encode._op_bytes.clear()
        t0 = time.perf_counter()
        includes = asm_includes(target)
        t1 = time.perf_counter()
        objects = [assemble_file(str(p), target, include_dirs=[root / "asm"],
                                 virtual_includes=includes, defines={})
                   for p in pipeline.image_sources(root, target)]
        t2 = time.perf_counter()
        script = read_script(str(root / "linker_scripts" / target.linker_script))
        linked = link_image(objects, script, target, debug=True)
        image, dbg = linked.image, linked.dbg
        t3 = time.perf_counter()
        img = read(image, "image")
        check_image(img)
        t4 = time.perf_counter()
        kernel_outputs(img, read(dbg, "dbg"), target, Path("out"), 4096, frozenset({"offsets"}))
        t5 = time.perf_counter()
        for name, seconds in zip(samples, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            samples[name].append(seconds)
    return {k: statistics.median(v) for k, v in samples.items()}


ROWS = [("start", "interpreter start and site (python -c pass)"),
        ("imports", "imports of the build path, keystone aside"),
        ("records", "  of which creating the record classes"),
        ("keystone", "loading keystone's library"),
        ("includes", "generating the includes"),
        ("assemble", "assembling the sources (keystone's encodings included)"),
        ("link", "linking"), ("check", "image checks"), ("offsets", "offsets header"),
        ("rest", "the rest (command line, writes, exit), "
                 "by difference"),
        ("cold", "cold build, whole command")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--target", default="ppc64", choices=("ppc32", "ppc64", "ppc64le"))
    ap.add_argument("--json", action="store_true", help="print the milliseconds as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vdsotool-breakdown-") as d:
        costs = process_costs(args.rounds, args.target, Path(d))
    costs |= phase_costs(args.rounds, args.target)
    pieces = ("start", "imports", "keystone", "includes", "assemble", "link", "check", "offsets")
    costs["rest"] = costs["cold"] - sum(costs[k] for k in pieces)
    ms = {k: round(v * 1000, 1) for k, v in costs.items()}
    if args.json:
        print(json.dumps(ms, indent=2, sort_keys=True))
        return 0
    print(f"cold `vdsotool build` of {args.target}, median of {args.rounds} (ms)")
    for key, label in ROWS:
        print(f"{ms[key]:8.1f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
