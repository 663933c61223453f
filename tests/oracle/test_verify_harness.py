"""Hostile harness caches: ``vdsotool verify`` never runs what another user could have
written, and nothing found in place of a cached harness (a planted program, a doctored
copy, a FIFO, a symlink to /dev/zero, an unusable cache location) makes it hang, run it, or
report a good image as FAILED: it compiles its own harness and passes the image.

The planted program is a real PowerPC binary (cross-compiled here) that creates a marker
file when it runs: the marker's absence proves it never ran."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool, run_vdsotool
from gnu import built_image

from vdsotool.abi.targets import TARGETS

TARGET = TARGETS["ppc64le"]
PLANT_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    const char *marker = getenv("PLANTED_MARKER");
    FILE *f = marker ? fopen(marker, "w") : NULL;
    if (f) { fputs("the planted harness ran\n", f); fclose(f); }
    return 0;
}
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> bytes:
    """The bytes of a static PowerPC program that creates $PLANTED_MARKER."""
    gcc = need_tool(TARGET.gnu_tool("gcc"))
    need_tool(TARGET.qemu)
    d = tmp_path_factory.mktemp("plant")
    (d / "plant.c").write_text(PLANT_C)
    subprocess.run([gcc, "-static", "-O2", "-o", str(d / "plant"), str(d / "plant.c")],
                   check=True, capture_output=True)
    return (d / "plant").read_bytes()


@pytest.fixture(scope="module")
def image() -> Path:
    return built_image("gnu", TARGET)


def harness_prefix() -> str:
    from vdsotool.verify.harness import harness_prefix as prefix

    return prefix(TARGET)[0]


def plant(directory: Path, content: bytes) -> Path:
    """Put ``content`` where a harness of today's inputs would be, named by its own hash
    (as a careful attacker would), and under the older name without the hash."""
    from vdsotool.verify.private import content_name

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / content_name(harness_prefix(), content)
    path.write_bytes(content)
    path.chmod(0o755)
    old = directory / harness_prefix().rstrip("-")
    old.write_bytes(content)
    old.chmod(0o755)
    return path


def verify(image: Path, tmp_path: Path, env: dict[str, str]) -> dict:
    """``vdsotool verify --json`` with the harness cache set by ``env``; it must pass."""
    marker = tmp_path / "marker"
    res = run_vdsotool(["verify", "--json", image], timeout=300,
                       drop_env=("VDSOTOOL_CACHE_DIR", "VDSOTOOL_NO_CACHE", "XDG_CACHE_HOME"),
                       extra_env={"PLANTED_MARKER": str(marker), **env})
    assert not marker.exists(), "the planted binary was run"
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["ok"]
    assert {r["symbol"]: r["status"] for r in report["results"]}["__kernel_gettimeofday"] == "pass"
    return report


def test_no_cache_ignores_the_old_predictable_directory(planted, image, tmp_path):
    """With caching off, a world-writable ``$TMPDIR/vdsotool-harness-<uid>`` full of planted
    binaries (the directory older versions used) is neither used nor touched."""
    tmp = tmp_path / "tmp"
    shared = tmp / f"vdsotool-harness-{os.getuid()}"
    bait = plant(shared, planted)
    shared.chmod(0o777)
    verify(image, tmp_path, {"VDSOTOOL_NO_CACHE": "1", "TMPDIR": str(tmp)})
    assert bait.read_bytes() == planted and stat_mode(shared) == 0o777
    # this run's own directory is gone afterwards
    assert [p.name for p in tmp.iterdir()] == [shared.name]


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_world_writable_cache_directory_refused(planted, image, tmp_path):
    harness_dir = tmp_path / "c" / "harness"
    bait = plant(harness_dir, planted)
    harness_dir.chmod(0o777)
    verify(image, tmp_path, {"VDSOTOOL_CACHE_DIR": str(tmp_path / "c")})
    assert bait.read_bytes() == planted and stat_mode(harness_dir) == 0o777


def test_foreign_cache_directory_refused(planted, image, tmp_path):
    """As root: a directory another user (made with useradd) owns, mode 0700, holding a
    planted binary. Without root no file can be given away; the owner check itself is then
    tested on root's '/' in tests/unit/test_harness_private.py, and here the cache is a
    directory we may not create, in root's '/'."""
    if os.geteuid() != 0:
        verify(image, tmp_path, {"VDSOTOOL_CACHE_DIR": "/vdsotool-test-not-ours"})
        return
    import pwd

    name = f"vdsov{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    name], check=True, capture_output=True)
    try:
        uid = pwd.getpwnam(name).pw_uid
        harness_dir = tmp_path / "c" / "harness"
        bait = plant(harness_dir, planted)
        harness_dir.chmod(0o700)
        for p in [harness_dir, *harness_dir.iterdir()]:
            os.chown(p, uid, -1)
        verify(image, tmp_path, {"VDSOTOOL_CACHE_DIR": str(tmp_path / "c")})
        assert bait.read_bytes() == planted and harness_dir.stat().st_uid == uid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def the_harness(tmp_path: Path) -> Path:
    """The one harness binary in the cache, after checking its content hashes to its name."""
    import hashlib

    (binary,) = (tmp_path / "c" / "harness").glob(harness_prefix() + "*")
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == binary.name.rsplit("-", 1)[1]
    return binary


def good_cache(image: Path, tmp_path: Path) -> tuple[dict, Path]:
    """A cache directory holding a harness verify made itself; (env, its binary)."""
    env = {"VDSOTOOL_CACHE_DIR": str(tmp_path / "c")}
    verify(image, tmp_path, env)
    return env, the_harness(tmp_path)


def test_doctored_cache_entry_is_rebuilt(planted, image, tmp_path):
    """Our own cache, the harness's bytes replaced under its name: the content no longer
    hashes to the name, so it is deleted and compiled again, never run."""
    env, binary = good_cache(image, tmp_path)
    good = binary.read_bytes()
    binary.write_bytes(planted)
    verify(image, tmp_path, env)
    assert the_harness(tmp_path).read_bytes() != planted


@pytest.mark.parametrize("kind", ["fifo", "symlink-dev-zero", "garbage", "truncated"])
def test_special_file_in_place_of_the_harness(kind, image, tmp_path):
    """Each stands where the harness was; verify neither blocks on it, nor reads it without
    end, nor runs it, nor fails the image: it compiles a harness anew."""
    env, binary = good_cache(image, tmp_path)
    good = binary.read_bytes()
    binary.unlink()
    if kind == "fifo":
        os.mkfifo(binary, 0o600)
    elif kind == "symlink-dev-zero":
        binary.symlink_to("/dev/zero")
    elif kind == "garbage":
        binary.write_bytes(os.urandom(len(good)))
    else:
        binary.write_bytes(good[:len(good) // 2])
    verify(image, tmp_path, env)
    assert the_harness(tmp_path).stat().st_size > len(good) // 2


def test_unusable_cache_location(image, tmp_path):
    """A cache path under a regular file (cannot be created): this run's own directory."""
    afile = tmp_path / "afile"
    afile.write_text("")
    verify(image, tmp_path, {"VDSOTOOL_CACHE_DIR": str(afile)})
