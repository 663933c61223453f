"""The ABI records (vdsotool/abi/abis.py) agree with the files they name: each ABI's
source list exists for every target, and each linker script's version node exports
exactly the manifest's symbols for its word size."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vdsotool.abi import abis
from vdsotool.abi.targets import TARGETS
from vdsotool.link.script import read_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("abi_name", list(abis.ABIS))
@pytest.mark.parametrize("name", list(TARGETS))
def test_sources_and_script_match_the_manifest(abi_name, name):
    abi, target = abis.ABIS[abi_name], TARGETS[name]
    table = tomllib.loads(Path(abi.sources_toml(ROOT)).read_text())
    for source in table[name]["sources"]:
        assert (ROOT / abi.asm_dir / source).is_file(), source
    script = read_script(abi.linker_script(ROOT, target))
    exported = {s for node in script.versions for s in node.globals}
    assert exported == {e.name for e in abi.exports_for(target)}


def test_abi_named():
    assert abis.abi_named("6.1") is abis.ABI_6_1
    assert abis.DEFAULT is abis.ABI_2_6_15
    with pytest.raises(ValueError, match="2.6.15, 6.1"):
        abis.abi_named("5.4")


def test_link_symbols_follow_the_page_size():
    assert abis.ABI_6_1.link_symbols(65536) == {"_vdso_vvar_size": 0x20000}
    assert abis.ABI_6_1.link_symbols(4096) == {"_vdso_vvar_size": 0x2000}
    assert abis.ABI_2_6_15.link_symbols(4096) == {}
