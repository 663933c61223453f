"""The harness directory's trust rules (vdsotool/verify/private.py): a directory is used only
when it is ours and no one else can write it; a file only when it is a regular file of ours
whose content hashes to its name. FIFOs, symlinks, foreign or world-writable directories and
doctored files are refused, never opened for reading, never run."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess

import pytest

from vdsotool.verify import private

PREFIX = "harness-test-0123-"


def _close(fd):
    os.close(fd)


def test_cache_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("VDSOTOOL_NO_CACHE", raising=False)
    monkeypatch.setenv("VDSOTOOL_CACHE_DIR", str(tmp_path / "c"))
    assert private.cache_path() == str(tmp_path / "c" / "harness")
    monkeypatch.delenv("VDSOTOOL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert private.cache_path() == str(tmp_path / "x" / "vdsotool" / "harness")
    monkeypatch.setenv("VDSOTOOL_NO_CACHE", "1")
    assert private.cache_path() is None


def test_created_private(tmp_path):
    path = tmp_path / "c" / "harness"
    _close(private.open_private_dir(str(path)))
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()


def test_world_writable_directory_refused(tmp_path):
    """A 777 directory (ours or not: anyone could have put files in it) is never used, and
    nothing in it is touched."""
    path = tmp_path / "harness"
    path.mkdir()
    path.chmod(0o777)
    (path / "planted").write_bytes(b"x")
    with pytest.raises(private.Refused, match="mode 0777: others can write it"):
        private.open_private_dir(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 and (path / "planted").exists()
    path.chmod(0o730)  # group-writable is refused too
    with pytest.raises(private.Refused, match="others can write it"):
        private.open_private_dir(str(path))


def test_readable_directory_of_ours_is_narrowed(tmp_path):
    """Ours and writable by no one else (e.g. 0755 from an older vdsotool): nobody else can
    have written it; it is used and made 0700."""
    path = tmp_path / "harness"
    path.mkdir()
    path.chmod(0o755)
    _close(private.open_private_dir(str(path)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_symlink_and_file_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "harness"
    link.symlink_to(real)
    with pytest.raises(private.Refused, match="cannot open as a directory"):
        private.open_private_dir(str(link))
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(private.Refused, match="cannot create"):
        private.open_private_dir(str(afile / "harness"))  # an unusable cache location


@pytest.fixture
def other_user():
    """A second user (created with useradd when we are root, removed afterwards), or None."""
    if os.geteuid() != 0 or not any(os.path.exists(p) for p in ("/usr/sbin/useradd",
                                                                "/sbin/useradd")):
        yield None
        return
    name = f"vdsot{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    name], check=True, capture_output=True)
    try:
        import pwd

        yield pwd.getpwnam(name).pw_uid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_foreign_directory_refused(tmp_path, other_user):
    """A directory another user owns is refused even at mode 0700. As root, a second user
    owns it; otherwise (no chown possible) '/' plays the part: root's, not ours."""
    if other_user is not None:
        path = tmp_path / "harness"
        path.mkdir(mode=0o700)
        os.chown(path, other_user, -1)
        owner = other_user
    else:
        path, owner = "/", 0
        assert os.stat(path).st_uid != os.geteuid()
    with pytest.raises(private.Refused, match=f"owned by uid {owner}, not by us"):
        private.open_private_dir(str(path))


def test_no_cache_is_a_fresh_directory_never_a_predictable_one(monkeypatch):
    """With caching off, the directory is this process's own mkdtemp (0700, a random name),
    not the old shared ``$TMPDIR/vdsotool-harness-<uid>``, which is left alone."""
    monkeypatch.setenv("VDSOTOOL_NO_CACHE", "1")
    fd, why = private.harness_dir()
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
        st = os.fstat(fd)
    finally:
        os.close(fd)
    assert "VDSOTOOL_NO_CACHE" in why
    assert os.path.basename(path) != f"vdsotool-harness-{os.getuid()}"
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
    fd2, _ = private.harness_dir()
    try:
        assert os.readlink(f"/proc/self/fd/{fd2}") == path  # one per process
    finally:
        os.close(fd2)


