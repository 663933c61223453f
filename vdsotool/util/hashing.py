"""Content hashes without importing hashlib: SHA-256 for what the outputs state, BLAKE2b
for vdsotool's caches.

``import hashlib`` loads OpenSSL's ``_hashlib`` up front, ~3 ms of every build, cached or
not (docs/performance.md). CPython's own hash modules need no such load:

* :func:`sha256_hex` – the SHA-256 the emitted files print (``image_sha256`` of the patch
  tables, the C blob's comment). The images are a few KB, so CPython's portable SHA-256
  (``_sha256`` up to 3.11, ``_sha2`` from 3.12) is fast enough;
* :func:`cache_hash` / :func:`cache_hex` – the hash of the caches (entry checksums, input
  contents, the build key over vdsotool's ~450 KB of code). Nothing outside vdsotool reads
  it, so it is BLAKE2b with a 32-byte digest: four times faster than that portable SHA-256
  on the package's files (0.3 ms against 1.3 ms per build).

hashlib is the fallback where a build of Python has neither module.
"""

from __future__ import annotations

try:
    from _sha256 import sha256 as _sha256
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha2 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256
try:
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - depends on the Python build
    from hashlib import blake2b as _blake2b

__all__ = ["cache_hash", "cache_hex", "sha256_hex"]

CACHE_DIGEST_SIZE = 32  # bytes: 64 hex digits, as long as the SHA-256 it replaced


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data``, as 64 lowercase hex digits."""
    return _sha256(data).hexdigest()


def cache_hash(data: bytes = b"") -> object:
    """A new hash object (``update``, ``hexdigest``) for the caches' content hashes."""
    return _blake2b(data, digest_size=CACHE_DIGEST_SIZE)


def cache_hex(data: bytes) -> str:
    """The caches' content hash of ``data``, as 64 lowercase hex digits."""
    return cache_hash(data).hexdigest()
