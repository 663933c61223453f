"""Generated DWARF CFI of the signal trampolines (the FDE programs of ``vdso_sigframe.inc``).

An unwinder standing in a signal trampoline must not treat it as a normal function: the
"caller" is the interrupted code, whose registers the kernel saved in the signal frame that
r1 points at (layouts: :mod:`vdsotool.abi.sigframes`).  The FDE therefore says:

* the CIE is a *signal frame* ("zRS", ``.cfi_signal_frame``) so the unwinder does not
  subtract 1 from the resumed PC, and its return-address column is 67 ("ap"), which we
  describe as the saved NIP (``.cfi_return_column 67`` in the sources);
* CFA = saved r1: ``DW_CFA_def_cfa_expression: breg1 PTREGS; deref; plus_uconst R; deref``
  (the CIE's initial ``def_cfa r1,0`` is overridden by it);
* every other register is ``DW_CFA_expression``: ``breg1 PTREGS; deref; plus_uconst ofs``,
  the address of its slot: r0, r2-r31, f0-f31, LR (65), NIP (67), CR0-CR7 (68-75, one
  each, all reading the one CR word as the modern kernel does), and the VMX state VR0-31
  (77-108), VRSAVE (109), VSCR (110).

Design choice for the vector registers: the kernel shares "subroutine" bytes between
expressions with DW_OP_skip into VR0's expression. We instead give every vector register a
*self-contained* gated expression — longer, but each one can be read (and decoded) alone:

    breg1 PTREGS; deref; dup; plus_uconst MSR; deref; const4u MSR_VEC; and;
    dup; lit0; eq; bra <end>        -> MSR_VEC clear: the result is 0 (no saved state)
    drop; plus_uconst VREGS; [deref, 64-bit: v_regs is a pointer]; plus_uconst ofs

The bytes are encoded by :mod:`vdsotool.cfi.encode` and rendered as ``.cfi_escape`` lines
inside one ``.macro`` per frame kind, so GNU as and vdsotool's assembler emit the same bytes.
"""

from __future__ import annotations

from functools import lru_cache

from vdsotool.abi import dwarf_regs as R
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import Target
from vdsotool.cfi import dwarf as D
from vdsotool.cfi import model as M
from vdsotool.cfi.encode import CfiEncoding, encode_expr, encode_instr

MACRO_NAMES = {
    "sigreturn32": "VDSO_SIGFRAME_CFI_SIGRETURN32",
    "rt_sigreturn32": "VDSO_SIGFRAME_CFI_RT32",
    "rt_sigreturn64": "VDSO_SIGFRAME_CFI_RT64",
}


@lru_cache(maxsize=None)  # int arguments: the few distinct operations are made once
def _op(opcode: int, *operands: int) -> M.Op:
    return M.Op(opcode, tuple(operands))


# The operations below are immutable values, so the few distinct ones are made once and
# shared by every expression that uses them (keyed by plain ints: cheap to look up).
@lru_cache(maxsize=None)
def _gregs_base(ptregs: int) -> M.Expr:
    """The address of the gregs block: the pointer at ``ptregs`` bytes above r1."""
    return (_op(D.DW_OP_breg0 + 1, ptregs), _op(D.DW_OP_deref))


@lru_cache(maxsize=None)
def _plus(offset: int) -> M.Expr:
    return (_op(D.DW_OP_plus_uconst, offset),) if offset else ()


def cfa_expr(layout: S.SigFrameLayout) -> M.Expr:
    return _gregs_base(layout.ptregs) + _plus(layout.greg(1)) + (_op(D.DW_OP_deref),)


def slot_expr(layout: S.SigFrameLayout, offset: int) -> M.Expr:
    """Address of the slot ``offset`` bytes into the gregs block."""
    return _gregs_base(layout.ptregs) + _plus(offset)


def vector_expr(layout: S.SigFrameLayout, offset: int, enc: CfiEncoding) -> M.Expr:
    """Address ``offset`` bytes into the VMX block, or 0 when MSR_VEC says none was saved."""
    test = _gregs_base(layout.ptregs) + (
        _op(D.DW_OP_dup), *_plus(layout.greg(S.MSR)), _op(D.DW_OP_deref),
        _op(D.DW_OP_const4u, S.MSR_VEC), _op(D.DW_OP_and),
        _op(D.DW_OP_dup), _op(D.DW_OP_lit0), _op(D.DW_OP_eq),
    )
    tail = (_op(D.DW_OP_drop), *_plus(layout.vregs))
    if layout.vregs_is_pointer:
        tail += (_op(D.DW_OP_deref),)
    tail += _plus(offset)
    # bra's displacement counts from the byte after its operand; jumping to the end leaves
    # the (zero) masked MSR as the result.
    skip = len(encode_expr(tail, enc))
    return test + (_op(D.DW_OP_bra, skip),) + tail


def fde_program(layout: S.SigFrameLayout, enc: CfiEncoding) -> list[M.Instr]:
    """The FDE instructions for one trampoline (emitted at its start, no advances)."""
    prog: list[M.Instr] = [M.DefCfaExpression(cfa_expr(layout))]
    for n in [0, *range(2, 32)]:
        prog.append(M.Expression(R.GPR0 + n, slot_expr(layout, layout.greg(n))))
    prog.append(M.Expression(R.AP, slot_expr(layout, layout.greg(S.NIP))))
    prog.append(M.Expression(R.LR, slot_expr(layout, layout.greg(S.LINK))))
    for column in R.CRS:  # the CR word holds all eight fields
        prog.append(M.Expression(column, slot_expr(layout, layout.cr)))
    for n in range(S.FPR_COUNT):
        prog.append(M.Expression(R.FPR0 + n, slot_expr(layout, layout.fpr(n))))
    for n in range(S.VR_COUNT):
        prog.append(M.Expression(R.VR0 + n, vector_expr(layout, n * S.VR_SIZE, enc)))
    prog.append(M.Expression(R.VRSAVE, vector_expr(layout, layout.vrsave, enc)))
    prog.append(M.Expression(R.VSCR, vector_expr(layout, layout.vscr, enc)))
    return prog


_HEX_BYTE = tuple(f"0x{b:02x}" for b in range(256))


def _escape_lines(instr_bytes: bytes) -> list[str]:
    return ["\t.cfi_escape " + ",".join([_HEX_BYTE[b] for b in instr_bytes])]


def render_macro(layout: S.SigFrameLayout, target: Target) -> str:
    enc = CfiEncoding.for_target(target)
    lines = [f".macro {MACRO_NAMES[layout.name]}"]
    for instr in fde_program(layout, enc):
        lines += _escape_lines(encode_instr(instr, enc))
    lines.append(".endm")
    return "\n".join(lines) + "\n"


def asm_include(target: Target, layouts: tuple[S.SigFrameLayout, ...] | None = None) -> str:
    """Text of ``vdso_sigframe.inc`` for ``target``: one macro per signal-frame kind.
    ``layouts`` replaces the target's own (the tests build images from altered copies)."""
    head = (f"# generated by vdsotool from vdsotool/abi/sigframes.py for {target.name}: "
            "do not edit\n")
    chosen = S.layouts_for(target) if layouts is None else layouts
    return head + "".join(render_macro(lay, target) for lay in chosen)
