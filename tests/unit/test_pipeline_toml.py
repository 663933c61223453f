"""The build reads asm/images.toml without importing tomllib when the file has the plain form
it is written in (vdsotool/pipeline.py ``plain_toml``, docs/performance.md). Whatever that
reader accepts must be exactly what tomllib reads; anything else goes to tomllib, so its
errors stay tomllib's."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdsotool.abi.targets import TARGETS
from vdsotool.errors import VdsoError
from vdsotool.pipeline import image_sources, plain_toml

ROOT = Path(__file__).resolve().parents[2]

LINES = ["", "# a comment", "[a]", "[ b ]", "[a.b]", '["a"]', "[a-b_1]", "x = []", 'x = ["s"]',
         'y = ["s", "t",]', 'x = ["a,b"]', 'x = ["q\\"x"]', 'x = ["\u00e9"]', 'x = ["a]"]',
         'k = [ "a" , "b" ] # c', "x = [,]", 'x = ["a" "b"]', "x = 1", "x = [1]", "\r", "[a]\r",
         "[a] # c", 'x = ["a\tb"]', "  [c]  ", 'x = ["\x01"]', "# \x01", "x = [", '"s"]',
         "x.y = []", "x = ['s']", 'x = ["#"]', "\t# tab", "[]", "= []", "x = [ ]"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=8))
def test_plain_reader_reads_what_tomllib_reads(lines):
    text = "\n".join(lines)
    plain = plain_toml(text)
    if plain is not None:
        assert plain == tomllib.loads(text)


def test_the_image_table_is_read_without_tomllib():
    text = (ROOT / "asm" / "images.toml").read_text()
    assert plain_toml(text) == tomllib.loads(text)
    probe = ("import sys; from vdsotool.pipeline import image_sources, find_source_root;"
             "from vdsotool.abi.targets import TARGETS;"
             "image_sources(find_source_root(None), TARGETS['ppc64']);"
             "print('tomllib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text, message", [
    ("[ppc64]\nsources = [\n  \"a.S\",\n]\n", None),  # multi-line: tomllib reads it
    ("[ppc64]\nsources = [\"a.S\"]\n[ppc64]\n", "Cannot declare"),  # tomllib's error
    ("[ppc64]\nsources = 3\n", "no source list for ppc64"),
    ("[ppc32]\nsources = []\n", "no source list for ppc64"),
])
def test_other_forms_go_to_tomllib(tmp_path, text, message):
    (tmp_path / "asm").mkdir()
    (tmp_path / "asm" / "images.toml").write_text(text)
    if message is None:
        assert image_sources(tmp_path, TARGETS["ppc64"]) == [str(tmp_path / "asm" / "a.S")]
        return
    with pytest.raises(VdsoError) as err:
        image_sources(tmp_path, TARGETS["ppc64"])
    assert message in str(err.value)
