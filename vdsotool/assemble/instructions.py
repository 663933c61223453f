"""Instruction operands -> 4 bytes: registers and CR-bit expressions resolved to numbers,
branches/CR logic/mftb/one-field mtcrf encoded by :mod:`isa`, the rest by keystone (vetted)."""

from __future__ import annotations

import re

from vdsotool.assemble import isa, keystone_backend
from vdsotool.assemble.isa import MODIFIER, MODIFIER_KIND, apply_modifier
from vdsotool.assemble.source import AsmError, printable
from vdsotool.assemble.state import Pass
from vdsotool.objfile import Relocation

_REGISTER = re.compile(r"%?(?:r|f|v)(\d+)$", re.I)
_MEM = re.compile(r"^(.*)\(([^()]*)\)$")
_BRANCH = re.compile(r"^b(dnz|dz|lt|gt|eq|so|un|ge|nl|le|ng|ne|ns|nu)?(lr|ctr)?(l)?(a)?([+-])?$")


def operand_number(p: Pass, text: str, reloc: list, signed16: bool = False) -> int:
    """The number an operand stands for: a register's, an expression's, or the 16 bits a
    modifier selects (sign-extended for a signed field, as GNU as does); for a modifier on
    a relocatable value, 0 and a relocation noted in ``reloc``."""
    t = text.strip()
    m = _REGISTER.match(t)
    if m:
        n = int(m.group(1))
        if n > 31:
            raise AsmError(f"bad register '{t}'")
        return n
    mod = MODIFIER.search(t)
    if mod:
        t = t[:mod.start()]
    v = p.value(t)
    if mod:
        if v.absolute:
            n = apply_modifier(mod.group(1), v.const)
            return n - 0x10000 if signed16 and n & 0x8000 else n
        reloc.append((MODIFIER_KIND[mod.group(1).lower()], v))
        return 0
    if not v.absolute:
        if not p.final:
            return 0
        raise AsmError(f"operand '{t}' is not a constant (use @l/@ha for addresses)")
    return v.const


def encode(p: Pass, line, mnemonic: str, operands: list[str]) -> bytes:
    if p.here() % 4:
        raise AsmError("instruction address is not a multiple of 4")  # GNU as refuses it too
    if operands == [""]:
        operands = []
    word = own_encoding(p, line, mnemonic, operands)
    if word is not None:
        return p.word(word, 4)
    if mnemonic not in isa.KEYSTONE_FORMS:
        raise AsmError(f"unknown or unsupported instruction '{printable(mnemonic)}'")
    kinds = isa.operand_kinds(mnemonic, len(operands))
    if kinds is None:
        raise AsmError(f"'{mnemonic}' takes {len(isa.KEYSTONE_FORMS[mnemonic])} operands, "
                       f"got {len(operands)}")
    if not p.final:
        return bytes(4)  # label passes: 4 bytes whatever the operands; the final pass checks them
    relocs: list = []
    texts = [checked_operand(p, kind, op, relocs) for kind, op in zip(kinds, operands)]
    if kinds and kinds[-1] in ("mem_u", "mem_ds_u"):
        check_update_form(mnemonic, texts)
    mnemonic, texts = isa.KEYSTONE_SPELLING.get(mnemonic, lambda m, t: (m, t))(mnemonic, texts)
    result = keystone_backend.encode(p.target, mnemonic, texts)
    if isinstance(result, str):
        raise AsmError(result)
    offset = p.here()
    for kind, v in relocs:
        add_reloc(p, line, offset + (2 if not p.target.little else 0), kind, v)
    return result


def check_update_form(mnemonic: str, texts: list[str]) -> None:
    """A load or store with update needs a base register other than r0, and a load one
    other than its target (GNU as refuses both: the update would be lost)."""
    base = int(texts[-1].split("(")[1].rstrip(")"), 16)
    if base == 0 or (mnemonic.startswith("l") and base == int(texts[0], 16)):
        raise AsmError(f"invalid register r{base} as the base of '{mnemonic}' (it is updated)")


