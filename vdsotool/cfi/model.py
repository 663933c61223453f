"""Call-frame information as values: CFA instructions and DWARF expressions.

DWARF CFI (DWARF 4 §6.4, as carried in ``.eh_frame``) describes, for every code address,
how to find the caller's frame: the CFA (canonical frame address) and a *rule* per register
(undefined, same value, saved at CFA+n, held in another register, located by an expression…).
A frame's rules are produced by a small program of *CFA instructions* run from the start of
the function; ``DW_CFA_advance_loc`` moves the address at which the next rules take effect.

This module holds only the model. Bytes come from :mod:`vdsotool.cfi.encode`, text from the
printer in :mod:`vdsotool.inspect`. Offsets here are plain byte offsets; the encoder applies
the code and data alignment factors of the CIE. Register numbers are DWARF numbers
(:mod:`vdsotool.abi.dwarf_regs`).

A DWARF expression is a tuple of :class:`Op`; each op is an opcode (``DW_OP_*`` from
:mod:`vdsotool.cfi.dwarf`) and its operands. For ``DW_OP_skip``/``DW_OP_bra`` the operand is
the signed 16-bit byte displacement exactly as encoded (the signal-frame CFI of the kernel
deliberately branches out of one expression into another one's bytes).
"""

from __future__ import annotations

from vdsotool.util.records import record


@record(frozen=True)
class Op:
    """One DWARF expression operation."""

    opcode: int
    operands: tuple[int, ...] = ()


Expr = tuple[Op, ...]


class Instr:
    """Base of all CFA instructions (a marker; every instruction is a frozen record)."""


@record(frozen=True)
class AdvanceLoc(Instr):
    """Move the location by ``delta`` bytes (encoded factored by the code alignment)."""

    delta: int


@record(frozen=True)
class SetLoc(Instr):
    address: int


@record(frozen=True)
class DefCfa(Instr):
    reg: int
    offset: int


@record(frozen=True)
class DefCfaRegister(Instr):
    reg: int


@record(frozen=True)
class DefCfaOffset(Instr):
    offset: int


@record(frozen=True)
class DefCfaExpression(Instr):
    expr: Expr


@record(frozen=True)
class Offset(Instr):
    """Register saved at CFA + ``offset`` (bytes)."""

    reg: int
    offset: int


@record(frozen=True)
class ValOffset(Instr):
    reg: int
    offset: int


@record(frozen=True)
class Register(Instr):
    """Register ``reg`` is held in register ``reg2``."""

    reg: int
    reg2: int


@record(frozen=True)
class Restore(Instr):
    reg: int


@record(frozen=True)
class Undefined(Instr):
    reg: int


@record(frozen=True)
class SameValue(Instr):
    reg: int


@record(frozen=True)
class Expression(Instr):
    """Register saved at the address the expression computes (CFA pushed first)."""

    reg: int
    expr: Expr


@record(frozen=True)
class ValExpression(Instr):
    reg: int
    expr: Expr


@record(frozen=True)
class RememberState(Instr):
    pass


@record(frozen=True)
class RestoreState(Instr):
    pass


@record(frozen=True)
class GnuArgsSize(Instr):
    size: int


@record(frozen=True)
class Nop(Instr):
    pass


@record(frozen=True)
class Escape(Instr):
    """Raw instruction bytes (``.cfi_escape``), emitted verbatim."""

    data: bytes
