"""Symbolic evaluation of a DWARF expression, to say *where* a CFI rule points.

``dump`` cannot run an expression (there is no interrupted process), but it can run it on
symbols: ``DW_OP_breg1 352`` pushes "r1+352", ``DW_OP_deref`` turns that into "the word
stored at r1+352", ``DW_OP_plus_uconst 16`` adds to it. The result of a signal-frame rule
is then a term such as ``load(r1+352)+16``: "16 bytes into the block whose pointer is at
r1+352", which :mod:`vdsotool.inspect.sigframe_notes` names with the layout data.

Conditional branches on an unknown value (the MSR_VEC test of the vector rules) fork the
evaluation; each outcome carries the assumptions of its path ("this value is zero", "this
value is not zero"), and a result known to be zero under its path's assumptions becomes the
constant 0. ``DW_OP_skip``/``DW_OP_bra`` are followed through the bytes of the whole record,
as libgcc does (the kernel's vector rules skip backwards into VR0's expression); evaluation
ends when control leaves the expression forwards, like libgcc's ``op_ptr < op_end`` loop.

Only the operations these rules need are modelled; anything else (an unknown register
value multiplied, a jump out of the record, too many steps or paths) makes the whole
expression :class:`Unplaceable` — shown as such, never guessed. Step and path limits keep
a hostile image bounded.
"""

from __future__ import annotations

from vdsotool.cfi import dwarf as D
from vdsotool.cfi.decode import decode_op_at
from vdsotool.util.records import record

MAX_STEPS = 512  # per path; the longest real rule (kernel VR31 via VR0) takes ~25
MAX_PATHS = 8
MAX_NESTING = 16  # loads of loads...: the real rules nest 3 deep; deep terms would recurse


RECORD_STEPS = 20_000  # per CIE/FDE and pass: a real signal FDE takes ~3,000


class Unplaceable(Exception):
    """The expression uses something the symbolic evaluator does not model."""


