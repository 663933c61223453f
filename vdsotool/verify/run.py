"""``vdsotool verify IMAGE``: check a built vDSO image by structure and by running it.

1. Structure: the target is read from the ELF header; the image check of ``vdsotool check``
   (:mod:`vdsotool.inspect.check`: one R-X PT_LOAD at 0, no dynamic relocations, versioned
   exports found through the hash tables, ``.eh_frame``/``.eh_frame_hdr``) gives the
   ``(structure)`` row; every export of that word size must be in ``.dynsym``.
2. Execution (when the target's cross gcc and qemu-user are installed): the harness loads
   the image as the kernel maps it and calls every function; the results are compared with
   :mod:`vdsotool.verify.model`. A shipped image reads the real timebase, so gettimeofday is
   checked against the model evaluated at two timebase reads bracketing the call.

The result is one row per exported symbol: pass/fail/skip and the reason; an export with
no check fails ("not verified").

An image of today's ABI (exporting ``__kernel_clock_gettime``, not the 2005 offset word)
goes to :mod:`vdsotool.verify.run61` after the structure row: the ABI and page size read
from the image, the 6.1 exports manifest, the model of vdsotool/verify/model61.py.
"""

from __future__ import annotations


from vdsotool.abi import datapage
from vdsotool.abi.targets import POWERPC_MACHINES, Target, target_for
from vdsotool.elf.constants import EI_CLASS
from vdsotool.elf.reader import ElfImage
from vdsotool.errors import ImageLoc, VdsoError
from vdsotool.util.records import asdict, field, record

EXPORTS_COMMON = ("__kernel_datapage_offset", "__kernel_get_syscall_map",
                  "__kernel_gettimeofday", "__kernel_sync_dicache", "__kernel_sync_dicache_p5")
SIGTRAMPS = {32: ("__kernel_sigtramp32", "__kernel_sigtramp_rt32"),
             64: ("__kernel_sigtramp_rt64",)}
TPS = 512_000_000  # the timebase frequency the checks pretend the kernel measured
# Two disjoint sets, so a map read from the wrong word size is caught.
MAP64_SYSCALLS = (0, 1, 78, 119, 172, 272)
MAP32_SYSCALLS = (2, 3, 77, 120, 171, 271)


@record
class Row:
    symbol: str
    status: str  # "pass" | "fail" | "skip"
    reason: str = ""


@record
class Report:
    image: str
    target: str
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status != "fail" for r in self.rows)

    def to_json(self) -> dict:
        return {"image": self.image, "target": self.target, "ok": self.ok,
                "results": [asdict(r) for r in self.rows]}


def exports(target: Target) -> tuple[str, ...]:
    return EXPORTS_COMMON + SIGTRAMPS[target.bits]


def detect_target(img: ElfImage) -> Target:
    """The target of an image, from its class, byte order and machine."""
    if img.e_machine not in POWERPC_MACHINES:
        raise VdsoError.at(img.loc(img.kind.ehdr.offset("e_machine")),
                           f"not a PowerPC image (e_machine {img.e_machine})")
    try:
        return target_for(img.bits, img.kind.byteorder)
    except ValueError as err:
        raise VdsoError.at(img.loc(EI_CLASS), str(err)) from None


def defined_dynsyms(img: ElfImage) -> dict[str, int]:
    """Name -> value of the defined, named .dynsym symbols."""
    if img.section(".dynsym") is None:
        raise VdsoError.at(img.loc(None), "no .dynsym section")
    return {s.name: s.value for s in img.dynsyms() if s.name and s.defined}


def _structure_problems(img: ElfImage) -> list[str]:
    """The image check of ``vdsotool check`` (:mod:`vdsotool.inspect.check`), each defect
    as ``message [+0xOFFSET]``."""
    from vdsotool.inspect.check import check_image

    return [d.message + (f" [+{d.loc.offset:#x}]"
                         if isinstance(d.loc, ImageLoc) and d.loc.offset is not None else "")
            for d in check_image(img)]


