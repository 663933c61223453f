"""vdsotool/util/atomic.py: a build's outputs appear together, whole, with their mode, or not
at all; an unchanged output keeps its timestamp; only regular files are written; a killed
build's temporary files are removed by the next one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vdsotool.errors import VdsoError
from vdsotool.util import atomic


def test_writes_creates_directories_and_sets_the_mode_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        assert atomic.write_atomic(tmp_path / "a" / "b.so", b"\x7fELF", mode=0o644)
    finally:
        os.umask(old)
    out = tmp_path / "a" / "b.so"
    assert out.read_bytes() == b"\x7fELF" and (out.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["b.so"], "no temporary file left"


def test_identical_content_leaves_the_file_and_its_timestamp_alone(tmp_path):
    out = tmp_path / "x.h"
    atomic.write_atomic(out, "text")
    os.utime(out, ns=(1, 1))
    assert atomic.write_atomic(out, "text") is False and out.stat().st_mtime_ns == 1
    assert atomic.write_atomic(out, "other") is True and out.read_text() == "other"
    assert atomic.write_outputs({out: "other"}, always=(str(out),)) == [str(out)]
    assert out.stat().st_mtime_ns != 1


def test_write_outputs_reports_only_changed_files(tmp_path):
    (tmp_path / "same").write_text("s")
    changed = atomic.write_outputs({tmp_path / "same": "s", tmp_path / "new": b"n"})
    assert changed == [str(tmp_path / "new")]


@pytest.mark.parametrize("blocker", ["directory", "fifo", "device"])
def test_only_regular_files_are_written_and_nothing_else_changes(tmp_path, blocker):
    first, second = tmp_path / "vdso64.so", tmp_path / "vdso64.so.dbg"
    first.write_bytes(b"old")
    if blocker == "directory":
        second.mkdir()
    elif blocker == "fifo":
        os.mkfifo(second)  # never opened: a read would block forever
    else:
        second = "/dev/full"
    with pytest.raises(VdsoError) as err:
        atomic.write_outputs({first: b"new", second: b"dbg"})
    assert str(err.value).startswith(f"{second}: error: cannot write")
    assert first.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        sorted(["vdso64.so"] + (["vdso64.so.dbg"] if blocker != "device" else []))
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


WRITE_UNDER_LIMIT = """
import resource, sys
from vdsotool.util import atomic
from vdsotool.errors import VdsoError
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
try:
    atomic.write_outputs({sys.argv[1]: b"a" * 10, sys.argv[2]: b"b" * 5000})
except VdsoError as err:
    print(err)
"""


def test_a_write_failing_part_way_changes_no_output(tmp_path):
    """A file-size limit stops the second output's write: the first, complete, is not
    renamed into place either, and no temporary file is left."""
    first, second = tmp_path / "vdso64.so", tmp_path / "vdso64-blob.c"
    first.write_bytes(b"old")
    second.write_bytes(b"old")
    res = subprocess.run([sys.executable, "-c", WRITE_UNDER_LIMIT, first, second],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"{second}: error: cannot write: File too large")
    assert first.read_bytes() == second.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vdso64-blob.c", "vdso64.so"]


def test_leftovers_of_dead_processes_go_others_stay(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    leftovers = [f".vdso64.so.{dead}.0123456789ab.tmp", f".vdso64.so.dbg.{dead}.ba9876543210.tmp"]
    kept = [f".vdso64.so.{os.getppid()}.0123456789ab.tmp",  # a process that runs
            f".other.so.{dead}.0123456789ab.tmp", ".vdso64.so.1.x.tmp"]  # not ours
    for name in leftovers + kept:
        (tmp_path / name).write_bytes(b"")
    atomic.write_outputs({tmp_path / "vdso64.so": b"x", tmp_path / "vdso64.so.dbg": b"y"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept + ["vdso64.so",
                                                                        "vdso64.so.dbg"])
