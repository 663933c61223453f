"""CPUs and the vDSO symbol patches their kernels apply at boot, as data (kernel 2.6.15 shape).

One vDSO image serves every CPU; where a CPU wants different code, the image carries both
variants and the kernel redirects the exported symbol at boot. 2.6.15's
``arch/powerpc/kernel/vdso.c`` walks a table of ``struct vdso_patch_def {ftr_mask,
ftr_value, gen_name, fix_name}`` (reference §7). For every entry whose
``cur_cpu_spec->cpu_features & ftr_mask == ftr_value``, in table order, and in both the
32-bit and the 64-bit image:

* it looks ``gen_name`` up in ``.dynsym`` (linear scan from entry 0, skipping entries with
  ``st_name == 0``, the name cut to 63 characters and at the first ``@``; first match wins);
  a missing symbol is logged and the entry skipped;
* with a ``fix_name``, it copies ``st_value``, ``st_size``, ``st_info``, ``st_other`` and
  ``st_shndx`` of ``fix_name``'s entry over ``gen_name``'s (the name stays, so a lookup of
  ``gen_name`` now finds ``fix_name``'s code);
* without one (``fix_name`` empty here, NULL in C) it sets ``gen_name``'s ``st_name`` to 0:
  the symbol is hidden, a lookup no longer finds it.

The two 2.6.15 entries are below: POWER5 and later snoop the instruction cache
(``CPU_FTR_COHERENT_ICACHE``), so ``__kernel_sync_dicache`` becomes the cheap
``__kernel_sync_dicache_p5``; a CPU without a usable timebase (the 601, no
``CPU_FTR_USE_TB``) must not offer ``__kernel_gettimeofday``. (The 2005 ppc64 kernel
matched PVR values 0x003A0000/0x003B0000 under mask 0xFFFF0000 instead of a feature; the
feature form selects the same CPUs.)

The table itself is data: ``vdsotool/abi/cpus.toml`` (feature bits with the kernel's own
values, the CPUs in cputable order, the patches), read once by :func:`default_table`. PVRs
are matched as ``(PVR & pvr_mask) == pvr_value`` (``struct cpu_spec``); as in the kernel,
the first match in table order identifies the CPU (:meth:`CpuTable.for_pvr`), so a
catch-all entry (mask 0) comes last. ``bits`` is the widest mode the CPU runs (a 64-bit
CPU maps the 32-bit image for compat processes too); ``little_endian`` says whether a
ppc64le kernel runs on it.

A kernel build teaches vdsotool its own CPUs without forking: ``--cpus FILE`` (on
``build``, ``cpus``, ``patch`` and ``dump``) reads a file of the same format over the
packaged table (:func:`load_table`): a CPU whose name (case-insensitively) is already in
the table replaces that entry where it stands; a new CPU goes before the table's first
catch-all entry (pvr_mask 0), else at the end; ``[features]`` adds feature bits (a name
already defined must keep its value); ``[[patch]]`` entries are appended to the patches.
Every command that uses the table takes it as a value (:class:`CpuTable`).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from vdsotool.errors import SourceLoc, VdsoError
from vdsotool.util.records import field, record

TABLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpus.toml")
# Bounds on what a --cpus file can make vdsotool hold.
MAX_TABLE_BYTES = 1 << 20
MAX_CPUS = 1024
MAX_PATCHES = 256
_NAME = re.compile(r"[A-Za-z0-9_+-]{1,63}")


@record(frozen=True)
class Cpu:
    name: str
    pvr_value: int
    pvr_mask: int
    features: int
    bits: int  # 32 or 64: the widest mode it runs
    little_endian: bool = False  # a ppc64le kernel runs on it

    @property
    def c_name(self) -> str:
        """The name as a C identifier part (``POWER5+`` -> ``POWER5_plus``)."""
        return self.name.replace("+", "_plus").replace("-", "_")

    def maps(self, bits: int, little: bool) -> bool:
        """Does a kernel for this CPU map an image of that word size and byte order?"""
        if little:
            return self.little_endian and bits == 64
        return bits <= self.bits

    def matches_pvr(self, pvr: int) -> bool:
        return pvr & self.pvr_mask == self.pvr_value


@record(frozen=True)
class Patch:
    ftr_mask: int
    ftr_value: int
    gen_name: str
    fix_name: str  # "" hides gen_name (st_name = 0)

    def applies_to(self, cpu: Cpu) -> bool:
        return cpu.features & self.ftr_mask == self.ftr_value

    @property
    def hides(self) -> bool:
        return not self.fix_name


@record(frozen=True)
class CpuTable:
    """The feature bits (name, bit) in file order, the CPUs in cputable order, the patches
    in the order the kernel applies them."""

    features: tuple[tuple[str, int], ...]
    cpus: tuple[Cpu, ...]
    patches: tuple[Patch, ...]
    # today's kernels (``[today]``): their feature bits and CPUs, for feature fixups
    today_features: tuple[tuple[str, int], ...] = field(default=())
    today_cpus: tuple[Cpu, ...] = field(default=())

    def named_today(self, name: str) -> Cpu | None:
        """The today's-kernel CPU called ``name`` (case-insensitive), or None."""
        return next((c for c in self.today_cpus if c.name.lower() == name.lower()), None)

    def today_feature_list(self, features: int) -> list[str]:
        """Names of today's feature bits set in ``features``, in bit order."""
        return [name for name, bit in sorted(self.today_features, key=lambda f: f[1])
                if features & bit]

    def today_bit(self, name: str) -> int:
        """Today's feature bit called ``name`` (0 when the table has none)."""
        return dict(self.today_features).get(name, 0)

    def named(self, name: str) -> Cpu | None:
        """The CPU called ``name`` (case-insensitive), or None."""
        return next((c for c in self.cpus if c.name.lower() == name.lower()), None)

    def for_pvr(self, pvr: int) -> Cpu | None:
        """The CPU a kernel identifies from its PVR: the first entry that matches."""
        return next((c for c in self.cpus if c.matches_pvr(pvr)), None)

    def mapping(self, bits: int, little: bool) -> list[Cpu]:
        """The CPUs whose kernels map an image of that word size and byte order, in order."""
        return [c for c in self.cpus if c.maps(bits, little)]

    def bit(self, name: str) -> int:
        """The feature bit called ``name`` (KeyError when there is none)."""
        return dict(self.features)[name]

    def feature_list(self, features: int) -> list[str]:
        """Names of the known feature bits set in ``features``, in bit order."""
        return [name for name, bit in sorted(self.features, key=lambda f: f[1])
                if features & bit]


