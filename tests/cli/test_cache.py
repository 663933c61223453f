"""The persistent caches (vdsotool/util/cache.py) make a build faster, never different.

Every test runs ``vdsotool build`` as a user does — a fresh process through the venv's
console script, so the typer-free fast path (vdsotool/cli_build.py) is what runs — on a
copy of the source tree, with its own cache directory (``VDSOTOOL_CACHE_DIR``). The oracle
for "the right bytes" is the same build with ``--no-cache``, into another directory: every
cached build must write exactly those files. A rebuild is recognised by its Kbuild-style
progress lines on stderr (an up-to-date build prints nothing and touches nothing). Nothing
here is timed: bench/bench.py is where speed is judged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, copy_sources, imported_modules, run_vdsotool
from conftest import output_files as files

from vdsotool.abi.generated import asm_includes
from vdsotool.abi.targets import TARGETS

ARGS = {"ppc32": ["--bits", "32"], "ppc64": ["--bits", "64"],
        "ppc64le": ["--bits", "64", "--endian", "little"]}


def run(args: list[str], cache: Path | None, cwd: Path, extra_env: dict | None = None,
        importtime: bool = False) -> subprocess.CompletedProcess:
    """``vdsotool <args>`` in ``cwd`` with the cache in ``cache`` (None: VDSOTOOL_NO_CACHE)."""
    return run_vdsotool(args, cwd, cache, importtime=importtime, extra_env=extra_env)


def build(tree: Path, out: str | Path, cache: Path | None, *extra: str, target: str = "ppc64",
          **kw) -> subprocess.CompletedProcess:
    res = run(["build", *ARGS[target], "--src", tree, "--out", out, *extra], cache, tree, **kw)
    assert res.returncode == 0, res.stderr
    return res


def imports_keystone(res: subprocess.CompletedProcess) -> bool:
    """Whether a run under ``-X importtime`` loaded keystone (through vdsotool's binding)."""
    return "vdsotool.assemble.keystone_lib" in imported_modules(res.stderr)


def mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


def rebuilt(res: subprocess.CompletedProcess) -> bool:
    return "VDSO" in res.stderr and "L " in res.stderr


def reference(tree: Path, tmp: Path, *extra: str, target: str = "ppc64") -> dict[str, bytes]:
    """What the build writes with no cache at all: the oracle of every cached build."""
    out = tmp / f"reference-{len(list(tmp.glob('reference-*')))}"
    build(tree, out, None, *extra, target=target)
    return files(out)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A private copy of the vDSO sources and linker scripts."""
    return copy_sources(tmp_path / "tree")


def encoding_tables(cache: Path) -> list[Path]:
    return sorted(cache.glob("v*/encodings/*.tsv"))


def build_records(cache: Path) -> list[Path]:
    return sorted(cache.glob("v*/builds/*.rec"))


def rewrite_entry(path: Path, body: bytes) -> None:
    """Replace a cache file's body and give it a matching checksum (a well-formed entry)."""
    from vdsotool.util.cache import digest

    path.write_bytes(digest(body).encode() + b"\n" + body)


def entry_body(path: Path) -> bytes:
    return path.read_bytes().partition(b"\n")[2]


# --- identical bytes whatever the cache holds -------------------------------------------------

@pytest.mark.parametrize("target", sorted(TARGETS))
def test_cold_warm_and_no_cache_builds_write_identical_files(target, tree, tmp_path):
    cache = tmp_path / "cache"
    cold = build(tree, tmp_path / "cold", cache, target=target)
    assert rebuilt(cold) and encoding_tables(cache) and build_records(cache)
    # a warm encoding cache, a fresh output directory: the whole build runs, keystone not
    warm = build(tree, tmp_path / "warm", cache, target=target, importtime=True)
    assert rebuilt(warm)
    assert not imports_keystone(warm), "every instruction should come from the cache"
    build(tree, tmp_path / "flag", cache, "--no-cache", target=target)
    build(tree, tmp_path / "env", None, target=target)
    expected = files(tmp_path / "env")
    assert f"{TARGETS[target].image}.so" in expected and len(expected) >= 3
    for variant in ("cold", "warm", "flag"):
        assert files(tmp_path / variant) == expected, variant


def test_up_to_date_build_does_nothing(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    before = mtimes(out)
    again = build(tree, out, cache)
    assert again.stdout == "" and again.stderr == ""
    assert mtimes(out) == before
    build(tree, out, cache, "--json")  # another command line: builds, changes nothing
    summary = json.loads(build(tree, out, cache, "--json").stdout)  # up to date
    assert summary == {"target": "ppc64", "outputs": []}
    assert mtimes(out) == before


# --- what must make a build run again ---------------------------------------------------------

def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: update the test"
    path.write_text(text.replace(old, new, 1))


def test_editing_a_source_rebuilds(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    old = files(out)
    edit(tree / "asm" / "note.S", ".set LINUX_VERSION_CODE, 0x0002060C",
         ".set LINUX_VERSION_CODE, 0x0002060D")
    assert rebuilt(build(tree, out, cache))
    assert files(out) != old and files(out) == reference(tree, tmp_path)


def test_editing_an_included_file_rebuilds(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    old = files(out)
    with open(tree / "asm" / "vdso_macros.inc", "a") as f:
        f.write("\n.set CACHE_TEST_MARK, 1\n")
    assert rebuilt(build(tree, out, cache))
    assert files(out) != old and files(out) == reference(tree, tmp_path)


@pytest.mark.parametrize("name", ["vdso_target.inc", "vdso_datapage.inc", "vdso_sigframe.inc"])
def test_an_include_file_shadowing_a_generated_one_rebuilds(name, tree, tmp_path):
    """The assembler looks in the source's directory before using a generated include: a
    file created there must be seen although the first build found nothing there."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    old = files(out)
    generated = asm_includes(TARGETS["ppc64"])[name]
    (tree / "asm" / name).write_text(generated + "\n.set SHADOW_MARK, 1\n")
    assert rebuilt(build(tree, out, cache))
    assert files(out) != old and files(out) == reference(tree, tmp_path)


def test_editing_the_linker_script_or_image_list_rebuilds(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    with open(tree / "linker_scripts" / "vdso64.lds", "a") as f:
        f.write("\n/* edited */\n")
    assert rebuilt(build(tree, out, cache))
    with open(tree / "asm" / "images.toml", "a") as f:
        f.write("\n# edited\n")
    assert rebuilt(build(tree, out, cache))
    assert not rebuilt(build(tree, out, cache))
    assert files(out) == reference(tree, tmp_path)


def test_changing_a_define_rebuilds(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache, "-D", "LINUX_VERSION_CODE=0x20610")
    first = files(out)
    assert rebuilt(build(tree, out, cache, "-D", "LINUX_VERSION_CODE=0x20611"))
    assert files(out) != first
    assert files(out) == reference(tree, tmp_path, "-D", "LINUX_VERSION_CODE=0x20611")
    # back to the first value: the outputs no longer hold what that build wrote
    assert rebuilt(build(tree, out, cache, "-D", "LINUX_VERSION_CODE=0x20610"))
    assert files(out) == first


def test_changing_emit_rebuilds(tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache, "--emit", "offsets")
    assert not (out / "vdso64-blob.c").exists()
    assert rebuilt(build(tree, out, cache, "--emit", "c"))
    assert (out / "vdso64-blob.c").is_file()


@pytest.mark.parametrize("damage", ["delete", "alter", "truncate"])
def test_a_deleted_or_altered_output_is_written_again(damage, tree, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    good = files(out)
    for name in ("vdso64.so", "vdso64-offsets.h"):
        path = out / name
        if damage == "delete":
            path.unlink()
        elif damage == "alter":
            path.write_bytes(path.read_bytes().replace(b"\x00", b"\x01", 1)
                             if name.endswith(".so") else path.read_bytes() + b"/* x */\n")
        else:
            path.write_bytes(path.read_bytes()[:-1])
        assert rebuilt(build(tree, out, cache))
        assert files(out) == good


def test_the_same_command_from_another_directory_is_another_build(tree, tmp_path):
    """Relative --src/--out mean other files from another working directory."""
    cache = tmp_path / "cache"
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tree, elsewhere / "tree")
    args = ["build", "--bits", "64", "--src", "tree", "--out", "out"]
    assert rebuilt(run(args, cache, tmp_path))
    assert rebuilt(run(args, cache, elsewhere))
    assert files(elsewhere / "out") == files(tmp_path / "out")
    assert not rebuilt(run(args, cache, tmp_path))


# --- damaged caches are ignored ----------------------------------------------------------------

TABLE_DAMAGE = {
    "bad checksum": lambda body: None,  # body changed below without fixing the checksum
    "malformed line": lambda body: body + b"this is not an entry\n",
    "non-hex encoding": lambda body: _first_entry_hex(body, lambda h: b"zz" + h[2:]),
    "short encoding": lambda body: _first_entry_hex(body, lambda h: h[:6]),
    "upper-case hex": lambda body: _first_entry_hex(body, lambda h: h.upper().replace(b"0", b"A")),
    "no header": lambda body: body.partition(b"\n")[2],
    "another target's table": lambda body: body.replace(b" ppc64 ", b" ppc32 ", 1),
    "not utf-8": lambda body: body + b"\xff\tdeadbeef\n",
}


def _first_entry_hex(body: bytes, change) -> bytes:
    header, rest = body.split(b"\n", 1)
    first, rest = rest.split(b"\n", 1)
    text, hexd = first.split(b"\t")
    return header + b"\n" + text + b"\t" + change(hexd) + b"\n" + rest


@pytest.mark.parametrize("damage", sorted(TABLE_DAMAGE))
def test_a_damaged_encoding_table_is_ignored(damage, tree, tmp_path):
    cache = tmp_path / "cache"
    build(tree, tmp_path / "first", cache)
    [table] = encoding_tables(cache)
    body = entry_body(table)
    if damage == "bad checksum":
        # the tampered body would give other bytes; its checksum still names the old body
        wrong = _first_entry_hex(body, lambda h: b"%08x" % (int(h, 16) ^ 0x10))
        table.write_bytes(table.read_bytes().partition(b"\n")[0] + b"\n" + wrong)
    else:
        rewrite_entry(table, TABLE_DAMAGE[damage](body))
    res = build(tree, tmp_path / "second", cache, importtime=True)
    assert imports_keystone(res), "the damaged table must not be used"
    assert files(tmp_path / "second") == files(tmp_path / "first")
    from vdsotool.assemble.keystone_backend import load_table

    header = body.split(b"\n", 1)[0].decode()
    assert len(load_table(table, header)) > 50, "the next writer replaces the damaged table"


def _make_record_stale_but_claim_current(tree: Path, record: Path) -> bytes:
    """Edit note.S and write its new hash into the record: a record believed as it stands
    would now skip a build whose output must change. Returns the record's new body."""
    from vdsotool.util.cache import digest

    note = tree / "asm" / "note.S"
    old_hash = digest(note.read_bytes())
    edit(note, ".set LINUX_VERSION_CODE, 0x0002060C", ".set LINUX_VERSION_CODE, 0x0002060E")
    body = entry_body(record)
    assert old_hash.encode() in body
    return body.replace(old_hash.encode(), digest(note.read_bytes()).encode())


RECORD_DAMAGE = {
    "bad checksum": None,
    "truncated line": b"vdsotool-build-record %(key)s\ninput\tfile",
    "empty": b"",
    "inputs not four fields": b"vdsotool-build-record %(key)s\ninput\tfile\ta\n",
    "unknown line": b"vdsotool-build-record %(key)s\nmaybe\t\t/x\n%(outputs)s",
    "no inputs": b"vdsotool-build-record %(key)s\n%(outputs)s",
    "not utf-8": b"vdsotool-build-record %(key)s\n\xff\n",
    "relative paths": None,
    "unknown path state": None,
    "another command's record": None,
}


def record_lines(body: bytes) -> tuple[str, list[list[str]], list[list[str]]]:
    """(header, input lines, output lines) of a build record, fields split."""
    header, *lines = body.decode().splitlines()
    fields = [line.split("\t") for line in lines]
    return header, [f for f in fields if f[0] == "input"], [f for f in fields if f[0] == "output"]


def record_text(header: str, inputs: list[list[str]], outputs: list[list[str]]) -> bytes:
    return ("\n".join([header, *("\t".join(f) for f in inputs + outputs)]) + "\n").encode()


@pytest.mark.parametrize("damage", sorted(RECORD_DAMAGE))
def test_a_damaged_build_record_is_ignored(damage, tree, tmp_path, monkeypatch):
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    [record] = build_records(cache)
    claimed = _make_record_stale_but_claim_current(tree, record)
    header, inputs, outputs = record_lines(claimed)
    if damage == "bad checksum":
        record.write_bytes(record.read_bytes().partition(b"\n")[0] + b"\n" + claimed)
    elif damage == "relative paths":
        inputs = [[tag, kind, h, os.path.relpath(p, tree)] for tag, kind, h, p in inputs]
        rewrite_entry(record, record_text(header, inputs, outputs))
    elif damage == "unknown path state":
        inputs = [[tag, "maybe", h, p] for tag, _, h, p in inputs]
        rewrite_entry(record, record_text(header, inputs, outputs))
    elif damage == "another command's record":
        # the record of '--emit offsets' copied to this command's name, checksum intact
        build(tree, tmp_path / "other", cache, "--emit", "offsets")
        other = [r for r in build_records(cache) if r != record][0]
        record.write_bytes(other.read_bytes())
    else:
        key = header.split()[1]
        text = RECORD_DAMAGE[damage] % {b"key": key.encode(),
                                        b"outputs": record_text(header, [], outputs).split(b"\n", 1)[1]}
        rewrite_entry(record, text)
    assert rebuilt(build(tree, out, cache))
    assert files(out) == reference(tree, tmp_path)


def test_an_intact_record_of_a_stale_build_claims_current_until_checked(tree, tmp_path):
    """The damage test above is honest: its undamaged record, rewritten with a valid
    checksum, *is* believed (so each damage alone is what makes it ignored)."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    [record] = build_records(cache)
    rewrite_entry(record, _make_record_stale_but_claim_current(tree, record))
    assert not rebuilt(build(tree, out, cache)), "the doctored record is trusted"


# --- --no-cache and concurrency ----------------------------------------------------------------

def test_no_cache_reads_and_writes_nothing_under_the_cache_dir(tree, tmp_path):
    cache = tmp_path / "cache"
    build(tree, tmp_path / "a", cache, "--no-cache")
    build(tree, tmp_path / "b", None, extra_env={"VDSOTOOL_CACHE_DIR": str(cache)})
    assert not cache.exists()
    build(tree, tmp_path / "c", cache)  # fill it, then check --no-cache leaves it alone
    state = {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    assert rebuilt(build(tree, tmp_path / "c", cache, "--no-cache")), "no record is consulted"
    assert rebuilt(build(tree, tmp_path / "c", None, extra_env={"VDSOTOOL_CACHE_DIR": str(cache)}))
    assert {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()} == state


def test_concurrent_builds_share_a_cache_safely(tree, tmp_path):
    cache = tmp_path / "cache"
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(t, i) for i in range(2) for t in ("ppc64", "ppc64le")]
    with ThreadPoolExecutor(len(jobs)) as pool:  # the four processes run at the same time
        results = list(pool.map(lambda job: run_vdsotool(
            ["build", *ARGS[job[0]], "--src", tree, "--out", tmp_path / f"out-{job[0]}-{job[1]}"],
            tree, cache), jobs))
    for res in results:
        assert res.returncode == 0, res.stderr
    for t in ("ppc64", "ppc64le"):
        assert files(tmp_path / f"out-{t}-0") == files(tmp_path / f"out-{t}-1")
        assert files(tmp_path / f"out-{t}-0") == reference(tree, tmp_path, target=t)
    assert not list(cache.rglob("*.tmp")), "no temporary file left behind"
    from vdsotool.assemble.keystone_backend import load_table

    for table in encoding_tables(cache):
        header = table.read_bytes().split(b"\n")[1].decode()
        assert load_table(table, header), f"{table.name} is whole and valid"


# --- the identity of the code ------------------------------------------------------------------

def test_code_identity_covers_every_file_of_the_package(tmp_path, monkeypatch):
    from vdsotool.util import cache

    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "vdsotool", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE", str(package))
    base = cache.code_identity()
    assert cache.code_identity() == base
    for name in ("emit/templates/blob.c.j2", "abi/datapage.py", "verify/harness/harness.c"):
        path = package / name
        original, stat = path.read_bytes(), path.stat()
        path.write_bytes(original + b"\n")  # a longer file
        assert cache.code_identity() != base, name
        path.write_bytes(original.replace(b"a", b"b", 1))  # as long, written later
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
        assert cache.code_identity() != base, name
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert cache.code_identity() == base, "the same size and time: the same code"
    (package / "new.py").write_text("")
    assert cache.code_identity() != base, "a new file"
    (package / "new.py").unlink()
    assert cache.code_identity() == base, "compiled files are not code"


def test_old_build_records_are_pruned(tree, tmp_path):
    from vdsotool.util.cache import MAX_RECORDS

    cache, out = tmp_path / "cache", tmp_path / "out"
    build(tree, out, cache)
    [record] = build_records(cache)
    for i in range(MAX_RECORDS + 20):  # records of other, older commands
        old = record.with_name(f"{i:064x}.rec")
        old.write_bytes(record.read_bytes())
        os.utime(old, ns=(1_000_000_000 + i, 1_000_000_000 + i))
    build(tree, out, cache, "--emit", "offsets")  # a new command writes a new record
    records = build_records(cache)
    assert len(records) == MAX_RECORDS
    assert record in records, "the most recently written records are kept"
    assert not (record.parent / f"{0:064x}.rec").exists(), "the oldest go first"
    assert not rebuilt(build(tree, out, cache, "--emit", "offsets"))


def test_the_record_is_keyed_by_the_code_that_started_the_build(tree, tmp_path, monkeypatch,
                                                                   capsys):
    """vdsotool replaced while a build runs: the record must not claim the new code's key
    for what the old code wrote (in-process, so the moment of the change is exact)."""
    from vdsotool import cli_build, pipeline
    from vdsotool.util import cache

    monkeypatch.setenv("VDSOTOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VDSOTOOL_NO_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    code = {"identity": "old code"}
    monkeypatch.setattr(cache, "code_identity", lambda: code["identity"])
    real_build = pipeline.build

    def build_while_code_changes(*args, **kwargs):
        written = real_build(*args, **kwargs)
        code["identity"] = "new code"
        return written

    monkeypatch.setattr(pipeline, "build", build_while_code_changes)
    argv = ["build", "--bits", "64", "--src", str(tree), "--out", "out"]
    assert cli_build.fast_main(argv) == 0
    assert "VDSO64L" in capsys.readouterr().err
    root = cache.cache_root()
    assert not cache.build_is_current(root, cache.build_key(argv)), "new code must build"
    code["identity"] = "old code"
    assert cache.build_is_current(root, cache.build_key(argv))
