"""A signal handler leaves through the vDSO trampoline; qemu-user's sigreturn/rt_sigreturn
must take the program back to the interrupted code with the registers stored in the frame.

The harness (tests/oracle/unwind/sigreturn.c, entry.S) traps in interrupt_me with distinctive
registers; its SIGTRAP handler checks that qemu's frame holds them where
vdsotool/abi/sigframes.py says, changes some in the frame (NIP to past the trap, r5, r20,
r31, CR, LR, CTR, f3, f20, v3, v25, VRSAVE) and jumps to the image's trampoline with r1 at
the frame.
qemu reads the frame at r1 as the kernel does, so this checks the trampolines' syscall
numbers, the r1 they leave and the layouts' slots against an independent implementation.
ppc32 runs both frames: without SA_SIGINFO qemu-ppc (like the kernel) builds the non-RT
frame, which __kernel_sigtramp32 returns from; with it, the RT frame and
__kernel_sigtramp_rt32.
"""

from __future__ import annotations

import pytest

from conftest import need_tool
from gnu import BUILDERS, built_image
from unwind.harness import TRAMPOLINES, image_facts, run_harness
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE, Target

CASES = [(t, layout) for t in (PPC32, PPC64, PPC64LE) for layout in S.layouts_for(t)]
CASE_IDS = [f"{t.name}-{layout.name}" for t, layout in CASES]

# qemu-user 7.2 builds its ppc64 rt frame 16 bytes further from r1 than the kernel does
# (for its own stack trampoline, which does not pop the dummy frame); see sigreturn.c.
QEMU_PPC64_EXTRA = 16

EVERY_CHECK = {
    "signal", "regs pointer at r1+ptregs -> gregs_at", "saved NIP is the trap",
    "frame cr (layout cr offset)", "frame lr", "frame ctr", "handler ran",
    "resumed r1", "resumed cr", "resumed lr", "resumed ctr", "resumed xer",
    *(f"frame r{n}" for n in range(32) if n not in (1, 2, 13)),
    *(f"resumed r{n}" for n in range(32) if n not in (1, 2, 13)),
    *(f"frame f{n}" for n in range(32)), *(f"resumed f{n}" for n in range(32)),
    "frame msr has MSR_VEC", "VMX block at vmx_at", "frame vrsave", "resumed vrsave",
    *(f"frame v{n}" for n in range(32)), *(f"resumed v{n}" for n in range(32)),
}


def sigreturn(target: Target, image, layout_name: str, tramp_name: str | None = None,
              tramp_delta: int = 0):
    facts = image_facts(image)
    tramp = facts.symbols[tramp_name or TRAMPOLINES[layout_name]] + tramp_delta
    return run_harness(target, need_tool, "sigreturn", image, layout_name, tramp)


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("target,layout", CASES, ids=CASE_IDS)
def test_handler_returns_through_the_trampoline(target, layout, builder):
    run = sigreturn(target, built_image(builder, target), layout.name)
    assert run.returncode == 0, str(run)
    assert not run.failed
    assert EVERY_CHECK <= run.ok, f"checks that did not run: {EVERY_CHECK - run.ok}"
    # the handler's context argument sits where the layout says (qemu's ppc64 quirk aside)
    above = run.note("context-above-r1")
    allowed = {layout.context_at}
    if target.bits == 64:
        allowed.add(layout.context_at + QEMU_PPC64_EXTRA)
    assert above in allowed


def test_ppc32_rt_frame_cannot_return_through_the_non_rt_trampoline():
    # the syscall number matters: sigreturn (119) reads a sigcontext at r1+64, which in an
    # RT frame is siginfo, so the program must not come back intact
    image = built_image("vdsotool", PPC32)
    run = sigreturn(PPC32, image, "rt_sigreturn32", tramp_name="__kernel_sigtramp32")
    assert "frame f31" in run.ok  # the handler got as far as the trampoline
    assert run.returncode != 0, str(run)
    assert "handler ran" not in run.ok


@pytest.mark.parametrize("target", [PPC64, PPC64LE], ids=lambda t: t.name)
def test_ppc64_frame_needs_the_trampolines_pop(target):
    # entering after "addi r1,r1,128" leaves r1 one dummy frame too low for rt_sigreturn
    image = built_image("vdsotool", target)
    run = sigreturn(target, image, "rt_sigreturn64", tramp_delta=4)
    assert "frame f31" in run.ok  # the handler got as far as the trampoline
    assert run.returncode != 0 or run.failed, str(run)
    assert not EVERY_CHECK <= run.ok