@lru_cache(maxsize=1)
def default_table() -> CpuTable:
    """The packaged table, ``vdsotool/abi/cpus.toml``."""
    return _read(TABLE_FILE, None)


def load_table(files: list[str | os.PathLike] | tuple = ()) -> CpuTable:
    """The packaged table with each of ``files`` (``--cpus``) read over it, in order;
    raises VdsoError located in the file for anything malformed."""
    table = default_table()
    for path in files:
        table = _read(os.fspath(path), table)
    return table


# --- reading a table file ------------------------------------------------------------------

class _File:
    """A table file's text, for locating diagnostics: the n-th ``[[cpu]]``/``[[patch]]``
    header and the ``[features]`` header."""

    def __init__(self, path: str, text: str):
        self.path, self.lines = path, text.split("\n")

    def loc(self, line: int, col: int = 0) -> SourceLoc:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return SourceLoc(self.path, line if text is not None else 0, col, text)

    def header(self, name: str, n: int | None = None) -> SourceLoc:
        pattern = re.compile(r"[ \t]*\[\[[ \t]*" + name + r"[ \t]*\]\]" if n is not None
                             else r"[ \t]*\[[ \t]*" + name + r"[ \t]*\]")
        seen = 0
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                if n is None or seen == n:
                    return self.loc(number)
                seen += 1
        return self.loc(0)

    def error(self, loc: SourceLoc, message: str) -> VdsoError:
        return VdsoError.at(loc, message)


