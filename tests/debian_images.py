"""The real kernel's vDSO images as test oracles: Debian's ppc64el kernels 6.1 and 6.12.

``debian_vdso(version)`` (a fixture, registered in conftest.py) gives the path of
``vdso64-<version>.so`` for version ``6.1``, ``6.12`` (4 KiB pages) or ``6.12-64k``. The
first use in a test session runs ``scripts/fetch-debian-vdso.py`` once for all versions
(about 210 MB of packages, half a minute on a fast mirror; nothing when they are already
cached): the images live outside the repository, in ``$VDSOTOOL_TEST_IMAGES`` (else
``~/.cache/vdsotool-test-images``), each beside a ``.json`` manifest naming the package
it was cut from. Without network (or apt) the tests that use them skip, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fetch-debian-vdso.py"
VERSIONS = ("6.1", "6.12", "6.12-64k")
CANNOT_FETCH = 3  # the script's "not on this machine" status


def images_dir() -> Path:
    """Where the fetch script keeps the images: its own ``default_dest`` rule, read from the
    script (which is not an importable module name) so the two can never disagree."""
    return runpy.run_path(str(SCRIPT))["default_dest"]()


def fetch_images() -> tuple[Path, str | None]:
    """Run the fetch script once for every version: (directory, None) or (directory, the
    reason it could not fetch)."""
    dest = images_dir()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dest", str(dest), *VERSIONS],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode == 0:
        return dest, None
    if proc.returncode == CANNOT_FETCH:
        return dest, proc.stderr.strip()
    pytest.fail(f"{SCRIPT.name} failed (exit {proc.returncode}):\n{proc.stderr}")


@pytest.fixture(scope="session")
def _debian_images():
    from conftest import IN_CI

    dest, reason = fetch_images()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI needs the Debian vDSO images: {reason}")
        pytest.skip(f"Debian vDSO images not available: {reason}")
    return dest


@pytest.fixture
def debian_vdso(_debian_images):
    """``debian_vdso(version) -> Path`` of Debian's vdso64 image of that kernel version."""

    def get(version: str) -> Path:
        if version not in VERSIONS:
            raise ValueError(f"no Debian image {version!r} (one of {', '.join(VERSIONS)})")
        return _debian_images / f"vdso64-{version}.so"

    return get


def manifest(image: Path) -> dict:
    """Where ``image`` came from (package, versions, sizes, sha256): its ``.json``."""
    return json.loads(image.with_suffix(".json").read_text())
