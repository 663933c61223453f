"""The vvar area of Linux 6.1 (the generic-vDSO design), as tables of fields.

The kernel maps two pages *before* the vDSO text (reference modern-vdso-abi.md §2): page 0
is the data page — or, inside a non-root time namespace, the task's namespace page — and
page 1 is the real data page when page 0 is a namespace page (otherwise it faults). The
code finds page 0 through the link-time constant ``_vdso_datapage`` (text − 2·PAGE_SIZE).

The data page is ``struct vdso_arch_data`` (§3.1 ppc64, §3.2 ppc32; a ppc32 image as a
32-bit kernel maps it uses the ppc32 one) holding ``data[CS_BASES]``, two generic
``struct vdso_data`` (§3.3, identical on both word sizes): ``data[0]`` for the clocks based
on ``tkr_mono``, ``data[1]`` for MONOTONIC_RAW. All fields are in the kernel's byte order.

Time keeping (§4): a reader takes ``seq`` (even), reads ``cycle_last``/``mult``/``shift`` and
``basetime[clk]`` between two ``lwsync``, and retries if ``seq`` changed;
``ns = ((TB − cycle_last)·mult + basetime.nsec) >> shift`` (mod 2^64), then whole seconds are
carried into ``basetime.sec``. The coarse clocks' slots hold plain nanoseconds.

Everything that needs an offset (the asm include, the C header with its static asserts,
the Python pack/unpack model) is generated from the tables here; nothing retypes one.
"""

from __future__ import annotations

import struct

from vdsotool.abi.targets import Target
from vdsotool.util.records import record

