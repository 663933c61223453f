"""The vDSO data page of 2005 (``struct systemcfg`` v1.1), as one table of fields.

The kernel maps one read-only page right after the vDSO text; the vDSO code finds it with
``__get_datapage`` (see ``asm/datapage.S``) and reads the time-keeping state and the syscall
maps from it. Its layout is the 2.6.12 ppc64 ``struct systemcfg`` with minor version 1:
64-bit fields are naturally aligned, the whole structure is in the kernel's byte order
(big-endian for ppc32/ppc64, little-endian for ppc64le), and the 32-bit vDSO reads the
64-bit fields as (high word, low word) pairs — which word is "high" depends on the byte
order, so the generated include names both halves (``CFG_X_HI`` / ``CFG_X_LO``).

Time keeping (reference §3): ``xsec`` is time in units of 2^-20 s.
``xsec = stamp_xsec + mulhdu(TB - tb_orig_stamp, tb_to_xs)``; the kernel publishes a new
state by making ``tb_update_count`` odd, storing, then making it even again.

Syscall maps: bit ``n`` (MSB first within each 32-bit word) set when syscall ``n`` is
implemented; ``syscall_map_64`` serves the 64-bit vDSO, ``syscall_map_32`` the 32-bit one.

One field is ours, not the kernel's: ``test_timebase`` at 0xB8, just past the 2005
structure. An image assembled with ``VDSO_TEST_TIMEBASE`` defined reads its "timebase" from
there instead of ``mftb``, so tests can drive gettimeofday with exact values. A shipped
image never reads it.

Everything that needs an offset (the asm include, the C header with its static asserts,
the Python pack/unpack model) is generated from :data:`FIELDS`; nothing retypes one.
"""

from __future__ import annotations

import struct

from vdsotool.abi.targets import Target
from vdsotool.util.records import record

NR_SYSCALLS = 273  # 2.6.12 (waitid = 272)
SYSCALL_MAP_SIZE = (NR_SYSCALLS + 31) // 32  # 32-bit words per map
NR_GETTIMEOFDAY = 78
PAGE_SIZE = 4096
EYE_CATCHER = b"SYSTEMCFG:PPC64\0"
XSEC_PER_SEC = 1 << 20

# Constants the vDSO code needs besides the field offsets: user-visible struct layouts
# (struct timeval for each word size, struct timezone) and syscall numbers.
ASM_CONSTANTS: dict[str, int] = {
    "TVAL64_TV_SEC": 0,
    "TVAL64_TV_USEC": 8,
    "TVAL32_TV_SEC": 0,
    "TVAL32_TV_USEC": 4,
    "TZONE_TZ_MINWEST": 0,
    "TZONE_TZ_DSTTIME": 4,
    "__NR_gettimeofday": NR_GETTIMEOFDAY,
    "__NR_syscalls": NR_SYSCALLS,
    "SYSCALL_MAP_SIZE": SYSCALL_MAP_SIZE,
    "PAGE_SIZE": PAGE_SIZE,
}


@record(frozen=True)
class Field:
    name: str  # C member name
    offset: int
    size: int  # bytes, whole field
    ctype: str  # "char" | "u32" | "u64"
    count: int = 1  # array length (1 = scalar)
    asm: str | None = None  # asm-offsets name, when the vDSO code uses the field
    kernel: bool = True  # False for our own test-only fields

    @property
    def elem_size(self) -> int:
        return self.size // self.count


N = SYSCALL_MAP_SIZE
FIELDS: tuple[Field, ...] = (
    Field("eye_catcher", 0x00, 16, "char", 16),
    Field("version_major", 0x10, 4, "u32"),
    Field("version_minor", 0x14, 4, "u32"),
    Field("platform", 0x18, 4, "u32"),
    Field("processor", 0x1C, 4, "u32"),
    Field("processorCount", 0x20, 8, "u64"),
    Field("physicalMemorySize", 0x28, 8, "u64"),
    Field("tb_orig_stamp", 0x30, 8, "u64", asm="CFG_TB_ORIG_STAMP"),
    Field("tb_ticks_per_sec", 0x38, 8, "u64", asm="CFG_TB_TICKS_PER_SEC"),
    Field("tb_to_xs", 0x40, 8, "u64", asm="CFG_TB_TO_XS"),
    Field("stamp_xsec", 0x48, 8, "u64", asm="CFG_STAMP_XSEC"),
    Field("tb_update_count", 0x50, 8, "u64", asm="CFG_TB_UPDATE_COUNT"),
    Field("tz_minuteswest", 0x58, 4, "u32", asm="CFG_TZ_MINUTEWEST"),
    Field("tz_dsttime", 0x5C, 4, "u32", asm="CFG_TZ_DSTTIME"),
    Field("dcache_size", 0x60, 4, "u32"),
    Field("dcache_line_size", 0x64, 4, "u32"),
    Field("icache_size", 0x68, 4, "u32"),
    Field("icache_line_size", 0x6C, 4, "u32"),
    Field("syscall_map_64", 0x70, 4 * N, "u32", N, asm="CFG_SYSCALL_MAP64"),
    Field("syscall_map_32", 0x70 + 4 * N, 4 * N, "u32", N, asm="CFG_SYSCALL_MAP32"),
    Field("test_timebase", 0x70 + 8 * N, 8, "u64", asm="CFG_TEST_TIMEBASE", kernel=False),
)
SIZE = FIELDS[-1].offset + FIELDS[-1].size  # 0xC0
KERNEL_SIZE = max(f.offset + f.size for f in FIELDS if f.kernel)  # 0xB8, the 2005 struct
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


