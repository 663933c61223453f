"""keystone-engine's C library, called through ctypes: the four functions the assembler uses.

The keystone-engine wheel ships ``libkeystone.so`` and a Python module that binds its whole
API. That module imports ``inspect`` and ``platform`` and declares every function on import:
about 11 ms, more than loading the library itself and a fifth of a cold build's budget
(docs/performance.md). This module loads the same library from the same installed package
and declares only ``ks_version``, ``ks_open``, ``ks_asm``, ``ks_free``, ``ks_errno`` and
``ks_strerror``, with the prototypes of keystone's ``include/keystone/keystone.h``.
tests/cli/test_keystone_lib.py checks that it encodes exactly what keystone's own binding does
and reports the same error texts.

:func:`assemble` is only ever handed one vetted instruction (keystone_backend.py vets it);
keystone's radix caveat applies unchanged: no ``ks_option`` is ever called, every number is
``0x`` hex.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

# keystone.h's constants for what we open (also in the wheel's keystone_const.py; the test
# compares them): the API version this binding speaks, the PowerPC architecture and modes.
API_MAJOR, API_MINOR = 0, 9
ARCH_PPC = 5
MODE_PPC32, MODE_PPC64 = 4, 8
MODE_LITTLE_ENDIAN, MODE_BIG_ENDIAN = 0, 1 << 30
LIBRARY = "libkeystone.so"


class KeystoneError(Exception):
    """keystone refused an instruction or an engine; ``str()`` is keystone's own message."""


def library_path() -> str:
    """``libkeystone.so`` inside the installed keystone-engine package (found on sys.path,
    without importing the package)."""
    import importlib.machinery  # the import system's own search, without importing keystone

    spec = importlib.machinery.PathFinder.find_spec("keystone")
    package = spec.submodule_search_locations if spec else None
    path = os.path.join(package[0], LIBRARY) if package else ""
    if not os.path.isfile(path):
        raise KeystoneError(f"keystone-engine is not installed ({LIBRARY} not found on sys.path)")
    return path


_lib: ctypes.CDLL | None = None


def _library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(library_path())
        ubyte_p = ctypes.POINTER(ctypes.c_ubyte)
        size_p = ctypes.POINTER(ctypes.c_size_t)
        prototypes = {
            "ks_version": (ctypes.c_uint, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)),
            "ks_open": (ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)),
            "ks_asm": (ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64,
                       ctypes.POINTER(ubyte_p), size_p, size_p),
            "ks_free": (None, ubyte_p),
            "ks_errno": (ctypes.c_int, ctypes.c_void_p),
            "ks_strerror": (ctypes.c_char_p, ctypes.c_int),
        }
        for name, (restype, *argtypes) in prototypes.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        _lib = lib
    return _lib


def _message(code: int) -> str:
    return _library().ks_strerror(code).decode("utf-8", "replace")


def version() -> tuple[int, int]:
    major, minor = ctypes.c_int(), ctypes.c_int()
    _library().ks_version(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


@contextlib.contextmanager
def _stderr_silenced():
    """File descriptor 2 points at /dev/null meanwhile: keystone's own messages (LLVM's
    "error: ..." with a caret) never reach the user; ours come as diagnostics instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


class Engine:
    """One keystone engine for one architecture and mode (never closed: it lives as long as
    the process, as the assembler's engines do)."""

    def __init__(self, arch: int, mode: int) -> None:
        if version() != (API_MAJOR, API_MINOR):
            raise KeystoneError(f"keystone library API {version()} is not the "
                                f"{API_MAJOR}.{API_MINOR} this binding speaks")
        self.handle = ctypes.c_void_p()
        status = _library().ks_open(arch, mode, ctypes.byref(self.handle))
        if status != 0:
            raise KeystoneError(_message(status))

    def assemble(self, text: str) -> tuple[bytes, int]:
        """keystone's encoding of ``text`` (ASCII) and how many statements it counted."""
        lib = _library()
        encoding = ctypes.POINTER(ctypes.c_ubyte)()
        size, count = ctypes.c_size_t(), ctypes.c_size_t()
        with _stderr_silenced():  # keystone prints LLVM's diagnostics there itself
            status = lib.ks_asm(self.handle, text.encode("ascii"), 0, ctypes.byref(encoding),
                                ctypes.byref(size), ctypes.byref(count))
        if status != 0:
            raise KeystoneError(_message(lib.ks_errno(self.handle)))
        try:
            return ctypes.string_at(encoding, size.value) if size.value else b"", count.value
        finally:
            if encoding:
                lib.ks_free(encoding)
