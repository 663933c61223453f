"""``.cfi_*`` directives -> a :class:`FrameDescription` per ``.cfi_startproc`` region.

Each CFA instruction is kept with the section offset where it takes effect and the source
location of its directive, and is encoded here once with the target's alignment factors,
so a value that cannot be encoded (``.cfi_offset r31, 3`` on ppc64: not a multiple of 8) is
an error at its line, not in the linker. The linker turns the descriptions into
``.eh_frame``.

Offsets advance as GNU as advances them: each directive's distance from the previous one
counts in whole instructions (4 bytes, the code alignment factor), rounded down.
"""

from __future__ import annotations

import re

from vdsotool.abi import dwarf_regs
from vdsotool.assemble.source import AsmError, printable, split_operands
from vdsotool.assemble.state import Pass
from vdsotool.cfi import model as cfi
from vdsotool.cfi.encode import CfiEncoding, EncodeError, encode_instr
from vdsotool.objfile import FrameDescription

CODE_ALIGN = 4
UNSUPPORTED = (".cfi_personality", ".cfi_lsda", ".cfi_personality_id", ".cfi_fde_data",
               ".cfi_inline_lsda")
REGISTER_RULES = {".cfi_restore": cfi.Restore, ".cfi_undefined": cfi.Undefined,
                  ".cfi_same_value": cfi.SameValue}
# what the signal-frame generator writes: 0xNN bytes, two digits each (cfi/sigframe.py)
_HEX_BYTES = re.compile(r"[ \t]*0[xX][0-9a-fA-F]{2}[ \t]*(?:,[ \t]*0[xX][0-9a-fA-F]{2}[ \t]*)*")


def reg(text: str) -> int:
    n = dwarf_regs.parse_reg(text)
    if n is None:
        raise AsmError(f"bad register '{printable(text.strip())}' in CFI directive")
    return n


def run(p: Pass, line, word: str, rest: str) -> None:
    here = p.here()
    if word == ".cfi_startproc":
        if p.frame is not None:
            raise AsmError("nested .cfi_startproc")
        if rest.strip() not in ("", "simple"):
            raise AsmError(f"unexpected '{printable(rest.strip())}' after .cfi_startproc")
        p.frame = FrameDescription(p.section, here, here, simple=bool(rest.strip()), loc=line.loc)
        p.cfi_at = (here, here)
        return
    if word in UNSUPPORTED:
        raise AsmError(f"{word} is not supported: a vDSO has no personality routine or LSDA")
    frame = p.frame
    if frame is None:
        raise AsmError(f"{word} without .cfi_startproc")
    if word == ".cfi_endproc":
        frame.end = here
        p.obj.frames.append(frame)
        p.frame = None
        return
    if frame.section != p.section:
        raise AsmError(f"{word} in a different section than its .cfi_startproc")
    instrs = instructions(p, frame, word, rest)
    if instrs:
        real, effective = p.cfi_at
        effective += (here - real) // CODE_ALIGN * CODE_ALIGN
        p.cfi_at = (here, effective)
        encoding = CfiEncoding.for_target(p.target)
        for instr in instrs:
            try:
                encode_instr(instr, encoding)
            except EncodeError as err:
                raise AsmError(f"{word}: {err}") from None
            frame.instructions.append((effective, instr, line.loc))


def instructions(p: Pass, frame: FrameDescription, word: str, rest: str) -> list[cfi.Instr]:
    """The CFA instructions of one directive (none for those that set a frame property)."""
    if word == ".cfi_escape" and _HEX_BYTES.fullmatch(rest):
        # the signal frames' generated CFI is thousands of these: bytes by construction
        return [cfi.Escape(bytes.fromhex(rest.replace(",", " ").replace("0x", "").replace("0X", "")))]
    ops = split_operands(rest)

    def arity(k: int) -> None:
        if len([o for o in ops if o]) != k:
            raise AsmError(f"{word} takes {k} operand(s)")

    def n(i: int) -> int:
        return p.absolute(ops[i])

    if word in REGISTER_RULES:
        if not ops or not ops[0]:
            raise AsmError(f"{word} needs a register")
        return [REGISTER_RULES[word](reg(o)) for o in ops]
    if word == ".cfi_escape":
        values = [n(i) for i in range(len(ops))]
        if not values or any(not 0 <= v <= 255 for v in values):
            raise AsmError(".cfi_escape takes byte values 0..255")
        return [cfi.Escape(bytes(values))]
    if word == ".cfi_return_column":
        arity(1)
        frame.return_column = reg(ops[0])
        return []
    if word == ".cfi_signal_frame":
        arity(0)
        frame.signal_frame = True
        return []
    two = {".cfi_def_cfa": lambda: cfi.DefCfa(reg(ops[0]), n(1)),
           ".cfi_offset": lambda: cfi.Offset(reg(ops[0]), n(1)),
           ".cfi_rel_offset": lambda: cfi.Offset(reg(ops[0]), n(1) - current_cfa_offset(frame)),
           ".cfi_val_offset": lambda: cfi.ValOffset(reg(ops[0]), n(1)),
           ".cfi_register": lambda: cfi.Register(reg(ops[0]), reg(ops[1]))}
    one = {".cfi_def_cfa_register": lambda: cfi.DefCfaRegister(reg(ops[0])),
           ".cfi_def_cfa_offset": lambda: cfi.DefCfaOffset(n(0)),
           ".cfi_adjust_cfa_offset": lambda: cfi.DefCfaOffset(current_cfa_offset(frame) + n(0))}
    none = {".cfi_remember_state": cfi.RememberState, ".cfi_restore_state": cfi.RestoreState}
    for table, k in ((two, 2), (one, 1), (none, 0)):
        if word in table:
            arity(k)
            return [table[word]()]
    raise AsmError(f"unknown CFI directive '{printable(word)}'")


def current_cfa_offset(frame: FrameDescription) -> int:
    """The CFA offset in force (for .cfi_adjust_cfa_offset / .cfi_rel_offset)."""
    offset, saved = 0, []
    for _, ins, _ in frame.instructions:
        if isinstance(ins, (cfi.DefCfa, cfi.DefCfaOffset)):
            offset = ins.offset
        elif isinstance(ins, cfi.RememberState):
            saved.append(offset)
        elif isinstance(ins, cfi.RestoreState) and saved:
            offset = saved.pop()
    return offset