def verify(img: ElfImage, run_code: bool = True) -> Report:
    """The report of the parsed image ``img`` (the harness runs the file ``img.path``)."""
    path = img.path
    target = detect_target(img)
    symbols = defined_dynsyms(img)
    report = Report(path, target.name)
    problems = _structure_problems(img)
    report.rows += [Row("(structure)", "fail", p) for p in problems] \
        or [Row("(structure)", "pass", "no defects (vdsotool check)")]
    from vdsotool.verify.run61 import detect_abi

    if detect_abi(symbols).vvar_pages:  # today's ABI: vdsotool/verify/run61.py
        from vdsotool.verify import harness, run61

        missing = harness.missing_tools(target) if run_code else []
        report.rows += run61.verify_rows(target, path, img.data, symbols, run_code, missing,
                                         _check_sigtramps(target, img.data, symbols))
        return report
    present = [name for name in exports(target) if name in symbols]
    for name in exports(target):
        if name not in symbols:
            report.rows.append(Row(name, "fail", "not exported in .dynsym"))
    static = _check_sigtramps(target, img.data, symbols)
    if not run_code:
        report.rows += [static.get(n, Row(n, "skip", "execution not requested"))
                        for n in present]
        return report
    from vdsotool.verify import harness

    missing = harness.missing_tools(target)
    if missing:
        report.rows += [static.get(n, Row(n, "skip", f"{', '.join(missing)} not installed"))
                        for n in present]
        return report
    checks = _run_checks(target, path, present)
    checks.update(static)
    report.rows += [checks.get(n, Row(n, "fail", "not verified: no check")) for n in present]
    return report


# The instruction words at each trampoline that libgcc's unwinder (linux-unwind.h)
# recognises a signal frame by: li r0,119 / li r0,172; sc (64-bit: after addi r1,r1,128).
SIGTRAMP_WORDS = {
    "__kernel_sigtramp32": (0x38000077, 0x44000002),
    "__kernel_sigtramp_rt32": (0x380000AC, 0x44000002),
    "__kernel_sigtramp_rt64": (0x38210080, 0x380000AC, 0x44000002),
}


def _check_sigtramps(target: Target, data: bytes, symbols: dict[str, int]) -> dict[str, Row]:
    rows = {}
    for name in SIGTRAMPS[target.bits]:
        if name not in symbols:
            continue
        want = SIGTRAMP_WORDS[name]
        at = symbols[name]
        got = tuple(int.from_bytes(data[at + 4 * i:at + 4 * i + 4], target.byteorder)
                    for i in range(len(want)))
        if got != want:
            rows[name] = Row(name, "fail", "code is not the sigreturn sequence unwinders "
                             "recognise: " + " ".join(f"{w:08x}" for w in got))
        else:
            rows[name] = Row(name, "pass", "sigreturn sequence libgcc recognises")
    return rows


# --- execution checks ---------------------------------------------------------------------

def _base_page(target: Target) -> dict[str, object]:
    return {"tb_to_xs": _model().tb_to_xs(TPS), "tb_ticks_per_sec": TPS,
            "stamp_xsec": 1_100_000_000 << 20, "tz_minuteswest": 60, "tz_dsttime": 1,
            "syscall_map_64": datapage.syscall_map(MAP64_SYSCALLS),
            "syscall_map_32": datapage.syscall_map(MAP32_SYSCALLS)}


def _model():
    from vdsotool.verify import model

    return model


def _run_checks(target: Target, path: str, present: list[str]) -> dict[str, Row]:
    from vdsotool.verify import harness

    commands = [harness.page_command(target, _base_page(target)), "info", "gtodw 1000", "gtod",
                "map", "map_null"]
    if "__kernel_sync_dicache" in present:
        commands.append("icache __kernel_sync_dicache")
    if "__kernel_sync_dicache_p5" in present:
        commands.append("icache __kernel_sync_dicache_p5")
    try:
        out = harness.run(target, path, commands)
    except (harness.HarnessError, OSError) as err:
        return {n: Row(n, "fail", f"harness: {err}") for n in present}
    except Exception as err:  # noqa: BLE001 - e.g. a timeout: the image hangs
        return {n: Row(n, "fail", f"harness: {type(err).__name__}: {err}") for n in present}
    by_cmd: dict[str, list[dict[str, str]]] = {}
    for line in out:
        by_cmd.setdefault(line["cmd"], []).append(line)
    rows = {
        "__kernel_datapage_offset": _check_datapage(by_cmd["info"][0]),
        "__kernel_gettimeofday": _check_gettimeofday(target, by_cmd),
        "__kernel_get_syscall_map": _check_map(target, by_cmd["map"]),
    }
    for i, name in enumerate(n for n in ("__kernel_sync_dicache", "__kernel_sync_dicache_p5")
                             if n in present):
        rows[name] = _check_icache(name, by_cmd["icache"][i])
    return {n: r for n, r in rows.items() if n in present}