NR_SYSCALLS = 451  # 6.1: get_syscall_map's count (li r0,451, D61)
SYSCALL_MAP_SIZE = (NR_SYSCALLS + 31) // 32  # 15 words per map
HZ = 250  # Debian's ppc64el configuration: LOW_RES_NSEC = TICK_NSEC = 4000000
NSEC_PER_SEC = 1_000_000_000
LOW_RES_NSEC = (NSEC_PER_SEC + HZ // 2) // HZ
VVAR_PAGES = 2  # data page + time-namespace page (5.13 .. 6.12)
PAGE_SIZES = (4096, 65536)
# ppc32 has no cache geometry in its data page: sync_dicache uses the 32-bit kernel's
# L1_CACHE_BYTES (32 on the pmac32 configuration, §3.2).
L1_CACHE_SHIFT_32 = 5

# Clock ids and the masks the generic code dispatches on (§3.4).
CLOCKS: dict[str, int] = {
    "CLOCK_REALTIME": 0, "CLOCK_MONOTONIC": 1, "CLOCK_PROCESS_CPUTIME_ID": 2,
    "CLOCK_THREAD_CPUTIME_ID": 3, "CLOCK_MONOTONIC_RAW": 4, "CLOCK_REALTIME_COARSE": 5,
    "CLOCK_MONOTONIC_COARSE": 6, "CLOCK_BOOTTIME": 7, "CLOCK_REALTIME_ALARM": 8,
    "CLOCK_BOOTTIME_ALARM": 9, "CLOCK_SGI_CYCLE": 10, "CLOCK_TAI": 11,
}
MAX_CLOCKS = 16
VDSO_BASES = CLOCKS["CLOCK_TAI"] + 1  # basetime[] slots per vdso_data
CS_HRES_COARSE, CS_RAW, CS_BASES = 0, 1, 2
VDSO_HRES = sum(1 << CLOCKS[c] for c in ("CLOCK_REALTIME", "CLOCK_MONOTONIC",
                                         "CLOCK_BOOTTIME", "CLOCK_TAI"))  # 0x883
VDSO_COARSE = sum(1 << CLOCKS[c] for c in ("CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE"))
VDSO_RAW = 1 << CLOCKS["CLOCK_MONOTONIC_RAW"]
CLOCKMODE_NONE, CLOCKMODE_ARCHTIMER, CLOCKMODE_TIMENS = 0, 1, 0x7FFFFFFF

# Syscalls the vDSO issues or reports (§1.4).
SYSCALLS: dict[str, int] = {
    "__NR_gettimeofday": 78, "__NR_sigreturn": 119, "__NR_rt_sigreturn": 172,
    "__NR_clock_gettime": 246, "__NR_clock_getres": 247, "__NR_clock_gettime64": 403,
}

# User structs the vDSO stores into (per word size where it differs).
USER_STRUCTS: dict[str, int] = {
    "TZONE_TZ_MINWEST": 0, "TZONE_TZ_DSTTIME": 4,
}


@record(frozen=True)
class Field:
    name: str  # C member name
    offset: int
    size: int  # bytes, whole field
    ctype: str  # "char" | "u32" | "s32" | "u64" | "vdso_data" | "timespec"
    count: int = 1  # array length (1 = scalar)
    asm: str | None = None  # asm-offsets name, when the vDSO code uses the field

    @property
    def elem_size(self) -> int:
        return self.size // self.count if self.count else 0


# --- struct vdso_data (include/vdso/datapage.h), the same for 32- and 64-bit -------------

TIMESPEC_SIZE = 16  # struct vdso_timestamp {u64 sec; u64 nsec;} (offset[]: s64 sec)
VDSO_DATA_FIELDS: tuple[Field, ...] = (
    Field("seq", 0, 4, "u32", asm="VD_SEQ"),
    Field("clock_mode", 4, 4, "s32", asm="VD_CLOCK_MODE"),
    Field("cycle_last", 8, 8, "u64", asm="VD_CYCLE_LAST"),
    Field("mask", 16, 8, "u64", asm="VD_MASK"),
    Field("mult", 24, 4, "u32", asm="VD_MULT"),
    Field("shift", 28, 4, "u32", asm="VD_SHIFT"),
    Field("basetime", 32, VDSO_BASES * TIMESPEC_SIZE, "timespec", VDSO_BASES, asm="VD_BASETIME"),
    Field("tz_minuteswest", 224, 4, "s32", asm="VD_TZ_MINUTEWEST"),
    Field("tz_dsttime", 228, 4, "s32", asm="VD_TZ_DSTTIME"),
    Field("hrtimer_res", 232, 4, "u32", asm="VD_HRTIMER_RES"),
    Field("__unused", 236, 4, "u32"),
)
VDSO_DATA_SIZE = 240

# --- struct vdso_arch_data (arch/powerpc/include/asm/vdso_datapage.h) --------------------

N = SYSCALL_MAP_SIZE
ARCH64_FIELDS: tuple[Field, ...] = (
    Field("eye_catcher", 0x00, 16, "char", 16),
    Field("version_major", 0x10, 4, "u32"),
    Field("version_minor", 0x14, 4, "u32"),
    Field("platform", 0x18, 4, "u32"),
    Field("processor", 0x1C, 4, "u32"),
    Field("processorCount", 0x20, 8, "u64"),
    Field("physicalMemorySize", 0x28, 8, "u64"),
    Field("tb_orig_stamp", 0x30, 8, "u64"),
    Field("tb_ticks_per_sec", 0x38, 8, "u64", asm="CFG_TB_TICKS_PER_SEC"),
    Field("tb_to_xs", 0x40, 8, "u64"),
    Field("stamp_xsec", 0x48, 8, "u64"),
    Field("tb_update_count", 0x50, 8, "u64"),
    Field("tz_minuteswest", 0x58, 4, "u32"),
    Field("tz_dsttime", 0x5C, 4, "u32"),
    Field("dcache_size", 0x60, 4, "u32"),
    Field("dcache_line_size", 0x64, 4, "u32"),
    Field("icache_size", 0x68, 4, "u32"),
    Field("icache_line_size", 0x6C, 4, "u32"),
    Field("dcache_block_size", 0x70, 4, "u32", asm="CFG_DCACHE_BLOCKSZ"),
    Field("icache_block_size", 0x74, 4, "u32", asm="CFG_ICACHE_BLOCKSZ"),
    Field("dcache_log_block_size", 0x78, 4, "u32", asm="CFG_DCACHE_LOGBLOCKSZ"),
    Field("icache_log_block_size", 0x7C, 4, "u32", asm="CFG_ICACHE_LOGBLOCKSZ"),
    Field("syscall_map", 0x80, 4 * N, "u32", N, asm="CFG_SYSCALL_MAP"),
    Field("compat_syscall_map", 0x80 + 4 * N, 4 * N, "u32", N, asm="CFG_COMPAT_SYSCALL_MAP"),
    Field("data", 0xF8, CS_BASES * VDSO_DATA_SIZE, "vdso_data", CS_BASES, asm="CFG_DATA"),
)
ARCH32_FIELDS: tuple[Field, ...] = (
    Field("tb_ticks_per_sec", 0x00, 8, "u64", asm="CFG_TB_TICKS_PER_SEC"),
    Field("syscall_map", 0x08, 4 * N, "u32", N, asm="CFG_SYSCALL_MAP"),
    Field("compat_syscall_map", 0x08 + 4 * N, 0, "u32", 0),
    Field("data", 0x48, CS_BASES * VDSO_DATA_SIZE, "vdso_data", CS_BASES, asm="CFG_DATA"),
)

_ALIGN = {"char": 1, "u32": 4, "s32": 4, "u64": 8, "vdso_data": 8, "timespec": 8}


@record(frozen=True)
class Layout:
    """One ``struct vdso_arch_data`` layout: ``ppc64`` (also a compat vdso32's) or ``ppc32``."""
    name: str
    fields: tuple[Field, ...]

    @property
    def size(self) -> int:
        return self.fields[-1].offset + self.fields[-1].size

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"no data-page field {name} in the {self.name} layout")

    @property
    def data_offset(self) -> int:
        return self.field("data").offset