def test_refused_cache_falls_back_to_a_fresh_directory(monkeypatch, tmp_path):
    bad = tmp_path / "c" / "harness"
    bad.mkdir(parents=True)
    bad.chmod(0o777)
    monkeypatch.delenv("VDSOTOOL_NO_CACHE", raising=False)
    monkeypatch.setenv("VDSOTOOL_CACHE_DIR", str(tmp_path / "c"))
    fd, why = private.harness_dir()
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") != str(bad)
    finally:
        os.close(fd)
    assert "others can write it" in why


@pytest.fixture
def dir_fd(tmp_path):
    fd = private.open_private_dir(str(tmp_path / "harness"))
    yield fd
    os.close(fd)


def test_installed_file_is_found_by_its_content(dir_fd, tmp_path):
    content = b"\x7fELF pretend binary" * 100
    fd = private.install(dir_fd, PREFIX, content)
    os.close(fd)
    name = PREFIX + hashlib.sha256(content).hexdigest()
    assert os.listdir(tmp_path / "harness") == [name]
    assert stat.S_IMODE((tmp_path / "harness" / name).stat().st_mode) == 0o700
    fd = private.find_verified(dir_fd, PREFIX)
    try:
        assert os.pread(fd, len(content) + 1, 0) == content
    finally:
        os.close(fd)


def test_doctored_file_is_deleted_not_used(dir_fd, tmp_path):
    """Same name, other bytes (the hash in the name no longer matches): never returned."""
    fd = private.install(dir_fd, PREFIX, b"the real harness")
    os.close(fd)
    (entry,) = (tmp_path / "harness").iterdir()
    entry.write_bytes(b"a planted program")
    assert private.find_verified(dir_fd, PREFIX) is None
    assert not entry.exists()


@pytest.mark.parametrize("kind", ["fifo", "symlink-dev-zero", "symlink-good", "garbage",
                                  "group-writable", "huge", "directory"])
def test_special_entries_are_deleted_without_reading(kind, dir_fd, tmp_path):
    """A FIFO (opening it for reading would block), a symlink (to /dev/zero: endless; to a
    good copy: still not ours to follow), garbage, a file others can write, one larger than
    any harness: none is used, and find_verified returns at once."""
    good = b"good harness bytes"
    name = private.content_name(PREFIX, good)
    where = tmp_path / "harness" / name
    if kind == "fifo":
        os.mkfifo(where, 0o600)
    elif kind == "symlink-dev-zero":
        where.symlink_to("/dev/zero")
    elif kind == "symlink-good":
        other = tmp_path / "elsewhere"
        other.write_bytes(good)
        where.symlink_to(other)
    elif kind == "garbage":
        where.write_bytes(os.urandom(4096))
    elif kind == "group-writable":
        where.write_bytes(good)
        where.chmod(0o770)
    elif kind == "huge":
        with open(where, "wb") as f:
            f.truncate(private.MAX_FILE + 1)  # sparse: costs nothing, must not be read
    elif kind == "directory":
        where.mkdir()
    assert private.find_verified(dir_fd, PREFIX) is None
    assert not os.path.lexists(where)
    fd = private.install(dir_fd, PREFIX, good)  # and a good one can be put in its place
    os.close(fd)
    fd = private.find_verified(dir_fd, PREFIX)
    assert fd is not None
    os.close(fd)


def test_stale_inputs_are_removed(dir_fd, tmp_path):
    os.close(private.install(dir_fd, "harness-t-old-", b"old"))
    os.close(private.install(dir_fd, "harness-t-new-", b"new"))
    os.close(private.install(dir_fd, "harness-tt-other-", b"other target"))
    private.remove_others(dir_fd, "harness-t-", "harness-t-new-")
    names = sorted(p.name for p in (tmp_path / "harness").iterdir())
    assert [n.rsplit("-", 1)[0] for n in names] == ["harness-t-new", "harness-tt-other"]
