"""What the signal-trampoline CFI says: where each interrupted register is found.

A signal trampoline's CFI cannot say "CFA = r1 + n": the interrupted frame is described
by the saved register block (``pt_regs``/``mcontext.gregs``) that the kernel pushed. Its
rules are expressions that start from r1 at the trampoline, load the pointer to that block
(``breg1 PTREGS; deref``) and add the slot offset:

* CFA = the saved r1: the value at ``gregs[1]``;
* a register saved at ``gregs + n*R`` (R = register size): r0-r31 in slots 0-31, the NIP
  in 32, LR in 36, the CR word in 38 (its low half, +4 on a 64-bit big-endian image);
* the FPRs after the 48 slots: ``fp_regs[n]`` at ``gregs + 48*R + n*8``;
* the vector state in the VMX block (inline after the FPRs on 32-bit, through the
  ``v_regs`` pointer on 64-bit), guarded by the MSR_VEC bit of the saved MSR: with the bit
  clear the expression yields 0 instead of an address (nothing was saved).

Nothing here is read from the layout blindly: every rule is evaluated symbolically
(:mod:`vdsotool.inspect.cfi_eval`) and the address it computes is then *named* with the
layout data of :mod:`vdsotool.abi.sigframes` (slot numbers, block sizes, the VMX block's
place). If an image's CFI points elsewhere, the note and the summary say where; when it
differs from the kernel layout matched by the frame pointer's offset, they say that too.
A register without a rule is listed as not described.
"""

from __future__ import annotations

from vdsotool.abi import dwarf_regs as R
from vdsotool.abi import sigframes as S
from vdsotool.cfi import model as M
from vdsotool.inspect.cfi_eval import Budget, Outcome, Unplaceable, Val, evaluate
from vdsotool.util.records import field, record

GREG_NAMES = {S.NIP: "nip", S.MSR: "msr", S.CTR: "ctr", S.LINK: "lr", S.XER: "xer",
              S.CCR: "cr"}
HEADING = "Where the interrupted registers are"


@record(frozen=True)
class Place:
    """A named address: ``block[index]+extra (detail)``; ``area``/``offset`` are the raw
    byte offset into the gregs or VMX block (what the layout comparison uses)."""

    block: str  # "gregs", "fp_regs", "vmx.vr", "vmx", or a description
    index: int | None
    extra: int = 0
    detail: str = ""
    area: str = ""
    offset: int | None = None

    def text(self) -> str:
        where = self.block if self.index is None else f"{self.block}[{self.index}]"
        return where + (f"+{self.extra}" if self.extra else "") + \
            (f" ({self.detail})" if self.detail else "")


@record(frozen=True)
class RuleMeaning:
    place: Place | None  # None: the CFI's rule could not be placed
    gate: str | None = None  # "only when ..." for a guarded rule
    otherwise: str | None = None  # what the rule yields when the guard fails
    raw: str = ""  # a fallback description when place is None

    def text(self) -> str:
        if self.place is None:
            return self.raw
        out = self.place.text()
        if self.gate:
            out += f", only when {self.gate}"
        if self.otherwise:
            out += f", else {self.otherwise}"
        return out


@record
class Frame:
    """How to name addresses for one FDE: the word size, byte order, the layout matched by
    the frame pointer's offset (``ptregs``), and that offset as the CFI has it."""

    word: int
    little: bool
    layout: S.SigFrameLayout
    known: bool  # the layout's ptregs is the CFI's (else it only lends the slot names)
    ptregs: int


def frame_for(ptregs: int | None, word: int, little: bool) -> Frame:
    layouts = S.layouts_of(word * 8, little)
    for lay in layouts:
        if lay.ptregs == ptregs:
            return Frame(word, little, lay, True, ptregs)
    return Frame(word, little, layouts[0], False,
                 layouts[0].ptregs if ptregs is None else ptregs)


# --- naming addresses ----------------------------------------------------------------------

def gregs_pointer(term: tuple | None) -> int | None:
    """P when ``term`` is "the word stored at r1+P" (the pointer to the gregs block)."""
    if term and term[0] == "load" and term[1].base == ("reg", 1):
        return term[1].off
    return None


