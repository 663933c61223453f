"""The CPU table as data: vdsotool/abi/cpus.toml, and --cpus files read over it.

Expectations come from the file itself (read here with tomllib, independently of
vdsotool's reader), never from a second copy of the table.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from vdsotool.abi.cpus import TABLE_FILE, CpuTable, default_table, load_table
from vdsotool.errors import VdsoError


def raw() -> dict:
    with open(TABLE_FILE, "rb") as f:
        return tomllib.load(f)


def test_the_packaged_today_table_is_the_file():
    doc, table = raw()["today"], default_table()
    assert table.today_features == tuple(doc["features"].items())
    bits = doc["features"]
    assert [(c.name, c.pvr_value, c.pvr_mask, c.bits, c.little_endian, c.features)
            for c in table.today_cpus] == [
        (c["name"], c["pvr_value"], c["pvr_mask"], c["bits"], c.get("little_endian", False),
         sum(bits[f] for f in c["features"])) for c in doc["cpu"]]


def test_a_cpus_file_overrides_a_today_cpu(tmp_path):
    path = tmp_path / "today.toml"
    path.write_text('[[today.cpu]]\nname = "power10"\npvr_value = 0x00800000\n'
                    'pvr_mask = 0xFFFF0000\nfeatures = ["LWSYNC"]\nbits = 64\n')
    base, table = default_table(), load_table([path])
    assert [c.name for c in table.today_cpus] == [
        "power10" if c.name == "POWER10" else c.name for c in base.today_cpus]
    assert table.named_today("POWER10").features == table.today_bit("LWSYNC")
    assert table.cpus == base.cpus  # the 2.6.15 CPUs are another table


def test_the_packaged_table_is_the_file():
    doc, table = raw(), default_table()
    assert table.features == tuple(doc["features"].items())
    bits = doc["features"]
    assert [(c.name, c.pvr_value, c.pvr_mask, c.bits, c.little_endian) for c in table.cpus] == [
        (c["name"], c["pvr_value"], c["pvr_mask"], c["bits"], c.get("little_endian", False))
        for c in doc["cpu"]]
    assert [c.features for c in table.cpus] == [sum(bits[f] for f in c["features"])
                                                for c in doc["cpu"]]
    assert [(p.gen_name, p.fix_name, p.ftr_mask, p.ftr_value) for p in table.patches] == [
        (p["symbol"], p.get("fix", ""), sum(bits[f] for f in p["mask"]),
         sum(bits[f] for f in p["value"])) for p in doc["patch"]]


def test_every_cpu_is_identified_by_its_pvr_and_names_make_c_identifiers():
    table = default_table()
    for cpu in table.cpus:
        assert table.for_pvr(cpu.pvr_value) == cpu, "a catch-all entry must come last"
    assert len({c.name.lower() for c in table.cpus}) == len(table.cpus)
    assert len({c.c_name for c in table.cpus}) == len(table.cpus)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", c.c_name) for c in table.cpus)


OVERLAY = """\
[features]
ARCH_3_1 = 0x0000000000040000

[[cpu]]
name = "POWER10"
pvr_value = 0x00800000
pvr_mask = 0xFFFF0000
features = ["USE_TB", "COHERENT_ICACHE", "ALTIVEC", "ARCH_3_1"]
bits = 64
little_endian = true

[[cpu]]
name = "power4"  # overrides POWER4 where it stands
pvr_value = 0x00350000
pvr_mask = 0xFFFF0000
features = ["USE_TB", "COHERENT_ICACHE"]
bits = 64
"""


def test_a_cpus_file_adds_and_overrides(tmp_path):
    path = tmp_path / "my.toml"
    path.write_text(OVERLAY)
    base, table = default_table(), load_table([path])
    names = [c.name for c in table.cpus]
    # the new CPU goes before the catch-all entry, so a kernel can still identify it
    assert [n.lower() for n in names] == [
        *[c.name.lower() for c in base.cpus[:-1]], "power10", base.cpus[-1].name.lower()]
    assert table.for_pvr(0x00801234).name == "POWER10"
    at = [c.name.lower() for c in base.cpus].index("power4")
    assert table.cpus[at].name == "power4" and table.cpus[at].features & table.bit("COHERENT_ICACHE")
    assert "ARCH_3_1" in table.feature_list(table.named("POWER10").features)
    assert table.patches == base.patches
    assert isinstance(table, CpuTable) and default_table() == base  # the packaged one unchanged


@pytest.mark.parametrize("text, where, message", [
    ("[[cpu]]\nname = \"X\"\npvr_value = 1\npvr_mask = 0xFFFF0000\nfeatures = []\nbits = 64\n",
     ":1", "CPU X: pvr_value 0x00000001 has bits outside pvr_mask"),
    ("[features]\nFOO = 3\n", ":1", "feature FOO: 3 is not one bit"),
    ("[features]\nUSE_TB = 0x80\n", ":1", "feature USE_TB is 0x40 already, not 0x80"),
    ("\n\n[[cpu]]\nname = \"Y\"\npvr_value = 0\npvr_mask = 0\nfeatures = [\"NOPE\"]\nbits = 32\n",
     ":3", "CPU Y: features: unknown feature 'NOPE'"),
    ("[[cpu]]\nname = \"Z\"\npvr_value = 0\npvr_mask = 0\nfeatures = []\nbits = 48\n",
     ":1", "CPU Z: bits must be 32 or 64"),
    ("[[cpu]]\nname = \"Z\"\n", ":1", "[[cpu]] has no 'bits'"),
    ("[[cpu]]\nname = \"POWER5_plus\"\npvr_value = 0\npvr_mask = 0\nfeatures = []\nbits = 32\n",
     "", "CPUs 'POWER5+' and 'POWER5_plus' have the same C name"),
    ("[cpu\n", ":1:5", "bad TOML"),
    ("[[patch]]\nmask = []\nvalue = []\nsymbol = \"a@b\"\n", ":1", "[[patch]] symbol 'a@b'"),
    ("[bogus]\n", "", "unknown table 'bogus'"),
    ("[today]\nfoo = 1\n", ":1", "'today' holds [today.features] and [[today.cpu]] only"),
    ("[today.features]\nLWSYNC = 0x100\n", ":1", "feature LWSYNC is 0x80 already, not 0x100"),
    ("\n[[today.cpu]]\nname = \"Q\"\npvr_value = 0\npvr_mask = 0\nfeatures = [\"USE_TB\"]\n"
     "bits = 32\n", ":2", "CPU Q: features: unknown feature 'USE_TB'"),  # a 2.6.15 bit
])
def test_a_bad_cpus_file_is_a_located_error(tmp_path, text, where, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(VdsoError) as err:
        load_table([path])
    shown = str(err.value)
    assert shown.startswith(f"{path}{where}: error: "), shown
    assert message in shown


def test_a_cpus_file_is_bounded(tmp_path):
    from vdsotool.abi.cpus import MAX_TABLE_BYTES

    path = tmp_path / "huge.toml"
    path.write_text("#" * (MAX_TABLE_BYTES + 1))
    with pytest.raises(VdsoError, match="larger than"):
        load_table([path])
    with pytest.raises(VdsoError, match="cannot read CPU table"):
        load_table([tmp_path / "missing.toml"])
