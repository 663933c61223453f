"""Instruction forms vdsotool encodes itself (branches, CR logic, mftb, mtocrf) and the
allow-list of mnemonics handed to keystone (GNU ``as -mpower4 -mregnames`` dialect).

Branches are PC-relative in GNU ``as`` but absolute in keystone, so every branch form is
encoded here: I-form (opcode 18: LI, AA, LK) and B-form (opcode 16: BO, BI, BD, AA, LK),
XL-form ``bclr``/``bcctr``. ``+``/``-`` hints use the POWER4 "at" bits of BO (0b11 likely
taken, 0b10 likely not taken) as GNU does under ``-mpower4``.
"""

from __future__ import annotations

import re

# operand modifiers: the half of a value a 16-bit field takes, or the relocation asking for it
MODIFIER = re.compile(r"@(l|h|ha|high|higha)$", re.I)
MODIFIER_KIND = {"l": "addr16_lo", "h": "addr16_hi", "ha": "addr16_ha", "high": "addr16_high",
                 "higha": "addr16_higha"}


def apply_modifier(mod: str, v: int) -> int:
    mod = mod.lower()
    if mod == "l":
        return v & 0xFFFF
    if mod in ("h", "high"):
        return (v >> 16) & 0xFFFF
    return ((v + 0x8000) >> 16) & 0xFFFF

# condition name -> (BO when branching on it, CR bit within the field)
CONDITIONS = {
    "lt": (12, 0), "gt": (12, 1), "eq": (12, 2), "so": (12, 3), "un": (12, 3),
    "ge": (4, 0), "nl": (4, 0), "le": (4, 1), "ng": (4, 1), "ne": (4, 2), "ns": (4, 3), "nu": (4, 3),
}
CTR_CONDITIONS = {"dnz": 16, "dz": 18}
CR_LOGIC = {"crand": 257, "crandc": 129, "creqv": 289, "crnand": 225, "crnor": 33,
            "cror": 449, "crorc": 417, "crxor": 193}
SPR_ALIASES = {"mftb": 268, "mftbl": 268, "mftbu": 269}

# mnemonic -> operand count; anything else is refused before keystone sees it
KEYSTONE_MNEMONICS = {
    "nop": 0, "sc": 0, "sync": 0, "hwsync": 0, "lwsync": 0, "isync": 0, "eieio": 0, "trap": 0,
    "li": 2, "lis": 2, "mr": 2, "mr.": 2, "not": 2, "neg": 2, "addze": 2, "addze.": 2, "addme": 2,
    "subfze": 2, "subfme": 2, "extsw": 2, "extsh": 2, "extsb": 2, "cntlzw": 2, "cntlzd": 2,
    "mflr": 1, "mtlr": 1, "mfctr": 1, "mtctr": 1, "mfcr": 1, "mfxer": 1, "mtxer": 1,
    "mfspr": 2, "mtspr": 2, "mtcrf": 2, "mtocrf": 2, "mfocrf": 2,
    "lwz": 2, "lwzu": 2, "lhz": 2, "lha": 2, "lbz": 2, "ld": 2, "ldu": 2, "lwa": 2,
    "stw": 2, "stwu": 2, "sth": 2, "stb": 2, "std": 2, "stdu": 2,
    "lwzx": 3, "ldx": 3, "stwx": 3, "stdx": 3, "lwarx": 3, "stwcx.": 3, "ldarx": 3, "stdcx.": 3,
    "dcbst": 2, "dcbf": 2, "icbi": 2, "dcbz": 2, "dcbt": 2,
    "addi": 3, "addis": 3, "addic": 3, "addic.": 3, "subi": 3, "subis": 3, "mulli": 3,
    "andi.": 3, "andis.": 3, "ori": 3, "oris": 3, "xori": 3, "xoris": 3, "subfic": 3,
    "cmpwi": 2, "cmplwi": 2, "cmpdi": 2, "cmpldi": 2, "cmpw": 2, "cmplw": 2, "cmpd": 2, "cmpld": 2,
    "cmpi": 4, "cmpli": 4, "cmp": 4, "cmpl": 4,
    "srwi": 3, "slwi": 3, "srdi": 3, "sldi": 3, "clrldi": 3, "clrlwi": 3, "clrrwi": 3,
    "clrrdi": 3, "rotlwi": 3, "rotldi": 3, "extrwi": 4, "extldi": 4, "insrwi": 4,
    "srwi.": 3, "slwi.": 3, "srdi.": 3, "sldi.": 3, "clrldi.": 3, "clrlwi.": 3,
    "rlwinm": 5, "rlwinm.": 5, "rlwimi": 5, "rlwimi.": 5, "rlwnm": 5,
    "rldicl": 4, "rldicl.": 4, "rldicr": 4, "rldicr.": 4, "rldic": 4, "rldimi": 4,
    "srawi": 3, "srawi.": 3, "sradi": 3, "sradi.": 3,
}
for _op in ("add", "addc", "adde", "subf", "subfc", "subfe", "sub", "subc", "mullw", "mulld",
            "mulhw", "mulhwu", "mulhd", "mulhdu", "divw", "divwu", "divd", "divdu", "and",
            "andc", "or", "orc", "xor", "nand", "nor", "eqv", "slw", "srw", "sraw", "sld",
            "srd", "srad"):
    KEYSTONE_MNEMONICS[_op] = 3
    KEYSTONE_MNEMONICS[_op + "."] = 3