def _check_table() -> None:
    """The table must describe a gap-free, naturally aligned C struct (so the C header's
    static asserts can hold on every ABI)."""
    at = 0
    for f in FIELDS:
        assert f.offset == at, f"{f.name} at {f.offset:#x}, expected {at:#x}"
        assert f.offset % f.elem_size == 0, f"{f.name} misaligned"
        at += f.size


_check_table()


def syscall_map_offset(target: Target) -> int:
    """Offset of the syscall map the vDSO for ``target`` returns."""
    return BY_NAME["syscall_map_64" if target.bits == 64 else "syscall_map_32"].offset


# --- asm include ---------------------------------------------------------------------------

def asm_include(target: Target) -> str:
    """Text of ``vdso_datapage.inc`` for ``target``."""
    hi, lo = (4, 0) if target.little else (0, 4)
    lines = [f"# generated by vdsotool from vdsotool/abi/datapage.py for {target.name}: "
             "do not edit", "# data-page field offsets (struct systemcfg v1.1, 2.6.12)"]
    for f in FIELDS:
        if f.asm is None:
            continue
        lines.append(f".set {f.asm}, {f.offset:#x}")
        if f.ctype == "u64":  # the word halves, for 32-bit code reading word pairs
            lines.append(f".set {f.asm}_HI, {f.offset + hi:#x}")
            lines.append(f".set {f.asm}_LO, {f.offset + lo:#x}")
    lines.append("# the map this image's get_syscall_map returns")
    lines.append(f".set CFG_SYSCALL_MAP, {syscall_map_offset(target):#x}")
    lines.append("# user ABI structs and syscall numbers")
    lines += [f".set {name}, {value}" for name, value in ASM_CONSTANTS.items()]
    return "\n".join(lines) + "\n"


# --- C header -----------------------------------------------------------------------------

_CTYPES = {"char": "char", "u32": "uint32_t", "u64": "uint64_t"}


def c_header() -> str:
    """A C header describing the data page, with a static assert per field offset."""
    out = ["/* generated by vdsotool from vdsotool/abi/datapage.py: do not edit */",
           "#ifndef VDSOTOOL_DATAPAGE_H", "#define VDSOTOOL_DATAPAGE_H", "",
           "#include <stddef.h>", "#include <stdint.h>", "",
           f"#define VDSO_NR_SYSCALLS {NR_SYSCALLS}",
           f"#define VDSO_SYSCALL_MAP_SIZE {SYSCALL_MAP_SIZE}",
           f"#define VDSO_DATAPAGE_SIZE {SIZE:#x}", "",
           "/* struct systemcfg v1.1 (2.6.12); test_timebase is vdsotool's test-only field */",
           "struct vdso_systemcfg {"]
    for f in FIELDS:
        dim = f"[{f.count}]" if f.count > 1 else ""
        out.append(f"\t{_CTYPES[f.ctype]} {f.name}{dim}; /* {f.offset:#04x} */")
    out.append("};")
    out.append("")
    for f in FIELDS:
        out.append(f"_Static_assert(offsetof(struct vdso_systemcfg, {f.name}) == {f.offset:#x}, "
                   f"\"{f.name} offset\");")
    out.append(f"_Static_assert(sizeof(struct vdso_systemcfg) == {SIZE:#x}, \"size\");")
    out += ["", "#endif", ""]
    return "\n".join(out)


# --- Python model -------------------------------------------------------------------------

_FMT = {"u32": "I", "u64": "Q"}


def default_values() -> dict[str, object]:
    """A plausible page: header filled in, everything else zero."""
    values: dict[str, object] = {f.name: ([0] * f.count if f.count > 1 else 0) for f in FIELDS}
    values.update(eye_catcher=EYE_CATCHER, version_major=1, version_minor=1,
                  dcache_line_size=128, icache_line_size=128)
    return values


def pack(target: Target, values: dict[str, object]) -> bytes:
    """The data page bytes (length :data:`SIZE`) in ``target``'s byte order.
    Fields missing from ``values`` take :func:`default_values`."""
    unknown = set(values) - set(BY_NAME)
    if unknown:
        raise KeyError(f"unknown data-page fields: {sorted(unknown)}")
    merged = default_values() | values
    order = "<" if target.little else ">"
    buf = bytearray(SIZE)
    for f in FIELDS:
        v = merged[f.name]
        if f.ctype == "char":
            raw = bytes(v)
            if len(raw) > f.size:
                raise ValueError(f"{f.name} longer than {f.size} bytes")
            buf[f.offset:f.offset + len(raw)] = raw
        else:
            items = list(v) if f.count > 1 else [v]
            struct.pack_into(f"{order}{f.count}{_FMT[f.ctype]}", buf, f.offset, *items)
    return bytes(buf)


def unpack(target: Target, data: bytes) -> dict[str, object]:
    """Inverse of :func:`pack`."""
    order = "<" if target.little else ">"
    values: dict[str, object] = {}
    for f in FIELDS:
        if f.ctype == "char":
            values[f.name] = bytes(data[f.offset:f.offset + f.size])
            continue
        items = struct.unpack_from(f"{order}{f.count}{_FMT[f.ctype]}", data, f.offset)
        values[f.name] = list(items) if f.count > 1 else items[0]
    return values


def syscall_map(implemented: set[int] | list[int]) -> list[int]:
    """The map words for a set of syscall numbers: bit n is MSB-first in word n // 32."""
    words = [0] * SYSCALL_MAP_SIZE
    for n in implemented:
        if not 0 <= n < NR_SYSCALLS:
            raise ValueError(f"syscall {n} outside 0..{NR_SYSCALLS - 1}")
        words[n // 32] |= 0x80000000 >> (n % 32)
    return words
