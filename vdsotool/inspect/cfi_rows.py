"""Run a CIE's and an FDE's CFA program into the row table, in GNU readelf's vocabulary.

A row holds, from its address on, the CFA rule and one rule per register. Cells follow
``readelf --debug-dump=frames-interp``: CFA ``r1+0`` or ``exp``; a register ``u``
(undefined), ``s`` (same value), ``c-8`` (saved at CFA-8), ``v+8`` (value CFA+8), ``r12``
(held in r12), ``exp``/``vexp`` (expression). The return-address column is named ``ra``.
The program runs with a step bound, so a corrupted image cannot make this loop.
"""

from __future__ import annotations

from vdsotool.cfi import model as M
from vdsotool.cfi.decode import Cie, Fde
from vdsotool.errors import ImageLoc, VdsoError
from vdsotool.util.records import record

MAX_STATE_DEPTH = 64
# A hostile .eh_frame can set thousands of registers and advance thousands of times; the
# tables would grow as their product. One FDE's rows, and dump's tables and instructions of
# all records together (rows x columns), stay below this; a vDSO's hold a few hundred.
MAX_CELLS = 100_000


@record(frozen=True)
class Row:
    loc: int
    cfa: str
    regs: dict[int, str]  # register -> cell; registers never set are absent


def _cell(instr: M.Instr) -> tuple[int, str] | None:
    if isinstance(instr, M.Offset):
        return instr.reg, f"c{instr.offset:+d}"
    if isinstance(instr, M.ValOffset):
        return instr.reg, f"v{instr.offset:+d}"
    if isinstance(instr, M.Register):
        return instr.reg, f"r{instr.reg2}"
    if isinstance(instr, M.Undefined):
        return instr.reg, "u"
    if isinstance(instr, M.SameValue):
        return instr.reg, "s"
    if isinstance(instr, M.Expression):
        return instr.reg, "exp"
    if isinstance(instr, M.ValExpression):
        return instr.reg, "vexp"
    return None


class _State:
    def __init__(self) -> None:
        self.cfa_reg: int | None = None
        self.cfa_off = 0
        self.cfa_exp = False
        self.regs: dict[int, str] = {}

    def cfa(self) -> str:
        if self.cfa_exp:
            return "exp"
        return "u" if self.cfa_reg is None else f"r{self.cfa_reg}{self.cfa_off:+d}"

    def copy(self) -> "_State":
        s = _State()
        s.cfa_reg, s.cfa_off, s.cfa_exp, s.regs = (self.cfa_reg, self.cfa_off,
                                                   self.cfa_exp, dict(self.regs))
        return s


def _apply(state: _State, instr: M.Instr, initial: dict[int, str],
           stack: list[_State]) -> None:
    cell = _cell(instr)
    if cell is not None:
        state.regs[cell[0]] = cell[1]
    elif isinstance(instr, M.DefCfa):
        state.cfa_reg, state.cfa_off, state.cfa_exp = instr.reg, instr.offset, False
    elif isinstance(instr, M.DefCfaRegister):
        state.cfa_reg, state.cfa_exp = instr.reg, False
    elif isinstance(instr, M.DefCfaOffset):
        state.cfa_off, state.cfa_exp = instr.offset, False
    elif isinstance(instr, M.DefCfaExpression):
        state.cfa_exp = True
    elif isinstance(instr, M.Restore):
        # back to the CIE's rule; a register the CIE never set becomes undefined
        state.regs[instr.reg] = initial.get(instr.reg, "u")
    elif isinstance(instr, M.RememberState) and len(stack) < MAX_STATE_DEPTH:
        stack.append(state.copy())
    elif isinstance(instr, M.RestoreState) and stack:
        saved = stack.pop()
        state.regs = saved.regs  # the CFA rule is not part of the saved state in readelf
        state.cfa_reg, state.cfa_off, state.cfa_exp = saved.cfa_reg, saved.cfa_off, saved.cfa_exp


def cie_rows(cie: Cie) -> list[Row]:
    state = _State()
    for d in cie.instrs:
        _apply(state, d.instr, {}, [])
    return [Row(0, state.cfa(), dict(state.regs))]


def fde_rows(cie: Cie, fde: Fde, path: str = "<image>") -> list[Row]:
    """The row table of one FDE: a row at pc_begin, then one per advance that changes it."""
    state = _State()
    for d in cie.instrs:
        _apply(state, d.instr, {}, [])
    initial = dict(state.regs)
    stack: list[_State] = []
    rows: list[Row] = []
    loc = fde.pc_begin
    cells = 0
    for d in fde.instrs:
        instr = d.instr
        if isinstance(instr, (M.AdvanceLoc, M.SetLoc)):
            cells += len(state.regs) + 1
            if cells > MAX_CELLS:
                raise VdsoError.at(ImageLoc(path, fde.offset),
                                   f"FDE row table larger than {MAX_CELLS} cells")
            rows.append(Row(loc, state.cfa(), dict(state.regs)))
            loc = loc + instr.delta if isinstance(instr, M.AdvanceLoc) else instr.address
        else:
            _apply(state, instr, initial, stack)
    rows.append(Row(loc, state.cfa(), dict(state.regs)))
    # readelf prints one row per location: a later row at the same address replaces it
    merged: dict[int, Row] = {}
    for row in rows:
        merged[row.loc] = row
    return list(merged.values())


def columns(cie: Cie, rows: list[Row]) -> list[int]:
    """Registers that get a column: every register with a rule in any row, in order."""
    regs = {r for row in rows for r in row.regs}
    return sorted(regs)


def reg_label(reg: int, ra_reg: int) -> str:
    return "ra" if reg == ra_reg else f"r{reg}"
