"""Where ``vdsotool build`` finds its sources: the checkout it runs from, or ``--src``.
(Its command line's usage errors are cases in tests/cli/cases/build-*.case.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from vdsotool.errors import VdsoError
from vdsotool.pipeline import find_source_root


def test_source_root_found_from_package_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = find_source_root()
    assert isinstance(root, str) and (Path(root) / "asm" / "images.toml").is_file()


def test_explicit_src_without_sources_is_a_diagnostic(tmp_path):
    with pytest.raises(VdsoError) as err:
        find_source_root(tmp_path)
    assert "no asm/images.toml and linker_scripts/ found" in str(err.value)