PPC64_LAYOUT = Layout("ppc64", ARCH64_FIELDS)
PPC32_LAYOUT = Layout("ppc32", ARCH32_FIELDS)


def layout_for(target: Target) -> Layout:
    """The arch-data layout the image of ``target`` reads (a ppc32 image: a 32-bit kernel's)."""
    return PPC64_LAYOUT if target.bits == 64 else PPC32_LAYOUT


def _check_table(fields: tuple[Field, ...], size: int | None = None) -> None:
    """A gap-free C struct with naturally aligned members (padding only before an
    8-aligned member), so the C header's static asserts hold on every ABI."""
    at = 0
    for f in fields:
        align = _ALIGN[f.ctype]
        at = (at + align - 1) // align * align
        assert f.offset == at, f"{f.name} at {f.offset:#x}, expected {at:#x}"
        at += f.size
    if size is not None:
        assert at == size, f"size {at:#x}, expected {size:#x}"


_check_table(VDSO_DATA_FIELDS, VDSO_DATA_SIZE)
_check_table(ARCH64_FIELDS)
_check_table(ARCH32_FIELDS)


def basetime_offset(clock: int) -> int:
    """Offset of ``basetime[clock].sec`` inside a ``struct vdso_data``."""
    return VDSO_DATA_FIELDS[6].offset + clock * TIMESPEC_SIZE


# --- asm include -----------------------------------------------------------------------------

def asm_constants(target: Target, page_size: int) -> dict[str, int]:
    """Every constant the 6.1 vDSO sources use, by name (the include's content). No name
    starts with ``VDSO_``: each becomes a local absolute symbol of every object, and the
    kernel's offsets header takes every ``VDSO_<name>`` symbol of the image for an offset."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size {page_size} is not one of {PAGE_SIZES}")
    layout = layout_for(target)
    consts: dict[str, int] = {}
    for f in layout.fields:
        if f.asm:
            consts[f.asm] = f.offset
    for f in VDSO_DATA_FIELDS:
        if f.asm:
            consts[f.asm] = f.offset
    consts["VD_SIZE"] = VDSO_DATA_SIZE
    consts["VD_BASETIME_SIZE"] = TIMESPEC_SIZE
    consts["CFG_CLOCKMODE"] = layout.data_offset + VDSO_DATA_FIELDS[1].offset
    consts["CFG_RAW_DATA"] = layout.data_offset + CS_RAW * VDSO_DATA_SIZE
    consts.update(CLOCKS)
    consts.update(MAX_CLOCKS=MAX_CLOCKS, CLOCKS_HRES=VDSO_HRES, CLOCKS_COARSE=VDSO_COARSE,
                  CLOCKS_RAW=VDSO_RAW, CLOCKMODE_TIMENS=CLOCKMODE_TIMENS,
                  NSEC_PER_SEC=NSEC_PER_SEC, LOW_RES_NSEC=LOW_RES_NSEC)
    consts.update(SYSCALLS)
    consts["__NR_syscalls"] = NR_SYSCALLS
    consts.update(USER_STRUCTS)
    if target.bits == 32:
        consts.update(L1_CACHE_BYTES=1 << L1_CACHE_SHIFT_32, L1_CACHE_SHIFT=L1_CACHE_SHIFT_32)
    consts.update(PAGE_SIZE=page_size, PAGE_SHIFT=page_size.bit_length() - 1,
                  VVAR_SIZE=VVAR_PAGES * page_size)
    return consts


def asm_include(target: Target, page_size: int) -> str:
    """Text of the 6.1 ``vdso_datapage.inc`` for ``target`` and the kernel's page size."""
    layout = layout_for(target)
    lines = [f"# generated by vdsotool from vdsotool/abi/datapage61.py for {target.name}, "
             f"{page_size // 1024} KiB pages: do not edit",
             f"# struct vdso_arch_data ({layout.name}, Linux 6.1), struct vdso_data, clocks"]
    lines += [f".set {name}, {value:#x}" for name, value in asm_constants(target, page_size).items()]
    return "\n".join(lines) + "\n"


