"""Atomic output: write to a temporary file in the target directory, then rename over.

A failed build must leave earlier outputs untouched, so every output is first produced in
memory and only then written with :func:`write_outputs`, each file via temp file + rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes | str, mode: int = 0o644) -> bool:
    """Write ``data`` to ``path`` atomically. Returns False (and leaves the file, and its
    timestamp, alone) when the content is already identical, so Kbuild does not rebuild."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


def write_outputs(outputs: dict[str | os.PathLike, bytes | str]) -> list[Path]:
    """Write every output atomically; returns the paths whose content changed."""
    return [Path(p) for p, data in outputs.items() if write_atomic(p, data)]
