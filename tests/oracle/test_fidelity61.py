"""Our 6.1 ppc64le image beside Debian's 6.1 kernel image (issue 15 item 5), read by GNU
readelf: the same exports (name, type, binding, version), program headers (type, flags,
alignment), dynamic tags and e_flags, and the signal trampoline's FDE rule for rule.
Sizes and addresses differ (our code is shorter; Debian adds build-id and build-salt notes),
and so do two trampoline rules, on purpose (test_signal_trampoline_fde_rule_for_rule)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool, run_vdsotool

from vdsotool import pipeline
from vdsotool.abi import abis
from vdsotool.abi.targets import TARGETS


def readelf(*args) -> str:
    return subprocess.run([need_tool("powerpc64le-linux-gnu-readelf"), "-W", *map(str, args)],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> Path:
    target = TARGETS["ppc64le"]
    out = tmp_path_factory.mktemp("ours61")
    outputs = pipeline.build_outputs(target, pipeline.find_source_root(None), out, None,
                                     page_size=65536, abi=abis.ABI_6_1)
    image = Path(pipeline.image_path(out, target))
    image.write_bytes(outputs[str(image)])
    return image


def exports(image) -> set[tuple[str, ...]]:
    out = set()
    for line in readelf("--dyn-syms", image).splitlines():
        f = line.split()
        if len(f) == 8 and f[7].startswith("__kernel_"):
            out.add((f[3], f[4], f[5], f[7]))  # type, bind, visibility, name@@version
    return out


def program_headers(image) -> list[tuple[str, str, str]]:
    rows = re.findall(r"^\s+([A-Z_]+)\s+0x\S+ 0x\S+ 0x\S+ 0x\S+ 0x\S+ (.{3}) (0x[0-9a-f]+)$",
                      readelf("-l", image), re.M)
    return [(t, flags.strip(), align) for t, flags, align in rows]


def dynamic_tags(image) -> list[str]:
    return re.findall(r"^\s*0x[0-9a-f]+ \((\w+)\)", readelf("-d", image), re.M)


def sigtramp_registers(image) -> dict[str, tuple]:
    """Where the trampoline FDE's rules put each register, as ``vdsotool dump`` evaluates
    them (the expressions differ in form: the kernel shares bytes between the vector rules
    with backward DW_OP_skips, ours are self-contained; see docs/signal-frames.md)."""
    import json

    res = run_vdsotool(["dump", "--json", image])
    assert res.returncode == 0, res.stderr
    records = json.loads(res.stdout)["cfi"]["records"]
    fde = next(r for r in records if r["kind"] == "FDE" and r.get("summary")
               and r["summary"].get("layout") == "rt_sigreturn64")
    return {reg["name"]: (reg["where"], reg["gate"], reg["layout_says"])
            for reg in fde["summary"]["registers"]}


def test_same_interface_as_debian_6_1(ours, debian_vdso):
    theirs = debian_vdso("6.1")
    assert exports(ours) == exports(theirs)
    assert len(exports(ours)) == 9
    assert program_headers(ours) == program_headers(theirs)
    assert dynamic_tags(ours) == dynamic_tags(theirs)
    flags = [re.search(r"Flags:\s+(\S+)", readelf("-h", i))[1] for i in (ours, theirs)]
    assert flags == ["0x2,", "0x2,"] or flags[0] == flags[1]


def test_signal_trampoline_fde_rule_for_rule(ours, debian_vdso):
    """The same register set at the same places, but for the two deliberate differences:
    VRSAVE is only located when MSR_VEC says the VMX block was saved (the kernel locates it
    always), and VSCR is where the little-endian kernel stores it (vmx+512; the kernel's CFI
    says vmx+524, the big-endian word: dump flags it against the frame layout)."""
    mine, theirs = sigtramp_registers(ours), sigtramp_registers(debian_vdso("6.1"))
    assert set(mine) == set(theirs) and len(mine) > 100
    differ = {name for name in mine if mine[name] != theirs[name]}
    assert differ == {"vrsave", "vscr"}, {n: (mine[n], theirs[n]) for n in differ}
    assert mine["vscr"][2] is None and theirs["vscr"][2] is not None
    assert mine["vscr"][0].startswith("vmx.vscr (vmx+512")
    assert mine["vrsave"][1] is not None and theirs["vrsave"][1] is None
