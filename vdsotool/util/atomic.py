"""Atomic output: write to a temporary file in the target directory, then rename over.

A failed build must leave earlier outputs untouched, so every output is first produced in
memory and only then written with :func:`write_outputs`, each file via temp file + rename.
"""

from __future__ import annotations

import os


def write_atomic(path: str | os.PathLike, data: bytes | str, mode: int = 0o644) -> bool:
    """Write ``data`` to ``path`` atomically. Returns False (and leaves the file, and its
    timestamp, alone) when the content is already identical, so Kbuild does not rebuild."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode()
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except OSError:
        pass
    directory, name = os.path.split(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fd, tmp = _create_temporary(directory, name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file beside ``name`` in ``directory``, opened for writing: (descriptor, name). (What
    tempfile.mkstemp does, without importing tempfile, shutil and random on every build.)"""
    while True:
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue


def write_outputs(outputs: dict[str | os.PathLike, bytes | str]) -> list[str | os.PathLike]:
    """Write every output atomically; returns the paths (the keys of ``outputs``) whose
    content changed."""
    return [p for p, data in outputs.items() if write_atomic(p, data)]
