"""Writing a build's outputs: all of them visible together, or none.

A failed build must leave earlier outputs untouched, so every output is first produced in
memory; :func:`write_outputs` then writes each changed one to a temporary file beside it
and, only once every temporary file is complete, renames them all into place. A file whose
content is already what the build made is left alone, timestamp and all, so make and
Kbuild see nothing new.

Temporary files are named ``.<name>.<pid>.<random>.tmp``. A build killed before its renames
leaves them behind; the next build into the same directory removes those of processes that
no longer run (a concurrent build's own are left alone).

Only regular files are written: an output path that names a directory, a device or a
FIFO is refused, so ``-o /dev/full`` never replaces the device node (as root, it would)
and is never read from. Every failure is a :class:`VdsoError` naming the path.
"""

from __future__ import annotations

import os
import re
import stat

from vdsotool.errors import ImageLoc, VdsoError


def _refuse(path: str, e: OSError) -> VdsoError:
    return VdsoError.at(ImageLoc(path), f"cannot write: {e.strerror or e}")


def _unchanged(path: str, data: bytes) -> bool:
    """Whether ``path`` is a regular file holding ``data`` (False: absent); raises
    VdsoError when ``path`` exists but is not a regular file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise _refuse(path, e) from None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise VdsoError.at(ImageLoc(path), f"cannot write: {what}")
    if st.st_size != len(data):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(data) + 1) == data
    except OSError:
        return False


def _leftover_pattern(names: list[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(rf"\.(?:{alternatives})\.([0-9]+)\.[0-9a-f]{{12}}\.tmp")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # another user's
    return True


def remove_leftovers(directory: str, names: list[str]) -> None:
    """Remove the temporary files of ``names`` that a killed build left in ``directory``."""
    pattern = _leftover_pattern(names)
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry)
        if m and int(m[1]) != os.getpid() and not _alive(int(m[1])):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _temporary(path: str) -> tuple[int, str]:
    """A new file beside ``path``, opened for writing: (descriptor, name)."""
    directory, name = os.path.split(path)
    while True:
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue


def write_outputs(outputs: dict[str, bytes | str], always: tuple[str, ...] = (),
                  mode: int = 0o644) -> list[str]:
    """Write every output whose content changed (and those in ``always``), all visible
    together; returns the paths written, in the order of ``outputs``. Raises VdsoError
    naming the path that could not be written, with every output left as it was."""
    data = {os.fspath(p): d.encode() if isinstance(d, str) else d for p, d in outputs.items()}
    by_directory: dict[str, list[str]] = {}
    for path in data:
        directory, name = os.path.split(path)
        by_directory.setdefault(directory, []).append(name)
    for directory, names in by_directory.items():
        if directory:
            try:
                os.makedirs(directory, exist_ok=True)
            except FileExistsError:
                raise VdsoError.at(ImageLoc(directory), "cannot write into: not a directory") \
                    from None
            except OSError as e:
                raise _refuse(directory, e) from None
        remove_leftovers(directory, names)
    changed = [p for p, d in data.items() if p in always or not _unchanged(p, d)]
    temporaries: list[tuple[str, str]] = []
    try:
        for path in changed:
            try:
                fd, tmp = _temporary(path)
            except OSError as e:
                raise _refuse(path, e) from None
            temporaries.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data[path])
                    os.fchmod(f.fileno(), mode)
            except OSError as e:
                raise _refuse(path, e) from None
        for tmp, path in temporaries:
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise _refuse(path, e) from None
    except BaseException:
        for tmp, _ in temporaries:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    return changed


def write_atomic(path: str | os.PathLike, data: bytes | str, mode: int = 0o644) -> bool:
    """:func:`write_outputs` of one file; whether it was written."""
    return bool(write_outputs({os.fspath(path): data}, mode=mode))
