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

Feature bits carry the kernel's own values (asm-ppc64/cputable.h of 2.6.13–2.6.15), so the
emitted C tables can be compared with ``cur_cpu_spec->cpu_features`` directly.
``COHERENT_ICACHE`` is a 64-bit-kernel bit: 32-bit kernels of that era define it as 0.

PVRs are matched as ``(PVR & pvr_mask) == pvr_value`` (``struct cpu_spec``); values from
the kernel's cputable. As there, the first match in table order identifies the CPU
(:func:`cpu_for_pvr`), so a catch-all entry (mask 0) must come last. ``bits`` is the widest mode the CPU runs (a 64-bit CPU maps the
32-bit image for compat processes too); ``little_endian`` says whether a little-endian
(ppc64le) kernel runs on it (``CPU_FTRS_POSSIBLE`` of CONFIG_CPU_LITTLE_ENDIAN: POWER7,
POWER8, POWER9).

Adding a CPU or a patch is a data change here; the patch tables, the C blob, ``vdsotool
cpus``/``patch`` and their tests follow.
"""

from __future__ import annotations

from vdsotool.util.records import record

# Kernel CPU feature bits (cpu_spec.cpu_features), the kernel's values.
ALTIVEC = 0x0000000000000008
USE_TB = 0x0000000000000040
CPU_601 = 0x0000000000000100
COHERENT_ICACHE = 0x0000020000000000

FEATURE_NAMES: dict[int, str] = {
    ALTIVEC: "ALTIVEC",
    USE_TB: "USE_TB",
    CPU_601: "601",
    COHERENT_ICACHE: "COHERENT_ICACHE",
}


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


_MASK = 0xFFFF0000
CPUS: tuple[Cpu, ...] = (
    Cpu("POWER3", 0x00400000, _MASK, USE_TB, 64),                 # 630
    Cpu("RS64", 0x00330000, _MASK, USE_TB, 64),                   # RS64-II northstar
    Cpu("POWER4", 0x00350000, _MASK, USE_TB, 64),
    Cpu("PPC970", 0x00390000, _MASK, USE_TB | ALTIVEC, 64),
    Cpu("POWER5", 0x003A0000, _MASK, USE_TB | COHERENT_ICACHE, 64),
    Cpu("POWER5+", 0x003B0000, _MASK, USE_TB | COHERENT_ICACHE, 64),
    Cpu("POWER6", 0x003E0000, _MASK, USE_TB | COHERENT_ICACHE | ALTIVEC, 64),
    Cpu("POWER7", 0x003F0000, _MASK, USE_TB | COHERENT_ICACHE | ALTIVEC, 64, True),
    Cpu("POWER8", 0x004D0000, _MASK, USE_TB | COHERENT_ICACHE | ALTIVEC, 64, True),
    Cpu("POWER9", 0x004E0000, _MASK, USE_TB | COHERENT_ICACHE | ALTIVEC, 64, True),
    # No timebase (it has the POWER RTC instead): gettimeofday is hidden.
    Cpu("601", 0x00010000, _MASK, CPU_601, 32),
    # The cputable's last-resort 32-bit entry: matches any PVR, so it stays last.
    Cpu("generic32", 0x00000000, 0x00000000, USE_TB, 32),
)

PATCHES: tuple[Patch, ...] = (
    Patch(COHERENT_ICACHE, COHERENT_ICACHE, "__kernel_sync_dicache", "__kernel_sync_dicache_p5"),
    Patch(USE_TB, 0, "__kernel_gettimeofday", ""),
)


def cpu_named(name: str) -> Cpu | None:
    """The CPU called ``name`` (case-insensitive), or None."""
    return next((c for c in CPUS if c.name.lower() == name.lower()), None)


def cpu_for_pvr(pvr: int, cpus: tuple[Cpu, ...] | None = None) -> Cpu | None:
    """The CPU a kernel identifies from its PVR: the first entry that matches."""
    return next((c for c in (CPUS if cpus is None else cpus) if c.matches_pvr(pvr)), None)


def cpus_for(bits: int, little: bool) -> list[Cpu]:
    """The CPUs whose kernels map an image of that word size and byte order, in table order."""
    return [c for c in CPUS if c.maps(bits, little)]


def feature_list(features: int) -> list[str]:
    """Names of the known feature bits set in ``features``, in bit order."""
    return [name for bit, name in sorted(FEATURE_NAMES.items()) if features & bit]