@record
class Budget:
    """Steps left for all the rules of one record: thousands of hostile rules, each
    within its own limit, must still not add up to minutes."""

    steps: int = RECORD_STEPS

    def spend(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise Unplaceable("the record's evaluation budget is spent")


@record(frozen=True)
class Val:
    """``base + off``: base None is a constant; otherwise a term tuple:
    ``("reg", n)`` register n at the trampoline, ``("cfa",)`` the CFA (pushed before a
    register rule runs), ``("load", Val)`` the word stored at an address, ``("and", Val,
    mask)`` a loaded value masked, ``("eq0", Val)`` 1 if the value is zero else 0."""

    base: tuple | None
    off: int = 0

    @property
    def const(self) -> bool:
        return self.base is None


@record(frozen=True)
class Outcome:
    value: Val
    assumptions: tuple[tuple[Val, bool], ...]  # (value, is_zero) along this path


@record
class _Path:
    pc: int
    stack: list[Val]
    assumptions: tuple[tuple[Val, bool], ...]
    steps: int = 0


def evaluate(data: bytes, start: int, end: int, bounds: tuple[int, int], little: bool,
             word: int, push_cfa: bool, budget: Budget | None = None) -> list[Outcome]:
    """Run the expression at ``data[start:end]`` symbolically; ``bounds`` are the bytes a
    branch may reach (its record). ``push_cfa`` for register rules, whose stack starts with
    the CFA; ``budget`` is shared by the rules of one record. Raises
    :class:`Unplaceable`."""
    budget = budget or Budget()
    mask = (1 << (8 * word)) - 1
    paths = [_Path(start, [Val(("cfa",))] if push_cfa else [], ())]
    done: list[Outcome] = []
    while paths:
        path = paths.pop()
        while path.pc < end:
            path.steps += 1
            budget.spend()
            if path.steps > MAX_STEPS:
                raise Unplaceable("too many steps")
            op = decode_op_at(data, path.pc, bounds[0], bounds[1], little, word)
            if op is None:
                raise Unplaceable(f"no DWARF operation at file offset {path.pc:#x}")
            path.pc = op.offset + len(op.raw)
            fork = _step(path, op.op.opcode, op.op.operands, mask)
            if fork is not None:
                paths.append(fork)
                if len(paths) + len(done) > MAX_PATHS:
                    raise Unplaceable("too many paths")
        if not path.stack:
            raise Unplaceable("empty stack at the end")
        done.append(Outcome(_settle(path.stack[-1], path.assumptions), path.assumptions))
    return done


def _nested(kind: str, inner: Val, *extra: int) -> Val:
    """A term over ``inner``; refused past MAX_NESTING levels (a hostile chain of derefs)."""
    depth, v = 0, inner
    while v.base is not None and v.base[0] in ("load", "and", "eq0"):
        depth, v = depth + 1, v.base[1]
        if depth >= MAX_NESTING:
            raise Unplaceable("terms nested too deep")
    return Val((kind, inner, *extra))


def _settle(value: Val, assumptions) -> Val:
    """A result this path assumed to be zero is the constant 0."""
    return Val(None, 0) if (value, True) in assumptions else value


def _pop(path: _Path) -> Val:
    if not path.stack:
        raise Unplaceable("stack underflow")
    return path.stack.pop()


def _step(path: _Path, opcode: int, operands: tuple[int, ...], mask: int) -> _Path | None:
    """Apply one op; returns the other path of a branch on an unknown condition."""
    stack = path.stack
    if D.DW_OP_lit0 <= opcode <= D.DW_OP_lit0 + 31:
        stack.append(Val(None, opcode - D.DW_OP_lit0))
    elif D.DW_OP_breg0 <= opcode <= D.DW_OP_breg0 + 31:
        stack.append(Val(("reg", opcode - D.DW_OP_breg0), operands[0]))
    elif opcode == D.DW_OP_bregx:
        stack.append(Val(("reg", operands[0]), operands[1]))
    elif opcode in _CONSTS:
        stack.append(Val(None, operands[0] & mask))
    elif opcode in (D.DW_OP_deref, D.DW_OP_deref_size):
        stack.append(_nested("load", _pop(path)))
    elif opcode == D.DW_OP_plus_uconst:
        v = _pop(path)
        stack.append(Val(v.base, (v.off + operands[0]) & mask))
    elif opcode in _BINARY:
        b, a = _pop(path), _pop(path)
        stack.append(_BINARY[opcode](a, b, mask))
    elif opcode in _STACK_OPS:
        _STACK_OPS[opcode](path, operands)
    elif opcode == D.DW_OP_skip:
        path.pc += operands[0]
    elif opcode == D.DW_OP_bra:
        return _branch(path, _pop(path), operands[0])
    elif opcode != D.DW_OP_nop:
        raise Unplaceable(f"{D.op_name(opcode)} is not modelled")
    return None


def _branch(path: _Path, cond: Val, disp: int) -> _Path | None:
    if cond.const:
        if cond.off:
            path.pc += disp
        return None
    # An unknown condition: "cond is zero" falls through, "cond is not zero" branches.
    # eq0(v) is itself a condition on v: taken when v is zero.
    subject, taken_if_zero = (cond.base[1], True) if cond.base[0] == "eq0" and not cond.off \
        else (cond, False)
    other = _Path(path.pc + disp, list(path.stack),
                  path.assumptions + ((subject, taken_if_zero),), path.steps)
    path.assumptions += ((subject, not taken_if_zero),)
    return other


def _plus(a: Val, b: Val, mask: int) -> Val:
    if a.const or b.const:
        base = b.base if a.const else a.base
        return Val(base, (a.off + b.off) & mask)
    raise Unplaceable("sum of two unknown values")


def _minus(a: Val, b: Val, mask: int) -> Val:
    if b.const:
        return Val(a.base, (a.off - b.off) & mask)
    raise Unplaceable("difference of unknown values")


def _consts_only(fn):
    def apply(a: Val, b: Val, mask: int) -> Val:
        if a.const and b.const:
            return Val(None, fn(a.off, b.off) & mask)
        raise Unplaceable("arithmetic on an unknown value")
    return apply


def _and(a: Val, b: Val, mask: int) -> Val:
    if a.const and b.const:
        return Val(None, a.off & b.off)
    if a.const or b.const:
        value, bits = (b, a.off) if a.const else (a, b.off)
        return _nested("and", value, bits)
    raise Unplaceable("and of two unknown values")


def _eq(a: Val, b: Val, mask: int) -> Val:
    if a.const and b.const:
        return Val(None, int(a.off == b.off))
    if b == Val(None, 0) or a == Val(None, 0):
        return _nested("eq0", b if a.const else a)
    raise Unplaceable("comparison of unknown values")


_CONSTS = {D.DW_OP_const1u, D.DW_OP_const1s, D.DW_OP_const2u, D.DW_OP_const2s,
           D.DW_OP_const4u, D.DW_OP_const4s, D.DW_OP_const8u, D.DW_OP_const8s,
           D.DW_OP_constu, D.DW_OP_consts, D.DW_OP_addr}
_BINARY = {D.DW_OP_plus: _plus, D.DW_OP_minus: _minus, D.DW_OP_and: _and, D.DW_OP_eq: _eq,
           D.DW_OP_mul: _consts_only(lambda a, b: a * b),
           D.DW_OP_or: _consts_only(lambda a, b: a | b),
           D.DW_OP_shl: _consts_only(lambda a, b: a << min(b, 64))}


def _dup(path: _Path, _ops) -> None:
    path.stack.append(_top(path, 0))


def _drop(path: _Path, _ops) -> None:
    _pop(path)


def _over(path: _Path, _ops) -> None:
    path.stack.append(_top(path, 1))


def _pick(path: _Path, ops) -> None:
    path.stack.append(_top(path, ops[0]))


def _swap(path: _Path, _ops) -> None:
    b, a = _pop(path), _pop(path)
    path.stack += [b, a]


def _rot(path: _Path, _ops) -> None:
    c, b, a = _pop(path), _pop(path), _pop(path)
    path.stack += [c, a, b]


def _top(path: _Path, depth: int) -> Val:
    if depth >= len(path.stack):
        raise Unplaceable("stack underflow")
    return path.stack[-1 - depth]


_STACK_OPS = {D.DW_OP_dup: _dup, D.DW_OP_drop: _drop, D.DW_OP_over: _over,
              D.DW_OP_pick: _pick, D.DW_OP_swap: _swap, D.DW_OP_rot: _rot}