# compare forms also take an optional leading CR field
OPTIONAL_CR = {"cmpwi", "cmplwi", "cmpdi", "cmpldi", "cmpw", "cmplw", "cmpd", "cmpld"}


def i_form(li: int, aa: int, lk: int) -> int:
    return (18 << 26) | (li & 0x03FFFFFC) | (aa << 1) | lk


def b_form(bo: int, bi: int, bd: int, aa: int, lk: int) -> int:
    return (16 << 26) | (bo << 21) | (bi << 16) | (bd & 0xFFFC) | (aa << 1) | lk


def xl_branch(bo: int, bi: int, xo: int, lk: int, bh: int = 0) -> int:
    return (19 << 26) | (bo << 21) | (bi << 16) | (bh << 11) | (xo << 1) | lk


def cr_logic(xo: int, bt: int, ba: int, bb: int) -> int:
    return (19 << 26) | (bt << 21) | (ba << 16) | (bb << 11) | (xo << 1)


def mfspr(rt: int, spr: int) -> int:
    return (31 << 26) | (rt << 21) | ((spr & 31) << 16) | ((spr >> 5) << 11) | (339 << 1)


def mtocrf(fxm: int, rs: int) -> int:
    return (31 << 26) | (rs << 21) | (1 << 20) | (fxm << 12) | (144 << 1)


def hint_bo(bo: int, hint: str) -> int:
    """Apply a ``+``/``-`` hint to BO using the POWER4 "at" bits."""
    if not hint:
        return bo
    at = 3 if hint == "+" else 2
    if bo & 0x10 and not bo & 0x04:  # decrement-CTR forms: at bits are BO[0] and BO[3]
        return (bo & 0x12) | ((at & 2) << 2) | (at & 1)
    return (bo & 0x1C) | at

# Operand ranges checked before keystone (it silently truncates out-of-range immediates).
IMM16 = {"li", "lis", "addi", "addis", "addic", "addic.", "subi", "subis", "mulli", "andi.",
         "andis.", "ori", "oris", "xori", "xoris", "subfic", "cmpwi", "cmplwi", "cmpdi", "cmpldi",
         "cmpi", "cmpli"}
SHIFT32 = {"srwi", "slwi", "srwi.", "slwi.", "clrlwi", "clrlwi.", "clrrwi", "rotlwi", "extrwi",
           "insrwi", "rlwinm", "rlwinm.", "rlwimi", "rlwimi.", "rlwnm", "srawi", "srawi."}
SHIFT64 = {"srdi", "sldi", "srdi.", "sldi.", "clrldi", "clrldi.", "clrrdi", "rotldi", "extldi",
           "rldicl", "rldicl.", "rldicr", "rldicr.", "rldic", "rldimi", "sradi", "sradi."}


def operand_range(mnemonic: str, index: int, count: int) -> tuple[int, int]:
    """Allowed values of operand ``index`` (registers are checked separately)."""
    if mnemonic in IMM16 and index == count - 1:
        return -0x8000, 0xFFFF
    if mnemonic in SHIFT32 and index >= 2:
        return 0, 32 if mnemonic in ("extrwi", "insrwi") else 31
    if mnemonic in SHIFT64 and index >= 2:
        return 0, 64 if mnemonic in ("extldi",) else 63
    if index < count - 1 or count <= 2:
        return -0x8000_0000, 0xFFFF_FFFF
    return -0x8000_0000, 0xFFFF_FFFF