def name_address(addr: Val, frame: Frame) -> Place | None:
    if addr.base == ("cfa",):
        return Place(f"CFA{addr.off:+d}", None)
    if addr.base and addr.base[0] == "reg":  # on the stack at the trampoline, not the frame
        return Place(f"{R.reg_name(addr.base[1])}{addr.off:+d}", None)
    ptr = gregs_pointer(addr.base)
    if ptr is not None:
        return _gregs_place(addr.off, ptr, frame)
    if addr.base and addr.base[0] == "load":
        inner = addr.base[1]
        ptr = gregs_pointer(inner.base)
        if ptr is not None:
            return _pointed_place(inner.off, addr.off, ptr, frame)
    return None


def _block(ptr: int, frame: Frame) -> str:
    return "gregs" if ptr == frame.ptregs else f"gregs@r1+{ptr}"


def _gregs_place(off: int, ptr: int, frame: Frame) -> Place:
    """``off`` bytes into the register block: a gregs slot, an FPR, or (32-bit) the inline
    VMX block."""
    lay, word = frame.layout, frame.word
    block = _block(ptr, frame)
    if off < S.GREG_SLOTS * word:
        slot, extra = divmod(off, word)
        return Place(block, slot, extra, _greg_detail(slot, extra, frame), "gregs", off)
    fpr, extra = divmod(off - lay.fpr0, 8)
    if fpr <= S.FPR_COUNT:  # 32 FPRs, then the FPSCR double
        detail = "fpscr double" if fpr == S.FPR_COUNT else ""
        return Place("fp_regs" if block == "gregs" else f"{block}.fp_regs", fpr, extra,
                     detail, "gregs", off)
    if not lay.vregs_is_pointer and off >= lay.vregs and block == "gregs":
        return _vmx_place(off - lay.vregs, f"inline at gregs+{lay.vregs}", frame)
    return Place(f"{block}+{off:#x}", None, 0, "", "gregs", off)


def _greg_detail(slot: int, extra: int, frame: Frame) -> str:
    name = f"r{slot}" if slot < 32 else GREG_NAMES.get(slot, f"slot {slot}")
    if frame.word == 8 and extra in (0, 4):
        # a 32-bit value in a 64-bit slot: its low half is at +4 big-endian, +0 little-endian
        low = (extra == 0) if frame.little else (extra == 4)
        endian = "little" if frame.little else "big"
        if slot == S.CCR or extra:
            return f"{name}, {'low' if low else 'high'} 32-bit half on {endian}-endian"
    return name if slot >= 32 else ""


def _pointed_place(pointer_off: int, off: int, ptr: int, frame: Frame) -> Place:
    lay = frame.layout
    if lay.vregs_is_pointer and pointer_off == lay.vregs and ptr == frame.ptregs:
        return _vmx_place(off, f"v_regs pointer at gregs+{pointer_off}", frame)
    where = _gregs_place(pointer_off, ptr, frame).text()
    return Place(f"+{off:#x} into the block whose pointer is at {where}", None, 0, "",
                 "other", None)


def _vmx_place(off: int, how: str, frame: Frame) -> Place:
    lay = frame.layout
    detail = f"vmx+{off}, {how}" if how else f"vmx+{off}"  # no empty part in the text
    if off == lay.vscr:
        return Place("vmx.vscr", None, 0, detail, "vmx", off)
    if off == lay.vrsave:
        return Place("vmx.vrsave", None, 0, detail, "vmx", off)
    vr, extra = divmod(off, S.VR_SIZE)
    if vr < S.VR_COUNT:
        return Place("vmx.vr", vr, extra, how, "vmx", off)
    return Place(f"vmx+{off}", None, 0, how, "vmx", off)


# --- the meaning of one rule -----------------------------------------------------------------

def meaning_of(outcomes: list[Outcome], frame: Frame, is_value: bool) -> RuleMeaning:
    """Name the outcome(s) of a rule. ``is_value``: the result is the register's value (the
    CFA), not the address it is saved at."""
    placed = [o for o in outcomes if not o.value.const]
    consts = [o for o in outcomes if o.value.const]
    if len(placed) != 1:
        return RuleMeaning(None, raw="not a single place: " +
                           " or ".join(term_text(o.value) for o in outcomes))
    value = placed[0].value
    if is_value:
        # the value stored at an address: named by that address (r1's saved slot)
        loaded = value.base and value.base[0] == "load" and not value.off
        place = name_address(value.base[1], frame) if loaded else None
    else:
        place = name_address(value, frame)
    if place is None:
        return RuleMeaning(None, raw=term_text(value))
    gate = " and ".join(_condition_text(v, zero, frame)
                        for v, zero in placed[0].assumptions) or None
    otherwise = " or ".join(sorted({_const_text(o.value.off, is_value) for o in consts})) or None
    return RuleMeaning(place, gate, otherwise)


