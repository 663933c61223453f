"""DWARF register numbers for PowerPC as used in ``.eh_frame`` (GCC rs6000 numbering).

r0–r31 = 0–31, f0–f31 = 32–63, 64 = MQ, 65 = LR, 66 = CTR, 67 = AP (the "arg pointer",
which the vDSO signal-frame CFI uses as return-address column holding the interrupted NIP),
68–75 = CR0–CR7, 76 = XER, 77–108 = VR0–VR31, 109 = VRSAVE, 110 = VSCR.

(The SysV ``.debug_frame`` numbering differs; the vDSO, libgcc and GNU as use these.)
"""

from __future__ import annotations

GPR0 = 0
FPR0 = 32
MQ = 64
LR = 65
CTR = 66
AP = 67
CR0 = 68
XER = 76
VR0 = 77
VRSAVE = 109
VSCR = 110

# The register files: their DWARF numbers, and the name prefix of their members (r5, cr2).
GPRS = range(GPR0, GPR0 + 32)
FPRS = range(FPR0, FPR0 + 32)
CRS = range(CR0, CR0 + 8)
VRS = range(VR0, VR0 + 32)
_FILES = (("r", GPRS), ("f", FPRS), ("cr", CRS), ("v", VRS))

# The return-address column an ordinary (non-signal) PowerPC frame uses.
DEFAULT_RETURN_COLUMN = LR
# What the signal-frame CIEs use instead: NIP is described as the "ap" column.
SIGNAL_RETURN_COLUMN = AP

_SPECIAL = {MQ: "mq", LR: "lr", CTR: "ctr", AP: "ap", XER: "xer", VRSAVE: "vrsave", VSCR: "vscr"}


def reg_name(n: int) -> str:
    """Human name of a DWARF register number (``r5``, ``f31``, ``lr``, ``cr2``, ``v0``)."""
    for prefix, regs in _FILES:
        if n in regs:
            return f"{prefix}{n - regs.start}"
    return _SPECIAL.get(n, f"reg{n}")


def parse_reg(name: str) -> int | None:
    """Inverse of :func:`reg_name`, also accepting ``%r5`` and bare numbers; None if unknown."""
    s = name.strip().lower().lstrip("%")
    if s.isdigit():
        return int(s)
    for n, special in _SPECIAL.items():
        if s == special:
            return n
    for prefix, regs in _FILES:
        rest = s[len(prefix):]
        if s.startswith(prefix) and rest.isdigit() and int(rest) < len(regs):
            return regs.start + int(rest)
    return None


# In the vDSO's signal-frame CIEs column 67 ("ap") is the return-address column and its
# rule locates the interrupted program's NIP: dump calls it by that meaning.
SIGNAL_RETURN_NAME = "nip"


def column_name(n: int, return_column: int | None = None) -> str:
    """ABI name of a CFI column: :func:`reg_name`, except that "ap" used as the return
    column (the signal frames') is the interrupted ``nip``."""
    if n == return_column == SIGNAL_RETURN_COLUMN:
        return SIGNAL_RETURN_NAME
    return reg_name(n)
