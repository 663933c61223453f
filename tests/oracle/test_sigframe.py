"""Signal-frame layouts, their generated CFI and the trampolines in the GNU-built image."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import check_golden, need_tool
from vdsotool.abi import dwarf_regs as R
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.cfi import sigframe as G
from vdsotool.cfi.encode import CfiEncoding, encode_program

TARGETS = [PPC32, PPC64, PPC64LE]


def test_layout_offsets_match_the_kernel_derivation():
    # reference kernel-vdso-facts.md §6.3 gives these sums; sigframes.py derives them
    assert S.sigreturn32().ptregs == 64 + 28
    assert S.rt_sigreturn32().ptregs == 64 + 16 + 128 + 20 + 28
    assert S.rt_sigreturn64(False).ptregs == 128 + 168 + 56
    assert S.sigreturn32().vregs == 48 * 4 + 34 * 8
    assert S.rt_sigreturn64(True).vregs == 48 * 8 + 33 * 8
    assert S.rt_sigreturn64(False).cr == 38 * 8 + 4
    assert S.rt_sigreturn64(True).cr == 38 * 8
    assert S.rt_sigreturn32().cr == 38 * 4
    assert S.rt_sigreturn64(False).fpr(0) == 384 and S.sigreturn32().fpr(0) == 192


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_generated_include_golden(target):
    check_golden(f"sigframe/vdso_sigframe_{target.name}.inc", G.asm_include(target))



@pytest.mark.parametrize("layout", [S.sigreturn32(), S.rt_sigreturn32(),
                                    S.rt_sigreturn64(False)], ids=lambda l: l.name)
def test_program_describes_every_register_once(layout):
    enc = CfiEncoding(4, -layout.regsize, layout.regsize, "big")
    prog = G.fde_program(layout, enc)
    regs = [i.reg for i in prog if hasattr(i, "reg")]
    expected = {0, *range(2, 32), *range(32, 64), R.LR, R.AP, *range(R.CR0, R.CR0 + 8),
                *range(R.VR0, R.VR0 + 32), R.VRSAVE, R.VSCR}
    assert sorted(regs) == sorted(expected)
    assert encode_program(prog, enc)[0] == 0x0F  # starts with def_cfa_expression


def _readelf(target, args, path):
    return subprocess.run([need_tool(target.gnu_tool("readelf")), *args, str(path)],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_gnu_image_trampolines_have_signal_fdes(target, gnu_images):
    image = gnu_images[target.name]
    syms = _readelf(target, ["--dyn-syms", "-W"], image)
    tramps = {m.group(2): int(m.group(1), 16)
              for m in re.finditer(r"\s([0-9a-f]+)\s+\d+\s+\w+\s+GLOBAL.*?(__kernel_sigtramp\w*)", syms)}
    expected = {"__kernel_sigtramp32", "__kernel_sigtramp_rt32"} if target.bits == 32 \
        else {"__kernel_sigtramp_rt64"}
    assert set(tramps) == expected
    frames = _readelf(target, ["--debug-dump=frames"], image)
    cies = frames.split("\n\n")
    for name, addr in tramps.items():
        start = addr - 4
        fde = [b for b in cies if re.search(rf"FDE cie=\w+ pc=0*{start:x}\.\.", b)]
        assert fde, f"no FDE starting at the nop before {name}"
        cie_off = re.search(r"FDE cie=(\w+)", fde[0]).group(1)
        cie = [b for b in cies if re.match(rf"\s*{cie_off} .* CIE", b)][0]
        assert re.search(r'Augmentation:\s+"zRS"', cie)
        assert re.search(r"Return address column:\s+67\n", cie)
        assert "DW_CFA_def_cfa_expression" in fde[0]
    if target.bits == 64:
        end = tramps["__kernel_sigtramp_rt64"] + 12
        assert addr % 8 == 0 and end - addr == 12


@pytest.fixture(scope="session")
def vdsotool_images(tmp_path_factory):
    from vdsotool.pipeline import build

    images = {}
    for t in TARGETS:
        paths = build(t, None, tmp_path_factory.mktemp("vt-" + t.name))
        images[t.name] = Path(next(p for p in paths if p.endswith(".so")))
    return images


def _frame_rows(target, image):
    text = _readelf(target, ["--debug-dump=frames-interp"], image)
    return text.split("Contents of the .eh_frame section:", 1)[1]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_frames_interp_rows_equal_between_gnu_and_vdsotool(target, gnu_images, vdsotool_images):
    gnu = _frame_rows(target, gnu_images[target.name])
    ours = _frame_rows(target, vdsotool_images[target.name])
    assert "exp" in gnu  # the signal FDEs' expression rules are really in there
    assert ours == gnu
