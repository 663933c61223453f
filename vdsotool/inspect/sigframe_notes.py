"""Meanings for the DWARF expressions of signal-trampoline FDEs (kernel-style layout).

A signal trampoline's CFI cannot say "CFA = r1 + n": the interrupted frame is described
by the saved register block (``pt_regs``/``mcontext.gregs``) that the kernel pushed. So
every rule is an expression that starts from r1 at the trampoline, loads the pointer to
that block (``breg1 PTREGS; deref``) and adds the slot offset:

* CFA = the saved r1: ``breg1 P; deref; plus_uconst R; deref`` (R = register size);
* register n saved at ``gregs + n*R`` (r0-r31), slot 32 is the NIP, 36 LR, 38 CCR;
* FPRs start at slot 48 (``gregs + 48*R + n*8``);
* vector registers test the MSR_VEC bit (1 << 25) of the saved MSR and ``bra`` past the
  end when it is clear; VR1-VR31 and VSCR reuse VR0's bytes through a backwards ``skip``.

These notes are advisory text for ``dump``; nothing depends on them.
"""

from __future__ import annotations

from vdsotool.abi import sigframes as S
from vdsotool.cfi import dwarf as D

# The slot numbers and the MSR_VEC bit are the layout data of vdsotool/abi/sigframes.py.
MSR_VEC = S.MSR_VEC
GREGS_SLOTS = {S.NIP: "nip", S.MSR: "msr", S.CTR: "ctr", S.LINK: "link (LR)", S.XER: "xer",
               S.CCR: "ccr"}
FPR_SLOT = S.GREG_SLOTS  # the FPR block follows the ELF_NGREG register-sized slots


def note_for(ops: tuple, word: int, is_cfa: bool = False) -> str | None:
    """A one-line meaning of an expression's ops (DecodedOp values), or None."""
    codes = [d.op.opcode for d in ops]
    operands = [d.op.operands for d in ops]
    if D.DW_OP_const4u in codes and operands[codes.index(D.DW_OP_const4u)] == (MSR_VEC,) \
            and D.DW_OP_bra in codes:
        return "vector register save, only when MSR_VEC is set in the saved MSR"
    if len(codes) == 2 and codes[1] == D.DW_OP_skip and operands[1][0] < 0:
        if D.DW_OP_lit0 <= codes[0] <= D.DW_OP_lit0 + 31:
            return f"VR{codes[0] - D.DW_OP_lit0}: continues in VR0's expression (skip back)"
        return "continues in another expression's bytes (skip back), e.g. VSCR via VR0"
    if len(codes) < 2 or codes[0] != D.DW_OP_breg0 + 1 or codes[1] != D.DW_OP_deref:
        return None
    rest = list(zip(codes[2:], operands[2:]))
    if is_cfa and rest == [(D.DW_OP_plus_uconst, (word,)), (D.DW_OP_deref, ())]:
        return "CFA = saved r1 (gregs[1]) of the interrupted frame"
    if not rest:
        return "saved at gregs[0] (r0)"
    if len(rest) == 1 and rest[0][0] == D.DW_OP_plus_uconst:
        return "saved at " + _slot_name(rest[0][1][0], word)
    return None


def _slot_name(offset: int, word: int) -> str:
    slot, extra = divmod(offset, word)
    if slot >= FPR_SLOT:
        fpr, part = divmod(offset - FPR_SLOT * word, 8)
        if fpr > S.FPR_COUNT:  # past the FPRs and FPSCR: not a slot of the register block
            return f"gregs + {offset:#x}"
        return f"the FPR block: f{fpr}" + (f" +{part}" if part else "")
    name = f"r{slot}" if slot < 32 else GREGS_SLOTS.get(slot, f"slot {slot}")
    return f"gregs[{slot}] ({name})" + (f" +{extra}" if extra else "")
