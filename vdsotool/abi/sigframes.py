"""Signal-frame layouts as data: where the kernel leaves the interrupted registers.

When the kernel delivers a signal it pushes a frame on the user stack and sets LR to a vDSO
trampoline; the handler returns there and the trampoline issues sigreturn/rt_sigreturn with
r1 still pointing at that frame.  An unwinder standing in the trampoline therefore finds
everything relative to r1:

* at ``r1 + ptregs`` a *pointer* to the saved-register block (``pt_regs`` / mcontext gregs);
* in that block, 48 register-sized slots (r0-r31, nip, msr, orig_gpr3, ctr, link, xer, ccr,
  mq/softe, trap, dar, dsisr, result, 4 pad), then 32 doubles of FPRs (+ FPSCR double);
* the vector state: inline in 32-bit mcontext (16-byte aligned after the FPRs), reached
  through the ``v_regs`` pointer in 64-bit; only valid when MSR_VEC is set in the saved MSR.

``ptregs`` is derived below from the sizes of the structures in front of the pointer
(reference kernel-vdso-facts.md §6.3) instead of being one magic number.

The CFI only follows the two pointers; ``gregs_at``, ``vmx_at`` and ``context_at`` say where
the kernel itself puts what they point at, and where the handler's context argument (r4 =
sigcontext for a non-RT frame, r5 = ucontext for an RT one) points, all from r1.  The tests
build kernel-exact frames from them (tests/oracle/unwind/) and compare them with qemu-user's frames.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target
from vdsotool.util.records import record

GREG_SLOTS = 48  # ELF_NGREG
NIP, MSR, CTR, LINK, XER, CCR = 32, 33, 35, 36, 37, 38
FPR_COUNT = 32
VR_COUNT = 32
VR_SIZE = 16
MSR_VEC_BIT = 25
MSR_VEC = 1 << MSR_VEC_BIT

# Sizes of what precedes the register pointer (bytes).
PPC32_DUMMY_FRAME = 64  # __SIGNAL_FRAMESIZE32
PPC64_DUMMY_FRAME = 128  # __SIGNAL_FRAMESIZE, popped by the trampoline's addi
PPC32_RT_GAP = 16  # the 32-bit kernel leaves 16 bytes between the dummy frame and rt_sigframe
SIGINFO_SIZE = 128


@record(frozen=True)
class SigFrameLayout:
    """One kind of signal frame, as seen from r1 at the trampoline's first instruction."""

    name: str  # "sigreturn32" | "rt_sigreturn32" | "rt_sigreturn64"
    regsize: int
    ptregs: int  # offset from r1 of the pointer to the gregs block
    vregs: int  # 32-bit: offset of the inline VMX block; 64-bit: of the v_regs pointer
    vregs_is_pointer: bool
    cr_word: int  # byte offset of the 32-bit CR value inside its (register-sized) slot
    vscr_word: int  # byte offset of the VSCR word inside its 16-byte slot
    vrsave_vectors: int  # VRSAVE sits this many 16-byte slots after vregs
    gregs_at: int  # where the kernel puts the gregs block (what *(r1 + ptregs) points at)
    vmx_at: int  # where the kernel puts the VMX block (inline, or what v_regs points at)
    context_at: int  # what the handler's sigcontext (non-RT) / ucontext (RT) argument is

    def greg(self, slot: int) -> int:
        """Offset of gregs slot ``slot`` from the gregs base."""
        return slot * self.regsize

    @property
    def cr(self) -> int:
        return self.greg(CCR) + self.cr_word

    @property
    def fpr0(self) -> int:
        return GREG_SLOTS * self.regsize

    def fpr(self, n: int) -> int:
        return self.fpr0 + 8 * n

    @property
    def vscr(self) -> int:
        return VR_COUNT * VR_SIZE + self.vscr_word

    @property
    def vrsave(self) -> int:
        return self.vrsave_vectors * VR_SIZE


def _sigcontext_regs_offset(regsize: int) -> int:
    # struct sigcontext: _unused[4] (longs), int signal (+pad to long), handler, oldmask -> regs
    return 4 * regsize + regsize + regsize + regsize


def sigreturn32() -> SigFrameLayout:
    sigcontext = PPC32_DUMMY_FRAME
    ptregs = sigcontext + _sigcontext_regs_offset(4)  # 64 + 28 = 92
    # struct sigframe: the sigcontext (ending with the regs pointer), then the mcontext
    gregs = ptregs + 4  # 96
    return SigFrameLayout("sigreturn32", 4, ptregs, _vregs32(), False, 0, 12, 32,
                          gregs, gregs + _vregs32(), sigcontext)


def rt_sigreturn32() -> SigFrameLayout:
    ucontext = PPC32_DUMMY_FRAME + PPC32_RT_GAP + SIGINFO_SIZE  # rt_sigframe: siginfo, ucontext
    uc_header = 4 + 4 + 12  # uc_flags, uc_link, uc_stack (ss_sp, ss_flags, ss_size)
    uc_pad = 7 * 4
    ptregs = ucontext + uc_header + uc_pad  # 256
    # after uc_regs: uc_sigmask (8), uc_maskext[30], uc_pad2[3], then uc_mcontext
    gregs = ptregs + 4 + 8 + 30 * 4 + 3 * 4  # 400
    return SigFrameLayout("rt_sigreturn32", 4, ptregs, _vregs32(), False, 0, 12, 32,
                          gregs, gregs + _vregs32(), ucontext)


def rt_sigreturn64(little: bool) -> SigFrameLayout:
    ucontext = PPC64_DUMMY_FRAME  # rt_sigframe64 starts with its ucontext
    # ucontext: uc_flags, uc_link, uc_stack (24), uc_sigmask (8), __unused[15] sigsets (120)
    uc_mcontext = 8 + 8 + 24 + 8 + 15 * 8  # 168
    ptregs = ucontext + uc_mcontext + _sigcontext_regs_offset(8)  # 352
    gregs = ptregs + 8  # sigcontext.gp_regs follows the regs pointer: 360
    v_regs = GREG_SLOTS * 8 + (FPR_COUNT + 1) * 8  # 648
    # sigcontext.vmx_reserve follows v_regs; the kernel rounds it up to 16 bytes
    vmx = _align16(gregs + v_regs + 8)  # 1024
    # The CR is a 32-bit value in a 64-bit slot: its low half is at +4 on BE, +0 on LE.
    cr_word = 0 if little else 4
    vscr_word = 0 if little else 12
    return SigFrameLayout("rt_sigreturn64", 8, ptregs, v_regs, True, cr_word, vscr_word, 33,
                          gregs, vmx, ucontext)


def _align16(offset: int) -> int:
    return (offset + 15) & ~15  # r1 is 16-byte aligned, so offsets align like addresses


def _vregs32() -> int:
    # 48 gregs, 33 doubles (FPRs + FPSCR), one pad double to 16-byte alignment: 464
    return GREG_SLOTS * 4 + (FPR_COUNT + 2) * 8


def layouts_for(target: Target) -> tuple[SigFrameLayout, ...]:
    """The frames whose trampolines the image for ``target`` carries, in source order."""
    return layouts_of(target.bits, target.little)


def layouts_of(bits: int, little: bool) -> tuple[SigFrameLayout, ...]:
    """The frames a kernel of that word size (32 or 64) and byte order pushes, in source
    order (for an image read from a file, whose target is known only by its ELF class)."""
    if bits == 32:
        return (sigreturn32(), rt_sigreturn32())
    return (rt_sigreturn64(little),)