def cfa_text(meaning: RuleMeaning, frame: Frame) -> str:
    saved_r1 = meaning.place is not None and _is_gregs_slot(meaning.place, 1, frame)
    return meaning.text() + (" = the saved r1" if saved_r1 else "")


def _is_gregs_slot(place: Place, slot: int, frame: Frame) -> bool:
    return place.block == "gregs" and place.index == slot and not place.extra


def _const_text(value: int, is_value: bool) -> str:
    if is_value:
        return f"the value {value:#x}"
    return "address 0 (not saved)" if value == 0 else f"address {value:#x}"


def _condition_text(value: Val, is_zero: bool, frame: Frame) -> str:
    """``MSR_VEC is set in the saved MSR (gregs[33])`` for the kernel's guard, else the
    term spelled out."""
    if value.base and value.base[0] == "and" and not value.off:
        masked, bits = value.base[1], value.base[2]
        if masked.base and masked.base[0] == "load" and not masked.off:
            where = name_address(masked.base[1], frame)
            if where and _is_gregs_slot(where, S.MSR, frame) and bits == S.MSR_VEC:
                state = "clear" if is_zero else "set"
                return f"MSR_VEC is {state} in the saved MSR (gregs[{S.MSR}])"
    return f"{term_text(value)} {'==' if is_zero else '!='} 0"


def term_text(v: Val) -> str:
    """A symbolic value spelled out: ``*(r1+352)+16``, ``(*(…) & 0x2000000)``."""
    if v.base is None:
        return f"{v.off:#x}"
    kind = v.base[0]
    if kind == "reg":
        head = R.reg_name(v.base[1])
    elif kind == "cfa":
        head = "CFA"
    elif kind == "load":
        head = f"*({term_text(v.base[1])})"
    elif kind == "and":
        head = f"({term_text(v.base[1])} & {v.base[2]:#x})"
    else:
        head = f"({term_text(v.base[1])} == 0)"
    return head + (f"{v.off:+d}" if v.off else "")


# --- one FDE: rules at the trampoline, notes, summary -----------------------------------------

@record
class Image:
    """What evaluation needs of the image: its bytes and target properties, and the step
    budget of the record being evaluated (see :meth:`for_record`)."""

    data: bytes
    word: int
    little: bool
    budget: Budget = field(default_factory=Budget)

    def for_record(self) -> "Image":
        return Image(self.data, self.word, self.little)


def expr_span(d) -> tuple[int, int]:
    """(start, end) file offsets of a decoded instruction's expression block (the block is
    the instruction's last field)."""
    end = d.offset + len(d.raw)
    return end - sum(len(op.raw) for op in d.expr), end


def evaluate_rule(img: Image, d, bounds: tuple[int, int]) -> list[Outcome]:
    start, end = expr_span(d)
    return evaluate(img.data, start, end, bounds, img.little, img.word,
                    push_cfa=not isinstance(d.instr, M.DefCfaExpression), budget=img.budget)


def cfa_pointer(img: Image, cfa, bounds) -> int | None:
    """The P of a CFA rule "the value at *(r1+P)+k": the offset of the gregs pointer."""
    if cfa is None or not isinstance(cfa.instr, M.DefCfaExpression):
        return None
    try:
        outcomes = evaluate_rule(img, cfa, bounds)
    except Unplaceable:
        return None
    value = outcomes[0].value
    if len(outcomes) == 1 and value.base and value.base[0] == "load" and not value.off:
        return gregs_pointer(value.base[1].base)
    return None


def note_for_rule(img: Image, d, bounds, frame: Frame, ra_column: int) -> str | None:
    """The ``; note`` of one expression instruction, or None when nothing is placed."""
    try:
        outcomes = evaluate_rule(img, d, bounds)
    except Unplaceable:
        return None
    is_cfa = isinstance(d.instr, M.DefCfaExpression)
    meaning = meaning_of(outcomes, frame, is_value=is_cfa or isinstance(d.instr,
                                                                         M.ValExpression))
    if meaning.place is None:
        return None
    if is_cfa:
        return f"CFA = the value at {cfa_text(meaning, frame)}"
    what = "value" if isinstance(d.instr, M.ValExpression) else "saved at"
    return f"{R.column_name(d.instr.reg, ra_column)} {what} {meaning.text()}"