def checked_operand(p: Pass, kind: str, text: str, relocs: list) -> str:
    """Operand ``text`` of ``kind`` (isa.OPERAND_KINDS) as the ``0x`` text keystone gets,
    after checking it fits its field (as GNU as checks it)."""
    if kind in isa.MEMORY_KINDS:
        m = _MEM.match(text.strip())
        if not m or not m.group(1).strip():
            raise AsmError(f"expected D(RA), got '{printable(text.strip())}'")
        disp = fits(operand_number(p, m.group(1), relocs, True), isa.MEMORY_KINDS[kind], m.group(1))
        base = fits(operand_number(p, m.group(2), relocs), "r", m.group(2))
        return f"{keystone_backend.hexnum(disp)}({keystone_backend.hexnum(base)})"
    signed = isa.OPERAND_KINDS[kind][0] < 0
    return keystone_backend.hexnum(fits(operand_number(p, text, relocs, signed), kind, text))


def fits(n: int, kind: str, text: str) -> int:
    lo, hi, multiple = isa.OPERAND_KINDS[kind]
    if not lo <= n <= hi:
        raise AsmError(f"operand '{printable(text.strip())}' out of range "
                       f"({n} is not between {lo} and {hi})")
    if n % multiple:
        raise AsmError(f"operand '{printable(text.strip())}' is not a multiple of {multiple}")
    return n


# @l/@h/@ha of ``sym - label`` (label in this section): GNU as's PC-relative REL16 forms
_PCREL_KIND = {"addr16_lo": "rel16_lo", "addr16_hi": "rel16_hi", "addr16_ha": "rel16_ha"}


def add_reloc(p, line, offset: int, kind: str, v) -> None:
    if not p.final:
        return
    symbol, addend = p.reloc_target(v)
    if v.minus is not None:
        # a difference with a label of this section is PC-relative: S + A - P, with the
        # field's own place P folded into the addend (R_PPC_REL16_* as GNU as emits them)
        if v.minus != p.section or kind not in _PCREL_KIND:
            raise AsmError("difference with a label of another section is not computable here")
        kind, addend = _PCREL_KIND[kind], addend + offset
    p.obj.sections[p.section].relocations.append(Relocation(offset, kind, symbol, addend, line.loc))


def own_encoding(p, line, mnemonic: str, ops: list[str]) -> int | None:
    def num(i: int) -> int:
        return operand_number(p, ops[i], [])

    def need(n: int) -> None:
        if len(ops) != n:
            raise AsmError(f"'{mnemonic}' takes {n} operands, got {len(ops)}")

    if mnemonic in isa.SPR_ALIASES:
        need(1)
        return isa.mfspr(fits(num(0), "r", ops[0]), isa.SPR_ALIASES[mnemonic])
    if mnemonic in isa.CR_LOGIC:
        need(3)
        return isa.cr_logic(isa.CR_LOGIC[mnemonic], *(crbit(num(i)) for i in range(3)))
    if mnemonic in ("crclr", "crset", "crmove", "crnot"):
        need(1 if mnemonic in ("crclr", "crset") else 2)
        a = crbit(num(0))
        b = crbit(num(len(ops) - 1))
        xo = {"crclr": 193, "crset": 289, "crmove": 449, "crnot": 33}[mnemonic]
        return isa.cr_logic(xo, a, b if mnemonic in ("crmove", "crnot") else a, b if mnemonic in ("crmove", "crnot") else a)
    if mnemonic == "mtcrf" and len(ops) == 2:
        fxm = num(0)
        if not 0 <= fxm <= 255:
            raise AsmError(f"field mask '{ops[0]}' out of range")
        if fxm and fxm & (fxm - 1) == 0 and fxm < 256:
            return isa.mtocrf(fxm, fits(num(1), "r", ops[1]))
        return None
    if mnemonic in ("b", "ba", "bl", "bla"):
        need(1)
        aa, lk = int("a" in mnemonic), int(mnemonic.endswith("l") or mnemonic == "bla")
        return isa.i_form(branch_target(p, line, ops[0], aa, 26, "rel24"), aa, lk)
    if re.fullmatch(r"bc(l)?(a)?([+-])?", mnemonic):
        m = re.fullmatch(r"bc(l)?(a)?([+-])?", mnemonic)
        need(3)
        aa, lk = int(bool(m.group(2))), int(bool(m.group(1)))
        bo = isa.hint_bo(valid_bo(num(0), ops[0]), m.group(3) or "")
        return isa.b_form(bo, crbit(num(1)), branch_target(p, line, ops[2], aa, 16, "rel14"), aa, lk)
    if re.fullmatch(r"bc(lr|ctr)(l)?", mnemonic):
        m = re.fullmatch(r"bc(lr|ctr)(l)?", mnemonic)
        if len(ops) not in (2, 3):
            raise AsmError(f"'{mnemonic}' takes 2 or 3 operands")
        bh = fits(num(2), "bh", ops[2]) if len(ops) == 3 else 0
        return isa.xl_branch(valid_bo(num(0), ops[0], ctr=m.group(1) == "ctr"), crbit(num(1)), 16 if m.group(1) == "lr" else 528, int(bool(m.group(2))), bh)
    m = _BRANCH.match(mnemonic)
    if not m or mnemonic in ("b",):
        return None
    cond, reg, lk, aa, hint = m.groups()
    if cond is None and reg is None:
        return None
    lk, aa = int(bool(lk)), int(bool(aa))
    if cond in isa.CTR_CONDITIONS:
        bo, bi = isa.CTR_CONDITIONS[cond], 0
        target_ops = ops
    elif cond is None:
        bo, bi, target_ops = 20, 0, ops
    else:
        bo, bit = isa.CONDITIONS[cond]
        field = 0
        want = 0 if reg else 1
        if len(ops) == want + 1:
            field = num(0)
            if not 0 <= field <= 7:
                raise AsmError(f"bad condition register field '{ops[0]}'")
            target_ops = ops[1:]
        else:
            target_ops = ops
        bi = 4 * field + bit
    bo = isa.hint_bo(bo, hint or "") if cond is not None else bo
    if reg:
        if aa:
            return None
        if len(target_ops) not in (0, 1):
            raise AsmError(f"'{mnemonic}' takes at most one hint operand")
        bh = fits(operand_number(p, target_ops[0], []), "bh", target_ops[0]) if target_ops else 0
        return isa.xl_branch(bo, bi, 16 if reg == "lr" else 528, lk, bh)
    if len(target_ops) != 1:
        raise AsmError(f"'{mnemonic}' needs a branch target")
    return isa.b_form(bo, bi, branch_target(p, line, target_ops[0], aa, 16, "rel14"), aa, lk)


