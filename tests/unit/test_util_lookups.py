"""vdsotool/util/hashing.py and vdsotool/util/installed.py stand in for hashlib and
importlib.util on the build path (cheaper imports): they must answer exactly as those do."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

import pytest

from vdsotool.util import hashing, installed


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 300])
def test_the_outputs_sha256_is_hashlibs(data):
    assert hashing.sha256_hex(data) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 300])
def test_the_cache_hash_is_blake2b_256(data):
    assert hashing.cache_hex(data) == hashlib.blake2b(data, digest_size=32).hexdigest()
    assert len(hashing.cache_hex(data)) == 64


def test_the_incremental_cache_hash_is_the_one_shot_hash():
    h = hashing.cache_hash()
    for chunk in (b"vdso", b"\0", b"tool" * 1000):
        h.update(chunk)
    assert h.hexdigest() == hashing.cache_hex(b"vdso\0" + b"tool" * 1000)


@pytest.mark.parametrize("name", ["keystone", "jinja2", "markupsafe", "vdsotool"])
def test_package_directory_is_where_import_finds_the_package(name):
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations
    expected = list(spec.submodule_search_locations)[0]
    assert os.path.samefile(installed.package_directory(name), expected)


def test_a_missing_package_has_no_directory():
    assert installed.package_directory("vdsotool_no_such_package") is None


def test_the_first_sys_path_entry_wins_and_a_plain_directory_is_no_package(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "pkg").mkdir(parents=True)  # no __init__.py: not a regular package
    (second / "pkg").mkdir(parents=True)
    (second / "pkg" / "__init__.py").write_text("")
    monkeypatch.setattr(sys, "path", [str(first), str(second)])
    assert installed.package_directory("pkg") == str(second / "pkg")
    (first / "pkg" / "__init__.py").write_text("")
    assert installed.package_directory("pkg") == str(first / "pkg")