# --- C header --------------------------------------------------------------------------------

_CTYPES = {"char": "char", "u32": "uint32_t", "s32": "int32_t", "u64": "uint64_t",
           "vdso_data": "struct vdso61_data", "timespec": "struct vdso61_timestamp"}


def c_header() -> str:
    """A C header describing both arch layouts and ``struct vdso_data``, with a static assert
    per field offset (the harness and tests compile it for each target)."""
    out = ["/* generated by vdsotool from vdsotool/abi/datapage61.py: do not edit */",
           "#ifndef VDSOTOOL_DATAPAGE61_H", "#define VDSOTOOL_DATAPAGE61_H", "",
           "#include <stddef.h>", "#include <stdint.h>", "",
           f"#define VDSO61_NR_SYSCALLS {NR_SYSCALLS}",
           f"#define VDSO61_SYSCALL_MAP_SIZE {SYSCALL_MAP_SIZE}",
           f"#define VDSO61_BASES {VDSO_BASES}",
           f"#define VDSO61_CLOCKMODE_TIMENS {CLOCKMODE_TIMENS:#x}",
           f"#define VDSO61_VVAR_PAGES {VVAR_PAGES}", "",
           "struct vdso61_timestamp { uint64_t sec; uint64_t nsec; };", ""]

    def struct_lines(tag: str, fields: tuple[Field, ...], size: int) -> list[str]:
        body = [f"struct {tag} {{"]
        for f in fields:
            dim = f"[{f.count}]" if f.count != 1 else ""
            body.append(f"\t{_CTYPES[f.ctype]} {f.name}{dim}; /* {f.offset:#05x} */")
        body.append("};")
        for f in fields:
            body.append(f"_Static_assert(offsetof(struct {tag}, {f.name}) == {f.offset:#x}, "
                        f"\"{tag}.{f.name}\");")
        body.append(f"_Static_assert(sizeof(struct {tag}) == {size:#x}, \"{tag} size\");")
        return body + [""]

    out += struct_lines("vdso61_data", VDSO_DATA_FIELDS, VDSO_DATA_SIZE)
    out.append("#if defined(__powerpc64__) || defined(VDSO61_PPC64_LAYOUT)")
    out += struct_lines("vdso61_arch_data", ARCH64_FIELDS, PPC64_LAYOUT.size)
    out.append("#else")
    out += struct_lines("vdso61_arch_data", ARCH32_FIELDS, PPC32_LAYOUT.size)
    out += ["#endif", "", "#endif", ""]
    return "\n".join(out)


# --- Python model: pack / unpack -----------------------------------------------------------

_FMT = {"u32": "I", "s32": "i", "u64": "Q"}
_MASK = {"u32": 0xFFFFFFFF, "s32": None, "u64": (1 << 64) - 1}


def default_data() -> dict[str, object]:
    """One ``struct vdso_data``, all zero (basetime as (sec, nsec) pairs)."""
    values: dict[str, object] = {f.name: 0 for f in VDSO_DATA_FIELDS}
    values["basetime"] = [(0, 0)] * VDSO_BASES
    return values


def default_values(layout: Layout) -> dict[str, object]:
    """An all-zero page of ``layout`` (data elements included)."""
    values: dict[str, object] = {}
    for f in layout.fields:
        if f.ctype == "vdso_data":
            values[f.name] = [default_data() for _ in range(f.count)]
        elif f.ctype == "char":
            values[f.name] = b""
        else:
            values[f.name] = [0] * f.count if f.count != 1 else 0
    return values


def _pack_scalar(buf: bytearray, order: str, f: Field, offset: int, value) -> None:
    items = list(value) if f.count != 1 else [value]
    if len(items) != f.count:
        raise ValueError(f"{f.name} needs {f.count} items, got {len(items)}")
    if f.ctype == "s32":
        items = [v - (1 << 32) if v >= 1 << 31 else v for v in items]
    struct.pack_into(f"{order}{f.count}{_FMT[f.ctype]}", buf, offset, *items)


