"""asm/images.toml: each image's sources in link order, read with tomllib; anything that is
not such a list is an error located at the file, never a traceback."""

from __future__ import annotations

import pytest

from vdsotool.abi.targets import TARGETS
from vdsotool.errors import VdsoError
from vdsotool.pipeline import image_sources


def test_sources_in_order_joined_with_asm(tmp_path):
    (tmp_path / "asm").mkdir()
    (tmp_path / "asm" / "images.toml").write_text(
        '[ppc64]\nsources = [\n  "b.S",  # multi-line, commented\n  "a.S",\n]\n')
    assert image_sources(tmp_path, TARGETS["ppc64"]) == [
        str(tmp_path / "asm" / "b.S"), str(tmp_path / "asm" / "a.S")]


@pytest.mark.parametrize("text, message", [
    ('[ppc64]\nsources = ["a.S"]\n[ppc64]\n', "not a table of source lists"),
    ("[ppc64]\nsources = 3\n", "no source list for ppc64"),
    ('[ppc64]\nsources = "a.S"\n', "no source list for ppc64"),
    ('[ppc64]\nsources = ["a.S", 1]\n', "no source list for ppc64"),
    ("[ppc64]\nsources = []\n", "no source list for ppc64"),
    ("[ppc32]\nsources = [\"a.S\"]\n", "no source list for ppc64"),
    ("ppc64 = 1\n", "not a table of source lists"),
    ("\xff", "not a table of source lists"),
    (None, "cannot read"),
])
def test_anything_else_is_a_located_error(tmp_path, text, message):
    (tmp_path / "asm").mkdir()
    if text is not None:
        (tmp_path / "asm" / "images.toml").write_bytes(text.encode("latin-1"))
    with pytest.raises(VdsoError) as err:
        image_sources(tmp_path, TARGETS["ppc64"])
    assert str(err.value).startswith(str(tmp_path / "asm" / "images.toml"))
    assert message in str(err.value)