def rules_at(cie, fde, addr: int) -> tuple[object | None, dict[int, object]]:
    """The CFA instruction and register -> rule instruction in effect at ``addr``."""
    cfa, regs = None, {}
    for d in cie.instrs:
        cfa, regs = _track(d, cfa, regs, {}, [])
    initial = dict(regs)
    stack: list = []
    loc = fde.pc_begin
    for d in fde.instrs:
        if isinstance(d.instr, (M.AdvanceLoc, M.SetLoc)):
            loc = loc + d.instr.delta if isinstance(d.instr, M.AdvanceLoc) else d.instr.address
            if loc > addr:
                break
            continue
        cfa, regs = _track(d, cfa, regs, initial, stack)
    return cfa, regs


_CFA_INSTRS = (M.DefCfa, M.DefCfaRegister, M.DefCfaOffset, M.DefCfaExpression)


def _track(d, cfa, regs: dict, initial: dict, stack: list):
    instr = d.instr
    if isinstance(instr, _CFA_INSTRS):
        cfa = d
    elif isinstance(instr, M.Restore):
        regs.pop(instr.reg, None)
        if instr.reg in initial:
            regs[instr.reg] = initial[instr.reg]
    elif isinstance(instr, M.RememberState) and len(stack) < 64:
        stack.append(dict(regs))
    elif isinstance(instr, M.RestoreState) and stack:
        regs = stack.pop()
    elif hasattr(instr, "reg") and not isinstance(instr, M.GnuArgsSize):
        regs[instr.reg] = d
    return cfa, regs


# --- the summary ---------------------------------------------------------------------------

def _summary_columns(ra_column: int) -> list[tuple[str, list[int]]]:
    """Register classes in the order a reader looks for them; each a run of columns."""
    return [("gpr", list(R.GPRS)), ("nip", [ra_column]), ("lr", [R.LR]), ("ctr", [R.CTR]),
            ("xer", [R.XER]), ("cr", list(R.CRS)), ("fpr", list(R.FPRS)), ("vr", list(R.VRS)),
            ("vrsave", [R.VRSAVE]), ("vscr", [R.VSCR])]


def expected_place(column: int, frame: Frame, ra_column: int) -> tuple[str, int] | None:
    """(area, offset) where the matched kernel layout keeps ``column``'s register."""
    lay = frame.layout
    fixed = {ra_column: lay.greg(S.NIP), R.LR: lay.greg(S.LINK), R.CTR: lay.greg(S.CTR),
             R.XER: lay.greg(S.XER)}
    if column in fixed:
        return "gregs", fixed[column]
    if column in R.GPRS:
        return "gregs", lay.greg(column - R.GPR0)
    if column in R.FPRS:
        return "gregs", lay.fpr(column - R.FPR0)
    if column in R.CRS:
        return "gregs", lay.cr
    if column in R.VRS:
        return "vmx", (column - R.VR0) * S.VR_SIZE
    return {R.VRSAVE: ("vmx", lay.vrsave), R.VSCR: ("vmx", lay.vscr)}.get(column)


def summary(img: Image, cie, fde, at: int, where: str, bounds) -> dict | None:
    """The "at a glance" block of an FDE whose CFA is the signal-frame pattern, else None.
    ``at`` is the address whose rules are shown, ``where`` names it."""
    img = img.for_record()
    cfa, regs = rules_at(cie, fde, at)
    ptr = cfa_pointer(img, cfa, bounds)
    if ptr is None:
        return None
    frame = frame_for(ptr, img.word, img.little)
    try:
        cfa_meaning = meaning_of(evaluate_rule(img, cfa, bounds), frame, is_value=True)
    except Unplaceable:  # the budget ran out in between
        return None
    r1_from_cfa = 1 not in regs
    entries = []
    for cls, cols in _summary_columns(cie.ra_reg):
        for col in cols:
            entries.append((cls, col, _column_meaning(img, col, regs, bounds, frame,
                                                     cfa_meaning, r1_from_cfa)))
    listed = {c for _, cols in _summary_columns(cie.ra_reg) for c in cols}
    for col in sorted(set(regs) - listed):
        entries.append(("other", col, _column_meaning(img, col, regs, bounds, frame,
                                                      cfa_meaning, False)))
    runs = _runs(entries, frame, cie.ra_reg)
    lines = [_line(run, cie.ra_reg) for run in runs]
    if r1_from_cfa:
        for line in lines:
            if 1 in line["columns"] and line["described"]:
                line["note"] = "r1 through the CFA"
    return {"at": at, "where": where, "layout": frame.layout.name if frame.known else None,
            "frame_pointer_at": ptr, "cfa": "the value at " + cfa_text(cfa_meaning, frame),
            "lines": lines,
            "registers": [_register_entry(item, cie.ra_reg) for run in runs for item in run]}


