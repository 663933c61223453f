"""The exports manifest: every symbol each ABI's images export, and how verify checks it.

One entry per exported symbol. ``bits`` says which images carry it; ``kind`` is what it
is (``function``: callable with the vDSO calling convention; ``sigtramp``: a signal return
point the kernel points LR/NIP at; ``datum``: a word, not code); ``check`` names the verify
check that exercises it (vdsotool/verify/). ``vdsotool verify`` runs the checks the manifest
names, and an export whose check verify does not have is a failure ("not verified"), never
a silent pass: adding an export is one entry here plus its source and its check.
"""

from __future__ import annotations

from vdsotool.util.records import record


@record(frozen=True)
class Export:
    name: str
    bits: tuple[int, ...]  # images that export it: (32,), (64,) or (32, 64)
    kind: str  # "function" | "sigtramp" | "datum"
    check: str  # the verify check's name
    prototype: str = ""  # C view, for docs and dump


BOTH = (32, 64)

# Linux 2.6.15 (the 2005 design, kernel-vdso-facts.md §1.2).
EXPORTS_2_6_15: tuple[Export, ...] = (
    Export("__kernel_datapage_offset", BOTH, "datum", "datapage_offset"),
    Export("__kernel_get_syscall_map", BOTH, "function", "syscall_map",
           "void *(unsigned int *count)"),
    Export("__kernel_gettimeofday", BOTH, "function", "gettimeofday",
           "int (struct timeval *tv, struct timezone *tz)"),
    Export("__kernel_sync_dicache", BOTH, "function", "sync_dicache",
           "void (unsigned long start, unsigned long end)"),
    Export("__kernel_sync_dicache_p5", BOTH, "function", "sync_dicache",
           "void (unsigned long start, unsigned long end)"),
    Export("__kernel_sigtramp32", (32,), "sigtramp", "sigtramp"),
    Export("__kernel_sigtramp_rt32", (32,), "sigtramp", "sigtramp"),
    Export("__kernel_sigtramp_rt64", (64,), "sigtramp", "sigtramp"),
)

# Linux 6.1 (modern-vdso-abi.md §1.2, §1.3).
EXPORTS_6_1: tuple[Export, ...] = (
    Export("__kernel_sigtramp32", (32,), "sigtramp", "sigtramp"),
    Export("__kernel_sigtramp_rt32", (32,), "sigtramp", "sigtramp"),
    Export("__kernel_sigtramp_rt64", (64,), "sigtramp", "sigtramp"),
    Export("__kernel_gettimeofday", BOTH, "function", "gettimeofday",
           "int (struct timeval *tv, struct timezone *tz)"),
    Export("__kernel_clock_gettime", BOTH, "function", "clock_gettime",
           "int (clockid_t clk, struct timespec *ts)"),
    Export("__kernel_clock_gettime64", (32,), "function", "clock_gettime",
           "int (clockid_t clk, struct __kernel_timespec *ts)"),
    Export("__kernel_clock_getres", BOTH, "function", "clock_getres",
           "int (clockid_t clk, struct timespec *res)"),
    Export("__kernel_time", BOTH, "function", "time", "time_t (time_t *t)"),
    Export("__kernel_get_syscall_map", BOTH, "function", "syscall_map",
           "void *(unsigned int *count)"),
    Export("__kernel_get_tbfreq", BOTH, "function", "tbfreq", "unsigned long long (void)"),
    Export("__kernel_sync_dicache", BOTH, "function", "sync_dicache",
           "void (unsigned long start, unsigned long end)"),
    Export("__kernel_getcpu", BOTH, "function", "getcpu",
           "int (unsigned int *cpu, unsigned int *node)"),
)


def for_bits(exports: tuple[Export, ...], bits: int) -> tuple[Export, ...]:
    """The entries an image of word size ``bits`` exports, in manifest order."""
    return tuple(e for e in exports if bits in e.bits)
