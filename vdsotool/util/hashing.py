"""SHA-256 without importing hashlib: the content hash of the caches and the emitted blobs.

``import hashlib`` loads OpenSSL's ``_hashlib`` up front, ~3 ms of every build, cached or
not (docs/performance.md). CPython's own SHA-256 module computes the same digest; it is
``_sha256`` up to Python 3.11 and ``_sha2`` from 3.12, and hashlib is the fallback where a
build of Python has neither.
"""

from __future__ import annotations

try:
    from _sha256 import sha256
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

__all__ = ["hexdigest", "sha256"]


def hexdigest(data: bytes) -> str:
    """The SHA-256 of ``data``, as 64 lowercase hex digits."""
    return sha256(data).hexdigest()