def _register_entry(item: tuple, ra: int) -> dict:
    """One column for JSON readers: where (block ``gregs``/``vmx`` and byte offset, as the
    CFI computes it), under which condition, and the text."""
    _cls, col, meaning, diff = item
    place = meaning.place if meaning else None
    return {"column": col, "name": R.column_name(col, ra), "described": meaning is not None,
            "area": place.area if place and place.area else None,
            "offset": place.offset if place else None,
            "gate": meaning.gate if meaning else None,
            "where": meaning.text() if meaning else None, "layout_says": diff}


def _column_meaning(img, col, regs, bounds, frame, cfa_meaning, r1_from_cfa) -> RuleMeaning | None:
    if col == 1 and r1_from_cfa:
        return cfa_meaning if cfa_meaning.place else None
    d = regs.get(col)
    if d is None:
        return None
    if not isinstance(d.instr, (M.Expression, M.ValExpression)):
        return RuleMeaning(None, raw=f"rule {_plain_rule(d.instr)}")
    try:
        outcomes = evaluate_rule(img, d, bounds)
    except Unplaceable as why:
        return RuleMeaning(None, raw=f"an expression vdsotool cannot place ({why})")
    return meaning_of(outcomes, frame, isinstance(d.instr, M.ValExpression))


def _plain_rule(instr) -> str:
    from vdsotool.inspect.cfi_rows import _cell

    cell = _cell(instr)
    return cell[1] if cell else type(instr).__name__


def _differs(col: int, meaning: RuleMeaning | None, frame: Frame, ra: int) -> str | None:
    """The layout's place when the CFI's differs (only for a layout the CFA matched)."""
    if not frame.known or meaning is None or meaning.place is None:
        return None
    want = expected_place(col, frame, ra)
    have = (meaning.place.area, meaning.place.offset)
    if want is None or have == want:
        return None
    place = (_gregs_place(want[1], frame.ptregs, frame) if want[0] == "gregs"
             else _vmx_place(want[1], "", frame))
    return f"{frame.layout.name} has it at {place.text()}"


def _runs(entries, frame: Frame, ra: int) -> list[list[tuple]]:
    """Consecutive registers of one class whose places form a run (same block, consecutive
    index) or are one and the same (the CR fields), or that are all undescribed."""
    runs: list[list[tuple]] = []
    for cls, col, meaning in entries:
        item = (cls, col, meaning, _differs(col, meaning, frame, ra))
        if runs and _continues(runs[-1], item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _continues(run: list[tuple], item: tuple) -> bool:
    cls, _col, meaning, diff = item
    first, last = run[0], run[-1]
    if cls != first[0] or cls == "other" or diff != first[3]:
        return False
    if meaning is None or last[2] is None:
        return meaning is None and last[2] is None
    a, b = last[2], meaning
    if a.place is None or b.place is None or (a.gate, a.otherwise) != (b.gate, b.otherwise):
        return False
    pa, pb = a.place, b.place
    same_kind = (pa.block, pa.extra, pa.detail) == (pb.block, pb.extra, pb.detail)
    if not same_kind or pa.index is None:
        return False
    step = pb.index - pa.index
    first_step = None if len(run) < 2 else run[1][2].place.index - run[0][2].place.index
    return step in (0, 1) and (first_step is None or step == first_step)


def _line(run: list[tuple], ra: int) -> dict:
    cols = [col for _, col, _, _ in run]
    names = [R.column_name(c, ra) for c in cols]
    label = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
    meaning, diff = run[0][2], run[0][3]
    line = {"registers": label, "columns": cols, "described": meaning is not None,
            "where": "", "layout_says": diff, "note": None}
    if meaning is None:
        line["where"] = "not described (no rule: an unwinder keeps the trampoline's value)"
    elif len(run) == 1 or meaning.place is None:
        line["where"] = meaning.text()
    else:
        line["where"] = _run_text(run)
    return line


def _run_text(run: list[tuple]) -> str:
    first, last = run[0][2], run[-1][2]
    p, q = first.place, last.place
    if p.index == q.index:
        text = first.text() + f", one slot for all {len(run)}"
    else:
        text = RuleMeaning(Place(p.block, None, 0, p.detail), first.gate,
                           first.otherwise).text()
        head = f"{p.block}[{p.index}..{q.index}]" + (f"+{p.extra}" if p.extra else "")
        text = head + text[len(p.block):]
    return text