def _read(path: str, base: CpuTable | None) -> CpuTable:
    import tomllib

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TABLE_BYTES + 1)
    except OSError as e:
        raise VdsoError.at(SourceLoc(path, 0), f"cannot read CPU table: {e.strerror}") from None
    if len(data) > MAX_TABLE_BYTES:
        raise VdsoError.at(SourceLoc(path, 0),
                           f"CPU table larger than {MAX_TABLE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise VdsoError.at(SourceLoc(path, 0), f"CPU table is not UTF-8: {e.reason}") from None
    file = _File(path, text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        where = re.search(r"\(at line (\d+), column (\d+)\)$", str(e))
        message = re.sub(r" \(at line \d+, column \d+\)$|\(at end of document\)$", "",
                         str(e)).strip()
        loc = file.loc(int(where[1]), int(where[2])) if where else file.loc(0)
        raise VdsoError.at(loc, f"bad TOML: {message}") from None
    unknown = sorted(set(doc) - {"features", "cpu", "patch", "today"})
    if unknown:
        raise file.error(file.loc(0), f"unknown table '{unknown[0]}' (a CPU table has "
                                      "[features], [[cpu]], [[patch]] and [today])")
    features = _features(file, doc.get("features", {}), base)
    cpus = _cpus(file, doc, "cpu", dict(features), list(base.cpus) if base else [],
                 base is not None)
    today = doc.get("today", {})
    if not isinstance(today, dict) or set(today) - {"features", "cpu"}:
        raise file.error(file.header("today"), "'today' holds [today.features] and "
                                               "[[today.cpu]] only")
    today_features = _features(file, today.get("features", {}),
                               CpuTable(base.today_features, (), ()) if base else None,
                               "today.features")
    today_cpus = _cpus(file, today, "today.cpu", dict(today_features),
                       list(base.today_cpus) if base else [], base is not None)
    patches = list(base.patches) if base else []
    for n, entry in enumerate(_array(file, doc, "patch", MAX_PATCHES)):
        patches.append(_patch(file, file.header("patch", n), entry, dict(features)))
        if len(patches) > MAX_PATCHES:
            raise file.error(file.header("patch", n), f"more than {MAX_PATCHES} patches")
    return CpuTable(tuple(features), tuple(cpus), tuple(patches), tuple(today_features),
                    tuple(today_cpus))


def _cpus(file: _File, doc: dict, key: str, names: dict[str, int], cpus: list[Cpu],
          over: bool) -> list[Cpu]:
    """``cpus`` with the ``[[key]]`` entries of ``doc`` read in (``over``: over a base
    table, where a known name replaces its entry)."""
    for n, entry in enumerate(_array(file, doc, key.rsplit(".", 1)[-1], MAX_CPUS, key)):
        cpu = _cpu(file, file.header(key, n), entry, names)
        at = next((i for i, c in enumerate(cpus) if c.name.lower() == cpu.name.lower()), None)
        if at is not None and not over:
            raise file.error(file.header(key, n), f"CPU '{cpu.name}' is defined twice")
        if at is not None:
            cpus[at] = cpu
        else:
            catch_all = next((i for i, c in enumerate(cpus) if c.pvr_mask == 0), len(cpus))
            cpus.insert(catch_all if over else len(cpus), cpu)
        if len(cpus) > MAX_CPUS:
            raise file.error(file.header(key, n), f"more than {MAX_CPUS} CPUs")
    c_names = {}
    for cpu in cpus:
        if c_names.setdefault(cpu.c_name, cpu.name) != cpu.name:
            raise file.error(file.loc(0), f"CPUs '{c_names[cpu.c_name]}' and '{cpu.name}' "
                                          f"have the same C name {cpu.c_name}")
    return cpus


def _array(file: _File, doc: dict, key: str, limit: int, full: str | None = None) -> list[dict]:
    entries = doc.get(key, [])
    full = full or key
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise file.error(file.loc(0), f"'{full}' must be an array of tables ([[{full}]])")
    if len(entries) > limit:
        raise file.error(file.loc(0), f"more than {limit} [[{full}]] entries")
    return entries


def _features(file: _File, table, base: CpuTable | None,
              key: str = "features") -> list[tuple[str, int]]:
    loc = file.header(key)
    if not isinstance(table, dict):
        raise file.error(loc, f"'{key}' must be a table of NAME = bit")
    out = list(base.features) if base else []
    known = dict(out)
    for name, bit in table.items():
        if not _NAME.fullmatch(name):
            raise file.error(loc, f"bad feature name '{name}'")
        if type(bit) is not int or bit <= 0 or bit >= 1 << 64 or bit & (bit - 1):
            raise file.error(loc, f"feature {name}: {bit!r} is not one bit of a 64-bit word")
        if name in known:
            if known[name] != bit:
                raise file.error(loc, f"feature {name} is {known[name]:#x} already, "
                                      f"not {bit:#x}")
            continue
        other = next((n for n, b in out if b == bit), None)
        if other is not None:
            raise file.error(loc, f"features {other} and {name} are the same bit {bit:#x}")
        out.append((name, bit))
        known[name] = bit
    return out


def _bits(file: _File, loc: SourceLoc, what: str, names, known: dict[str, int]) -> int:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise file.error(loc, f"{what} must be a list of feature names")
    value = 0
    for name in names:
        if name not in known:
            raise file.error(loc, f"{what}: unknown feature '{name}' "
                                  f"(known: {', '.join(known)})")
        value |= known[name]
    return value


def _check_keys(file: _File, loc: SourceLoc, entry: dict, required: set, optional: set,
                what: str) -> None:
    missing = sorted(required - set(entry))
    if missing:
        raise file.error(loc, f"{what} has no '{missing[0]}'")
    extra = sorted(set(entry) - required - optional)
    if extra:
        raise file.error(loc, f"{what}: unknown key '{extra[0]}'")


def _word(file: _File, loc: SourceLoc, what: str, value) -> int:
    if type(value) is not int or not 0 <= value < 1 << 32:
        raise file.error(loc, f"{what} must be a 32-bit unsigned integer, not {value!r}")
    return value


def _cpu(file: _File, loc: SourceLoc, entry: dict, known: dict[str, int]) -> Cpu:
    _check_keys(file, loc, entry, {"name", "pvr_value", "pvr_mask", "features", "bits"},
                {"little_endian"}, "[[cpu]]")
    name = entry["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise file.error(loc, f"CPU name {name!r}: 1 to 63 letters, digits, '_', '+', '-'")
    what = f"CPU {name}"
    value = _word(file, loc, f"{what}: pvr_value", entry["pvr_value"])
    mask = _word(file, loc, f"{what}: pvr_mask", entry["pvr_mask"])
    if value & ~mask:
        raise file.error(loc, f"{what}: pvr_value {value:#010x} has bits outside pvr_mask "
                              f"{mask:#010x}: no PVR would match")
    features = _bits(file, loc, f"{what}: features", entry["features"], known)
    bits, little = entry["bits"], entry.get("little_endian", False)
    if type(bits) is not int or bits not in (32, 64):
        raise file.error(loc, f"{what}: bits must be 32 or 64, not {bits!r}")
    if not isinstance(little, bool) or (little and bits != 64):
        raise file.error(loc, f"{what}: little_endian must be true or false, and true only "
                              "for a 64-bit CPU")
    return Cpu(name, value, mask, features, bits, little)


def _patch(file: _File, loc: SourceLoc, entry: dict, known: dict[str, int]) -> Patch:
    _check_keys(file, loc, entry, {"mask", "value", "symbol"}, {"fix"}, "[[patch]]")
    symbol, fix = entry["symbol"], entry.get("fix", "")
    for what, name in (("symbol", symbol), ("fix", fix)):
        if not isinstance(name, str) or len(name) > 63 or not name.isprintable() or \
                "@" in name or (what == "symbol" and not name):
            raise file.error(loc, f"[[patch]] {what} {name!r}: a symbol name of at most 63 "
                                  "characters, without '@'")
    mask = _bits(file, loc, f"patch of {symbol}: mask", entry["mask"], known)
    value = _bits(file, loc, f"patch of {symbol}: value", entry["value"], known)
    if value & ~mask:
        raise file.error(loc, f"patch of {symbol}: value names a feature outside mask")
    return Patch(mask, value, symbol, fix)


# --- the packaged table by name ------------------------------------------------------------

def cpu_named(name: str, table: CpuTable | None = None) -> Cpu | None:
    """The CPU called ``name`` (case-insensitive) in ``table`` (default: the packaged one)."""
    return (table or default_table()).named(name)


def cpu_for_pvr(pvr: int, cpus: tuple[Cpu, ...] | None = None) -> Cpu | None:
    """The CPU a kernel identifies from its PVR: the first entry of ``cpus`` (default: the
    packaged table's) that matches."""
    return next((c for c in (default_table().cpus if cpus is None else cpus)
                 if c.matches_pvr(pvr)), None)


def cpus_for(bits: int, little: bool, table: CpuTable | None = None) -> list[Cpu]:
    """The CPUs whose kernels map an image of that word size and byte order, in order."""
    return (table or default_table()).mapping(bits, little)


def feature_list(features: int, table: CpuTable | None = None) -> list[str]:
    """Names of the known feature bits set in ``features``, in bit order."""
    return (table or default_table()).feature_list(features)

