"""Instruction forms vdsotool encodes itself (branches, CR logic, mftb, mtocrf) and the
allow-list of forms handed to keystone with the range of each operand (GNU
``as -mpower4 -mregnames`` dialect).

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

# Operand kinds of the instructions keystone encodes: (lowest, highest, multiple of), the
# ranges GNU as -mpower4 checks (tests/oracle/test_asm_fuzz_gnu.py compares every form's
# edges with it). Keystone truncates or crashes on what does not fit, so nothing outside
# these reaches it. "mem"/"mem_ds" are D(RA): a displacement of kind "d"/"ds", a register.
OPERAND_KINDS = {
    "r": (0, 31, 1), "si": (-0x8000, 0x7FFF, 1), "ui": (0, 0xFFFF, 1),
    "si_or_ui": (-0x8000, 0xFFFF, 1),  # lis, addis: either reading of 16 bits
    "nsi": (-0x7FFF, 0x8000, 1),  # subi: negated into addi's SI
    "nsi_or_ui": (-0xFFFF, 0x8000, 1),  # subis
    "d": (-0x8000, 0x7FFF, 1), "ds": (-0x8000, 0x7FFF, 4),
    "spr": (0, 1023, 1), "fxm": (0, 255, 1), "crf": (0, 7, 1), "l": (0, 1, 1),
    "n5": (0, 31, 1), "n6": (0, 63, 1), "bh": (0, 3, 1),
}
MEMORY_KINDS = {"mem": "d", "mem_ds": "ds", "mem_u": "d", "mem_ds_u": "ds"}  # _u: with update

# mnemonic -> operand kinds; anything else is refused before keystone sees it
KEYSTONE_FORMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("nop", "sc", "sync", "hwsync", "lwsync", "isync", "eieio", "trap"), ()),
    "li": ("r", "si"), "lis": ("r", "si_or_ui"),
    **dict.fromkeys(("mr", "mr.", "not", "neg", "addze", "addze.", "addme", "subfze", "subfme",
                     "extsw", "extsh", "extsb", "cntlzw", "cntlzd"), ("r", "r")),
    **dict.fromkeys(("mflr", "mtlr", "mfctr", "mtctr", "mfcr", "mfxer", "mtxer"), ("r",)),
    "mfspr": ("r", "spr"), "mtspr": ("spr", "r"), "mtcrf": ("fxm", "r"),
    **dict.fromkeys(("lwz", "lhz", "lha", "lbz", "stw", "sth", "stb"), ("r", "mem")),
    **dict.fromkeys(("lwzu", "stwu"), ("r", "mem_u")),
    **dict.fromkeys(("ld", "lwa", "std"), ("r", "mem_ds")),
    **dict.fromkeys(("ldu", "stdu"), ("r", "mem_ds_u")),
    **dict.fromkeys(("lwzx", "ldx", "stwx", "stdx", "lwarx", "stwcx.", "ldarx", "stdcx."),
                    ("r", "r", "r")),
    **dict.fromkeys(("dcbst", "dcbf", "icbi", "dcbz", "dcbt"), ("r", "r")),
    **dict.fromkeys(("addi", "addic", "addic.", "mulli", "subfic"), ("r", "r", "si")),
    "addis": ("r", "r", "si_or_ui"), "subi": ("r", "r", "nsi"), "subis": ("r", "r", "nsi_or_ui"),
    **dict.fromkeys(("andi.", "andis.", "ori", "oris", "xori", "xoris"), ("r", "r", "ui")),
    **dict.fromkeys(("cmpwi", "cmpdi"), ("r", "si")),
    **dict.fromkeys(("cmplwi", "cmpldi"), ("r", "ui")),
    **dict.fromkeys(("cmpw", "cmplw", "cmpd", "cmpld"), ("r", "r")),
    "cmpi": ("crf", "l", "r", "si"), "cmpli": ("crf", "l", "r", "ui"),
    "cmp": ("crf", "l", "r", "r"), "cmpl": ("crf", "l", "r", "r"),
    **dict.fromkeys(("srwi", "slwi", "srwi.", "slwi.", "clrlwi", "clrlwi.", "clrrwi", "rotlwi",
                     "srawi", "srawi."), ("r", "r", "n5")),
    **dict.fromkeys(("srdi", "sldi", "srdi.", "sldi.", "clrldi", "clrldi.", "clrrdi", "rotldi",
                     "sradi", "sradi."), ("r", "r", "n6")),
    **dict.fromkeys(("extrwi", "insrwi"), ("r", "r", "n5", "n5")),
    "extldi": ("r", "r", "n6", "n6"),
    **dict.fromkeys(("rlwinm", "rlwinm.", "rlwimi", "rlwimi."), ("r", "r", "n5", "n5", "n5")),
    "rlwnm": ("r", "r", "r", "n5", "n5"),
    **dict.fromkeys(("rldicl", "rldicl.", "rldicr", "rldicr.", "rldic", "rldimi"),
                    ("r", "r", "n6", "n6")),
}
for _op in ("add", "addc", "adde", "subf", "subfc", "subfe", "sub", "subc", "mullw", "mulld",
            "mulhw", "mulhwu", "mulhd", "mulhdu", "divw", "divwu", "divd", "divdu", "and",
            "andc", "or", "orc", "xor", "nand", "nor", "eqv", "slw", "srw", "sraw", "sld",
            "srd", "srad"):
    KEYSTONE_FORMS[_op] = KEYSTONE_FORMS[_op + "."] = ("r", "r", "r")
# what keystone gets instead: subi/subis as addi/addis of the negated value (keystone checks
# subi's value against addi's range before negating it), hwsync as sync
KEYSTONE_SPELLING = {
    "subi": lambda m, t: ("addi", [*t[:2], _negated(t[2])]),
    "subis": lambda m, t: ("addis", [*t[:2], _negated(t[2])]),
    "hwsync": lambda m, t: ("sync", t),
}


def _negated(hex_text: str) -> str:
    return hex_text[1:] if hex_text.startswith("-") else "-" + hex_text


# compare forms also take an optional leading CR field
OPTIONAL_CR = {"cmpwi", "cmplwi", "cmpdi", "cmpldi", "cmpw", "cmplw", "cmpd", "cmpld"}


def operand_kinds(mnemonic: str, count: int) -> tuple[str, ...] | None:
    """The kinds of ``count`` operands of ``mnemonic``; None when it takes another number."""
    kinds = KEYSTONE_FORMS[mnemonic]
    if count == len(kinds):
        return kinds
    if mnemonic in OPTIONAL_CR and count == len(kinds) + 1:
        return ("crf", *kinds)
    return None


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
