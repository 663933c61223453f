"""vdsotool/util/atomic.py: outputs appear whole or not at all, with their mode, and an
unchanged output keeps its timestamp."""

from __future__ import annotations

import os

import pytest

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


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "vdso64.so"
    out.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_atomic(out, b"new")
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["vdso64.so"]


def test_write_outputs_reports_only_changed_files(tmp_path):
    (tmp_path / "same").write_text("s")
    changed = atomic.write_outputs({tmp_path / "same": "s", tmp_path / "new": b"n"})
    assert changed == [tmp_path / "new"]
