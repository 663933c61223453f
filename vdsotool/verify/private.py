"""Where ``vdsotool verify`` keeps its compiled harnesses, and why it may run what it finds
there: nothing another user could have written is ever executed.

The rule (docs/verify.md, "Where the harness lives"):

* **The directory** is ``harness/`` under ``$VDSOTOOL_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/vdsotool``, else ``~/.cache/vdsotool``. We create it with mode 0700.
  It is used only when, opened without following a symlink, it is a directory owned by
  this user (the effective uid) that no group or other user can write; one of ours that
  others can read (an older vdsotool created it 0755) is narrowed to 0700. Anything else
  (another user's, mode 777, a symlink, a file, not creatable) is refused, and so is a
  cache that ``VDSOTOOL_NO_CACHE=1`` turns off: the process then uses a **fresh temporary
  directory** (``tempfile.mkdtemp``: a new random name, mode 0700), removed at exit. No
  predictable shared path is ever used.
* Every later access goes through the directory's file descriptor (``dir_fd``), so a
  parent directory renamed or replaced after the check changes nothing.
* **A file** in it is considered only if it is a regular file (checked before opening and
  again on the open descriptor: a FIFO never blocks us, a symlink is never followed), owned
  by us, not writable by group or others, and at most :data:`MAX_FILE` bytes. Its name
  carries the SHA-256 of its content, which is recomputed from the open descriptor before
  use; any mismatch or failed check deletes the entry (the caller then builds it anew).
* The file is run as ``/proc/self/fd/N`` of that same descriptor: what runs is the inode
  whose content was just hashed, not whatever a path names a moment later.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import tempfile

MAX_FILE = 64 << 20  # a static harness is about 1 MB; nothing bigger is read
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A directory that may not be trusted; the message says why."""


def cache_path() -> str | None:
    """The harness cache directory's path, or None when ``VDSOTOOL_NO_CACHE`` turns it off
    or there is no home directory to put it in."""
    if os.environ.get("VDSOTOOL_NO_CACHE", "") not in ("", "0"):
        return None
    root = os.environ.get("VDSOTOOL_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if base.startswith("~"):
            return None
        root = os.path.join(base, "vdsotool")
    return os.path.join(root, "harness")


def open_private_dir(path: str) -> int:
    """A descriptor of ``path``, created (mode 0700) if missing, after checking it is ours
    and private; raises :class:`Refused` otherwise."""
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    except OSError as err:
        raise Refused(f"{path}: cannot create: {err.strerror}") from None
    try:
        fd = os.open(path, _OPEN_DIR)
    except OSError as err:
        raise Refused(f"{path}: cannot open as a directory (a symlink?): {err.strerror}") from None
    try:
        check_private_dir(fd, path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_private_dir(fd: int, path: str) -> None:
    """Raise :class:`Refused` unless the open directory ``fd`` is owned by us and no one
    else can write it (then make it 0700 if others can still read it)."""
    st = os.fstat(fd)
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{path}: not a directory")
    if st.st_uid != os.geteuid():
        raise Refused(f"{path}: owned by uid {st.st_uid}, not by us (uid {os.geteuid()})")
    if st.st_mode & 0o022:
        raise Refused(f"{path}: mode {stat.S_IMODE(st.st_mode):04o}: others can write it")
    if st.st_mode & 0o077:
        os.fchmod(fd, 0o700)


_fresh: str | None = None


def fresh_dir() -> int:
    """A descriptor of this process's own new temporary directory (made once, removed at
    exit)."""
    global _fresh
    if _fresh is None or not os.path.isdir(_fresh):
        _fresh = tempfile.mkdtemp(prefix="vdsotool-harness-")
        atexit.register(shutil.rmtree, _fresh, ignore_errors=True)
    fd = os.open(_fresh, _OPEN_DIR)
    check_private_dir(fd, _fresh)
    return fd


def harness_dir() -> tuple[int, str | None]:
    """(descriptor of the directory to keep harnesses in, why the cache was not used or
    None): the cache directory when it may be trusted, else a fresh one."""
    path = cache_path()
    if path is None:
        return fresh_dir(), "caching is off (VDSOTOOL_NO_CACHE)"
    try:
        return open_private_dir(path), None
    except Refused as err:
        return fresh_dir(), str(err)


def content_name(prefix: str, content: bytes) -> str:
    """The name a file of ``content`` gets: ``prefix`` + its SHA-256 (hex, 64 digits)."""
    return prefix + hashlib.sha256(content).hexdigest()


def find_verified(dir_fd: int, prefix: str) -> int | None:
    """A read-only descriptor of a file named ``prefix<sha256>`` in ``dir_fd`` whose content
    has that hash and which passes the checks of the module docstring; entries with that
    prefix that fail them are deleted. None when there is none."""
    for name in sorted(os.listdir(dir_fd)):
        if not name.startswith(prefix):
            continue
        fd = _open_checked(dir_fd, name)
        if fd is not None:
            if _content_matches(fd, name[len(prefix):]):
                return fd
            os.close(fd)
        try:
            os.unlink(name, dir_fd=dir_fd)
        except IsADirectoryError:
            try:
                os.rmdir(name, dir_fd=dir_fd)  # an empty one; otherwise install() will fail
            except OSError:
                pass
        except OSError:
            pass
    return None


def _open_checked(dir_fd: int, name: str) -> int | None:
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):  # never open a FIFO, device or symlink
            return None
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError:
        return None
    st = os.fstat(fd)
    if (not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino)
            or st.st_uid != os.geteuid() or st.st_mode & 0o022 or st.st_size > MAX_FILE):
        os.close(fd)
        return None
    return fd


def _content_matches(fd: int, want: str) -> bool:
    h = hashlib.sha256()
    size = 0
    try:
        while block := os.pread(fd, 1 << 20, size):
            size += len(block)
            if size > MAX_FILE:
                return False
            h.update(block)
    except OSError:
        return False
    return h.hexdigest() == want


def install(dir_fd: int, prefix: str, content: bytes, mode: int = 0o700) -> int:
    """Write ``content`` into ``dir_fd`` as ``prefix<sha256>`` (a temporary name first, then
    renamed, so no one sees half a file) and return a verified descriptor of it."""
    name = content_name(prefix, content)
    tmp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 mode, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    found = _open_checked(dir_fd, name)
    if found is None or not _content_matches(found, name[len(prefix):]):
        if found is not None:
            os.close(found)
        raise OSError(f"the file just written as {name} does not read back")
    return found


def remove_others(dir_fd: int, family: str, keep: str) -> None:
    """Delete the entries named ``family*`` except those starting with ``keep`` (a harness
    of older inputs: another compiler, an edited source), so the directory does not grow."""
    for name in os.listdir(dir_fd):
        if name.startswith(family) and not name.startswith(keep):
            try:
                os.unlink(name, dir_fd=dir_fd)
            except OSError:
                pass


def fd_path(fd: int) -> str:
    """A path naming exactly the open file ``fd`` (for a child given ``pass_fds=(fd,)``)."""
    return f"/proc/self/fd/{fd}"
