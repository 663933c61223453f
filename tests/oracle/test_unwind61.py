"""libgcc's unwinder walks out of the signal trampolines of the 6.1 images too (the same
harness and checks as tests/oracle/test_unwind.py): their FDE starts at the instruction
before the return point — the bctrl through which a 6.1 kernel enters the handler — and
recovers every register of the kernel's signal frame. Images from vdsotool and from GNU."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import need_tool
from gnu import gnu_build
from unwind.harness import TRAMPOLINES, image_facts, run_harness

from vdsotool import pipeline
from vdsotool.abi import abis
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE

CASES = [(t, layout.name) for t in (PPC32, PPC64, PPC64LE) for layout in S.layouts_for(t)]
CHECKS = {"FDE found in the image's .eh_frame", "FDE starts at the nop before the trampoline",
          "unwound through the trampoline", "reached the interrupted frame", "pc", "cfa",
          "lr", "signal frame (ip_before_insn)", "r31", "cr7", "f31", "v31", "vscr", "vrsave"}
_IMAGES: dict[tuple[str, str], Path] = {}


def image61(builder: str, target, tmp_path_factory) -> Path:
    key = (builder, target.name)
    if key not in _IMAGES:
        work = tmp_path_factory.mktemp(f"unwind61-{builder}-{target.name}")
        if builder == "gnu":
            _IMAGES[key] = gnu_build(target, work, abi=abis.ABI_6_1, page_size=65536)
        else:
            outputs = pipeline.build_outputs(target, pipeline.find_source_root(None), work,
                                             None, page_size=65536, abi=abis.ABI_6_1)
            path = Path(pipeline.image_path(work, target))
            path.write_bytes(outputs[str(path)])
            _IMAGES[key] = path
    return _IMAGES[key]


@pytest.mark.parametrize("builder", ["gnu", "vdsotool"])
@pytest.mark.parametrize("target,layout_name", CASES,
                         ids=[f"{t.name}-{n}" for t, n in CASES])
def test_libgcc_unwinds_the_6_1_trampoline(target, layout_name, builder, tmp_path_factory):
    image = image61(builder, target, tmp_path_factory)
    facts = image_facts(image)
    run = run_harness(target, need_tool, "unwind", image, layout_name,
                      facts.symbols[TRAMPOLINES[layout_name]], facts.eh_frame,
                      facts.eh_frame_end, 1)
    assert run.returncode == 0, str(run)
    assert not run.failed
    assert CHECKS <= run.ok, f"checks that did not run: {CHECKS - run.ok}"