def _check_datapage(info: dict[str, str]) -> Row:
    want = int(info["pages"]) * datapage.PAGE_SIZE - int(info["word_at"])
    if int(info["word"]) != want:
        return Row("__kernel_datapage_offset", "fail", f"patched word {info['word']} != {want}")
    return Row("__kernel_datapage_offset", "pass", f"patched to {want:#x}")


def _success(line: dict[str, str]) -> str | None:
    if line["rc"] != "0":
        return f"returned {line['rc']}, not 0"
    if line["so"] != "0":
        return "CR0.SO set on success"
    return None


def _check_gettimeofday(target: Target, by_cmd: dict) -> Row:
    model = _model()
    name = "__kernel_gettimeofday"
    w, g = by_cmd["gtodw"][0], by_cmd["gtod"][0]
    for line in (w, g):
        if (err := _success(line)) is not None:
            return Row(name, "fail", err)
    page = _base_page(target)
    bounds = [model.timeval(target, model.TimeState(int(w["orig"]), page["tb_to_xs"],
                                                    page["stamp_xsec"], int(w[tb])))
              for tb in ("tb0", "tb1")]
    got = (int(w["sec"]), int(w["usec"]))
    if not (bounds[0].sec, bounds[0].usec) <= got <= (bounds[1].sec, bounds[1].usec):
        return Row(name, "fail", f"tv {got} outside the model's window "
                                 f"{(bounds[0].sec, bounds[0].usec)}..{(bounds[1].sec, bounds[1].usec)}")
    if (int(g["minw"]), int(g["dst"])) != (page["tz_minuteswest"], page["tz_dsttime"]):
        return Row(name, "fail", f"tz ({g['minw']}, {g['dst']}) not the data page's")
    return Row(name, "pass", "tv within the timebase window, tz copied, rc 0, SO clear")


def _check_map(target: Target, lines: list[dict[str, str]]) -> Row:
    name = "__kernel_get_syscall_map"
    full, null = lines
    want_off = datapage.syscall_map_offset(target)
    if (err := _success({"rc": "0", "so": full["so"]})) is not None:
        return Row(name, "fail", err)
    if int(full["off"]) != want_off or int(null["off"]) != want_off:
        return Row(name, "fail", f"returns datapage+{full['off']}, not +{want_off:#x}")
    if int(full["count"]) != datapage.NR_SYSCALLS:
        return Row(name, "fail", f"count {full['count']}, not {datapage.NR_SYSCALLS}")
    if int(null["count"]) != 0xDEADBEEF:
        return Row(name, "fail", "wrote through a NULL count pointer?")
    calls = MAP64_SYSCALLS if target.bits == 64 else MAP32_SYSCALLS
    words = [int(x, 16) for x in full["words"].split(",")]
    if words != datapage.syscall_map(calls):
        return Row(name, "fail", "map contents are not this word size's map")
    return Row(name, "pass", f"datapage+{want_off:#x}, count {datapage.NR_SYSCALLS}, NULL ok")


def _check_icache(name: str, line: dict[str, str]) -> Row:
    if line["rc"] != "0,0,0" or line["so"] != "0,0,0":
        return Row(name, "fail", f"returns rc={line['rc']} so={line['so']}, not 0 with SO clear")
    if (line["first"], line["second"]) != ("111", "222"):
        return Row(name, "fail", f"self-modified code ran {line['first']},{line['second']}, "
                                 "not 111,222")
    return Row(name, "pass", "self-modified code runs; unaligned and empty ranges return 0")
