"""vdsotool's ctypes binding of libkeystone.so says what keystone's own Python binding says.

The oracle is the keystone-engine wheel's module on the same library: for every instruction
text the three images hand to keystone (read back from the assembler's memo after a build) and
for texts keystone refuses, both bindings must give the same bytes, the same statement count
or the same error message. Running it in a fresh process also shows that a build which needs
keystone never imports that module.
"""

from __future__ import annotations

import pytest

import keystone as ks
from conftest import imported_modules, run_vdsotool
from vdsotool.abi.targets import TARGETS
from vdsotool.assemble import keystone_lib
from vdsotool.assemble import keystone_backend
from vdsotool.pipeline import build_image

REFUSED = ["foo 0x1", "addi 0x3, 0x4", "addi 0x3, 0x4, 0x100000", "lwz 0x3, 0x8(0x4), 0x1",
           "li 0x3, 0x10000", "mtspr 0x3ff, 0x3, 0x1"]
ACCEPTED_ODDITIES = ["", "nop; nop", "b 0x4000000"]  # what keystone does, not what we send


def modes(target) -> tuple[int, int]:
    ours = keystone_lib.MODE_PPC64 if target.bits == 64 else keystone_lib.MODE_PPC32
    ours |= keystone_lib.MODE_LITTLE_ENDIAN if target.little else keystone_lib.MODE_BIG_ENDIAN
    theirs = ks.KS_MODE_PPC64 if target.bits == 64 else ks.KS_MODE_PPC32
    theirs |= ks.KS_MODE_LITTLE_ENDIAN if target.little else ks.KS_MODE_BIG_ENDIAN
    return ours, theirs


def test_constants_are_keystones():
    assert (keystone_lib.API_MAJOR, keystone_lib.API_MINOR) == (ks.KS_API_MAJOR, ks.KS_API_MINOR)
    assert keystone_lib.ARCH_PPC == ks.KS_ARCH_PPC
    assert (keystone_lib.MODE_PPC32, keystone_lib.MODE_PPC64) == (ks.KS_MODE_PPC32, ks.KS_MODE_PPC64)
    assert keystone_lib.MODE_LITTLE_ENDIAN == ks.KS_MODE_LITTLE_ENDIAN
    assert keystone_lib.MODE_BIG_ENDIAN == ks.KS_MODE_BIG_ENDIAN
    assert keystone_lib.version() == ks.ks_version()[:2]


def outcome(assemble, error: type[Exception], text: str):
    try:
        encoding, count = assemble(text)
    except error as err:
        return "error", str(err)
    return bytes(encoding or b""), count


@pytest.fixture(scope="module")
def encoded_texts() -> dict[str, list[str]]:
    """Per target, every instruction text a build of the three images gave keystone."""
    for target in TARGETS.values():
        build_image(target)
    texts: dict[str, list[str]] = {name: [] for name in TARGETS}
    for (name, text), result in keystone_backend._cache.items():
        if isinstance(result, bytes):
            texts[name].append(text)
    return texts


@pytest.mark.parametrize("name", list(TARGETS))
def test_same_encodings_and_errors_as_keystones_binding(name, encoded_texts):
    ours_mode, theirs_mode = modes(TARGETS[name])
    ours = keystone_lib.Engine(keystone_lib.ARCH_PPC, ours_mode)
    theirs = ks.Ks(ks.KS_ARCH_PPC, theirs_mode)
    texts = encoded_texts[name] + REFUSED + ACCEPTED_ODDITIES
    assert len(encoded_texts[name]) > 50, "the build encoded the images' instructions"
    mine = [outcome(ours.assemble, keystone_lib.KeystoneError, t) for t in texts]
    oracle = [outcome(theirs.asm, ks.KsError, t) for t in texts]
    assert mine == oracle
    assert {m[0] for m in mine[-len(REFUSED + ACCEPTED_ODDITIES):-len(ACCEPTED_ODDITIES)]} == {"error"}


def test_a_build_that_needs_keystone_loads_it_without_keystones_module(tmp_path):
    res = run_vdsotool(["build", "--bits", "64", "--emit", "none", "--out", tmp_path / "out"],
                       tmp_path, importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    names = imported_modules(res.stderr)
    assert "vdsotool.assemble.keystone_lib" in names, "the build used keystone (sanity check)"
    assert not {n for n in names if n.split(".")[0] == "keystone"}
