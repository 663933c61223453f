"""``vdsotool verify`` for images of the Linux 6.1 ABI (vvar pages before the text).

The ABI is read from the image itself: an image exporting ``__kernel_datapage_offset``
follows the 2005 design, one exporting ``__kernel_clock_gettime`` (and not the offset word)
today's. How the code finds its data tells the page size: every ``bcl 20,31,.+4; mflr rX;
addis rX,rX,hi; addi rX,rX,lo`` computes an address in the vvar area, two pages below the
text, so the lowest page boundary at or below it is ``-2 * PAGE_SIZE``.

Rows: ``(abi)`` (what was read from the image), then one per export of the 6.1 manifest
(vdsotool/abi/exports.py) — missing from ``.dynsym``: fail; its check (checks61.py) run under
qemu-user against the model — and one per export the image has but the manifest does not
name: fail, "not verified". The signal trampolines are checked statically (the sigreturn
words libgcc recognises), as for the 2005 design.
"""

from __future__ import annotations

from vdsotool.abi import abis
from vdsotool.abi import datapage61 as dp
from vdsotool.abi.targets import Target

BCL_NEXT = 0x429F0005  # bcl 20,31,.+4


def detect_abi(symbols: dict[str, int]) -> abis.Abi:
    """The kernel ABI an image follows, from its exports."""
    if "__kernel_datapage_offset" not in symbols and "__kernel_clock_gettime" in symbols:
        return abis.ABI_6_1
    return abis.ABI_2_6_15


def _sext16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def vvar_page_size(target: Target, data: bytes) -> tuple[int | None, str]:
    """(page size, how it was found) from the image's data-page address computations;
    (None, why not) when there is none or they disagree."""
    found = set()
    order = target.byteorder
    for at in range(0, len(data) - 15, 4):
        if int.from_bytes(data[at:at + 4], order) != BCL_NEXT:
            continue
        mflr, addis, addi = (int.from_bytes(data[at + 4 * i:at + 4 * i + 4], order)
                             for i in (1, 2, 3))
        reg = (mflr >> 21) & 31
        if mflr & 0xFC1FFFFF != 0x7C0802A6:  # mflr rX
            continue
        if addis >> 26 != 15 or addi >> 26 != 14 or (addis >> 21) & 31 != reg \
                or (addis >> 16) & 31 != reg or (addi >> 16) & 31 != reg:
            continue
        address = at + 4 + (_sext16(addis & 0xFFFF) << 16) + _sext16(addi & 0xFFFF)
        base = address - address % 4096  # the page boundary at or below it
        found.add(-base // dp.VVAR_PAGES)
    if not found:
        return None, "no bcl 20,31 / mflr / addis / addi sequence reaches a vvar page"
    if len(found) > 1 or not found <= set(dp.PAGE_SIZES):
        return None, f"the data-page computations imply page sizes {sorted(found)}"
    (size,) = found
    return size, f"vvar: {dp.VVAR_PAGES} pages of {size // 1024} KiB before the text"


def verify_rows(target: Target, path: str, data: bytes, symbols: dict[str, int],
                run_code: bool, missing_tools: list[str], sigtramp_rows: dict) -> list:
    """The rows of a 6.1 image after the structure row (see the module docstring)."""
    from vdsotool.verify import checks61
    from vdsotool.verify.run import Row

    abi = abis.ABI_6_1
    page_size, how = vvar_page_size(target, data)
    rows = [Row("(abi)", "pass" if page_size else "fail", f"Linux {abi.name}; {how}")]
    manifest = abi.exports_for(target)
    named = {e.name for e in manifest}
    present = [e for e in manifest if e.name in symbols]
    rows += [Row(e.name, "fail", "not exported in .dynsym") for e in manifest
             if e.name not in symbols]
    extra = sorted(n for n in symbols if n.startswith("__kernel_") and n not in named)
    results: dict[str, Row] = dict(sigtramp_rows)
    for e in present:
        if e.kind == "sigtramp" and e.name not in results:
            results[e.name] = Row(e.name, "fail", "not verified: no signal-trampoline check")
    callable_ = [e for e in present if e.kind != "sigtramp"]
    if not run_code:
        results |= {e.name: Row(e.name, "skip", "execution not requested") for e in callable_}
    elif missing_tools:
        results |= {e.name: Row(e.name, "skip", f"{', '.join(missing_tools)} not installed")
                    for e in callable_}
    elif page_size is None:
        results |= {e.name: Row(e.name, "fail", "cannot map it: page size unknown")
                    for e in callable_}
    else:
        for name, status, reason in checks61.run_checks(target, path, page_size, tuple(callable_)):
            results[name] = Row(name, status, reason or "as the model predicts")
    rows += [results[e.name] for e in present]
    rows += [Row(n, "fail", f"not verified: the {abi.name} exports manifest has no entry")
             for n in extra]
    return rows