def field5(n: int, text: str) -> int:
    if not 0 <= n <= 31:
        raise AsmError(f"operand '{text.strip()}' out of range")
    return n


def valid_bo(n: int, text: str, ctr: bool = False) -> int:
    """A BO field GNU as -mpower4 accepts (its valid_bo_post_v2): with neither the CTR nor
    the condition tested the "z" bit must be clear, with both ignored BO is exactly 20, and
    bcctr cannot decrement the CTR it branches to."""
    field5(n, text)
    if (n & 0x14 == 0 and n & 1) or (n & 0x14 == 0x14 and n != 20) or (ctr and not n & 4):
        raise AsmError(f"invalid conditional option {n} in '{printable(text.strip())}'")
    return n


def crbit(n: int) -> int:
    if not 0 <= n <= 31:
        raise AsmError(f"bad condition register bit {n}")
    return n


def branch_target(p, line, text: str, aa: int, bits: int, kind: str) -> int:
    """The displacement field value; a relocation when the target is not in this section.
    The label passes ask nothing: a branch is 4 bytes wherever it goes, so a forward
    branch does not make its file take another pass (the final pass resolves it)."""
    if not p.final:
        return 0
    v = p.value(text)
    here = p.here()
    name = text.strip()
    if not aa and p.is_global(name) and v.symbol is None and v.const is not None:
        # a branch to a global symbol stays a relocation against it, as in GNU as
        if p.final:
            p.obj.sections[p.section].relocations.append(Relocation(here, kind, name, 0, line.loc))
        return 0
    if aa:
        if not v.absolute:
            raise AsmError("absolute branch to a relocatable address")
        disp = v.const
    elif v.absolute:
        raise AsmError(f"branch target '{text.strip()}' is an absolute number")
    elif v.symbol is None and v.section == p.section:
        disp = v.const - here
    else:
        if p.final:
            symbol, addend = p.reloc_target(v)
            p.obj.sections[p.section].relocations.append(Relocation(here, kind, symbol, addend, line.loc))
        return 0
    if disp & 3:
        raise AsmError("branch target is not a multiple of 4")
    if not -(1 << (bits - 1)) <= disp < (1 << (bits - 1)):
        raise AsmError(f"branch target '{text.strip()}' out of range")
    return disp