def _pack_data(buf: bytearray, order: str, offset: int, values: dict[str, object]) -> None:
    unknown = set(values) - {f.name for f in VDSO_DATA_FIELDS}
    if unknown:
        raise KeyError(f"unknown vdso_data fields: {sorted(unknown)}")
    merged = default_data() | values
    for f in VDSO_DATA_FIELDS:
        v = merged[f.name]
        if f.ctype == "timespec":
            slots = list(v)
            if len(slots) != VDSO_BASES:
                raise ValueError(f"basetime needs {VDSO_BASES} slots")
            for i, (sec, nsec) in enumerate(slots):
                struct.pack_into(f"{order}QQ", buf, offset + f.offset + i * TIMESPEC_SIZE,
                                 sec & _MASK["u64"], nsec & _MASK["u64"])
        else:
            _pack_scalar(buf, order, f, offset + f.offset, v)


def pack(target: Target, values: dict[str, object], size: int | None = None) -> bytes:
    """The data page (``size`` bytes, default the struct's) in ``target``'s byte order and
    layout. ``values["data"]`` is a list of up to two ``vdso_data`` dicts; missing fields
    are zero."""
    layout = layout_for(target)
    known = {f.name for f in layout.fields}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"unknown {layout.name} data-page fields: {sorted(unknown)}")
    order = "<" if target.little else ">"
    buf = bytearray(size if size is not None else layout.size)
    for f in layout.fields:
        if f.name not in values or f.count == 0:
            continue
        v = values[f.name]
        if f.ctype == "char":
            raw = bytes(v)
            if len(raw) > f.size:
                raise ValueError(f"{f.name} longer than {f.size} bytes")
            buf[f.offset:f.offset + len(raw)] = raw
        elif f.ctype == "vdso_data":
            elements = list(v)
            if len(elements) > f.count:
                raise ValueError(f"data has {f.count} elements")
            for i, element in enumerate(elements):
                _pack_data(buf, order, f.offset + i * VDSO_DATA_SIZE, element)
        else:
            _pack_scalar(buf, order, f, f.offset, v)
    return bytes(buf)


def unpack_data(target: Target, raw: bytes, offset: int) -> dict[str, object]:
    order = "<" if target.little else ">"
    values: dict[str, object] = {}
    for f in VDSO_DATA_FIELDS:
        if f.ctype == "timespec":
            values[f.name] = [struct.unpack_from(f"{order}QQ", raw,
                                                 offset + f.offset + i * TIMESPEC_SIZE)
                              for i in range(VDSO_BASES)]
        else:
            values[f.name] = struct.unpack_from(f"{order}{_FMT[f.ctype]}", raw,
                                                offset + f.offset)[0]
    return values


def unpack(target: Target, raw: bytes) -> dict[str, object]:
    """Inverse of :func:`pack`."""
    layout = layout_for(target)
    order = "<" if target.little else ">"
    values: dict[str, object] = {}
    for f in layout.fields:
        if f.ctype == "char":
            values[f.name] = bytes(raw[f.offset:f.offset + f.size])
        elif f.ctype == "vdso_data":
            values[f.name] = [unpack_data(target, raw, f.offset + i * VDSO_DATA_SIZE)
                              for i in range(f.count)]
        else:
            items = struct.unpack_from(f"{order}{f.count}{_FMT[f.ctype]}", raw, f.offset)
            values[f.name] = list(items) if f.count != 1 else items[0]
    return values


def syscall_map(implemented) -> list[int]:
    """The map words for a set of syscall numbers: bit n is MSB-first in word n // 32."""
    words = [0] * SYSCALL_MAP_SIZE
    for n in implemented:
        if not 0 <= n < NR_SYSCALLS:
            raise ValueError(f"syscall {n} outside 0..{NR_SYSCALLS - 1}")
        words[n // 32] |= 0x80000000 >> (n % 32)
    return words


def timens_values(offsets: dict[int, tuple[int, int]],
                  raw_offsets: dict[int, tuple[int, int]] | None = None) -> dict[str, object]:
    """The time-namespace page (§2.2): data[0] and data[1] with seq 1, clock_mode TIMENS and
    the namespace offsets (by clock id) in ``offset[]`` (basetime's storage)."""
    def element(offs: dict[int, tuple[int, int]]) -> dict[str, object]:
        slots = [(0, 0)] * VDSO_BASES
        for clk, (sec, nsec) in offs.items():
            slots[clk] = (sec, nsec)
        return {"seq": 1, "clock_mode": CLOCKMODE_TIMENS, "basetime": slots}
    return {"data": [element(offsets), element(raw_offsets or {})]}
