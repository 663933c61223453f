"""Builds whose outputs cannot be written, or that are killed: every output of a build
becomes visible together or not at all, the old ones stay otherwise, and what a killed
build left behind is removed by the next. (Output locations that are files, devices,
unwritable or directories are command-line cases: tests/cli/cases/*-out-*.case.)"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time

from conftest import output_files, run_vdsotool, vdsotool_command

BUILD = ["build", "--bits", "64", "--out", "out"]


def test_a_file_size_limit_part_way_leaves_every_old_output(tmp_path):
    """The image fits under the limit, the C blob does not: no output is replaced."""
    assert run_vdsotool(BUILD, tmp_path).returncode == 0
    old = output_files(tmp_path / "out")
    (tmp_path / "out" / "vdso64.so").write_bytes(b"stale image")
    (tmp_path / "out" / "vdso64-blob.c").write_bytes(b"stale blob")
    image_size = len(old["vdso64.so"])

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (image_size, image_size))

    res = run_vdsotool(BUILD, tmp_path, preexec_fn=limit)
    assert res.returncode == 1, res.stderr
    assert "out/vdso64-blob.c: error: cannot write: File too large" in res.stderr
    now = output_files(tmp_path / "out")
    assert now["vdso64.so"] == b"stale image" and now["vdso64-blob.c"] == b"stale blob"
    assert not [n for n in os.listdir(tmp_path / "out") if n.endswith(".tmp")]


def test_kill_9_leaves_whole_outputs_and_the_next_build_cleans_up(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    assert run_vdsotool(BUILD, reference).returncode == 0
    expected = output_files(reference / "out")
    work = tmp_path / "work"
    work.mkdir()
    for delay in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6):
        proc = subprocess.Popen(vdsotool_command() + BUILD, cwd=work,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name, data in output_files(work / "out").items():
            if not name.endswith(".tmp"):
                assert data == expected[name], f"{name} is partial after kill -9"
        if (work / "out").is_dir():  # (a leftover of a process that no longer runs)
            (work / "out" / f".vdso64.so.{proc.pid}.0123456789ab.tmp").write_bytes(b"part")
    assert run_vdsotool(BUILD, work).returncode == 0
    assert output_files(work / "out") == expected
    assert sorted(os.listdir(work / "out")) == sorted(expected), "no temporary file left"
