"""The signal-frame layouts of vdsotool/abi/sigframes.py against the C structures that the
cross toolchains' glibc and kernel headers declare (``ucontext_t``, ``mcontext_t``,
``struct sigcontext``, ``struct pt_regs``, ``vrregset_t``).

Nothing here is retyped from the headers: a probe C file puts ``offsetof``/``sizeof``
expressions into an ``unsigned long`` array, each cross gcc compiles it, and the values
are read back from the object with pyelftools.  Only what no header declares comes from
sigframes.py itself: the dummy stack frame below the signal frame (``__SIGNAL_FRAMESIZE``
is kernel-internal) and the 16-byte gap in front of the 32-bit rt_sigframe.
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import need_tool
from vdsotool.abi import sigframes as S
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE, Target

TARGETS = [PPC32, PPC64, PPC64LE]

# Probes true on both word sizes: struct pt_regs slots (uapi asm/ptrace.h) and gregs size.
COMMON = {
    "regsize": "sizeof(((gregset_t *)0)[0][0])",
    "greg_slots": "sizeof(gregset_t) / sizeof(((gregset_t *)0)[0][0])",
    "nip": "offsetof(struct pt_regs, nip) / sizeof(unsigned long)",
    "msr": "offsetof(struct pt_regs, msr) / sizeof(unsigned long)",
    "ctr": "offsetof(struct pt_regs, ctr) / sizeof(unsigned long)",
    "link": "offsetof(struct pt_regs, link) / sizeof(unsigned long)",
    "xer": "offsetof(struct pt_regs, xer) / sizeof(unsigned long)",
    "ccr": "offsetof(struct pt_regs, ccr) / sizeof(unsigned long)",
    "pt_nip": "PT_NIP",
    "pt_lnk": "PT_LNK",
    "pt_ccr": "PT_CCR",
    "pt_fpr0": "PT_FPR0",
    # the 32-bit CR value is the low-order half of the register-sized ccr field
    "cr_word": "(__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) ? sizeof(((struct pt_regs *)0)->ccr) - 4 : 0",
    "vr_size": "sizeof(((vrregset_t *)0)->vrregs[0])",
    "vr_count": "sizeof(((vrregset_t *)0)->vrregs) / sizeof(((vrregset_t *)0)->vrregs[0])",
    "vrsave": "offsetof(vrregset_t, vrsave)",
    "siginfo": "sizeof(siginfo_t)",
}

PPC32_PROBES = {
    "sigcontext_regs": "offsetof(struct sigcontext, regs)",
    "uc_regs": "offsetof(ucontext_t, uc_mcontext.uc_regs)",
    "fpr0": "offsetof(mcontext_t, fpregs) - offsetof(mcontext_t, gregs)",
    "fpr_size": "sizeof(((mcontext_t *)0)->fpregs.fpregs[0])",
    "vregs": "offsetof(mcontext_t, vrregs) - offsetof(mcontext_t, gregs)",
    "vscr": "offsetof(vrregset_t, vscr)",
    "sigcontext_size": "sizeof(struct sigcontext)",
    "uc_reg_space": "offsetof(ucontext_t, uc_reg_space)",
}

PPC64_PROBES = {
    "sigcontext_regs": "offsetof(struct sigcontext, regs)",
    "uc_mcontext": "offsetof(ucontext_t, uc_mcontext)",
    "mcontext_regs": "offsetof(mcontext_t, regs)",
    "fpr0": "offsetof(mcontext_t, fp_regs) - offsetof(mcontext_t, gp_regs)",
    "fpr_size": "sizeof(((mcontext_t *)0)->fp_regs[0])",
    "vregs": "offsetof(mcontext_t, v_regs) - offsetof(mcontext_t, gp_regs)",
    "vscr": "offsetof(vrregset_t, vscr) + offsetof(vscr_t, vscr_word)",
    "gp_regs_after_regs": "offsetof(mcontext_t, gp_regs) - offsetof(mcontext_t, regs)",
    "vmx_reserve": "offsetof(mcontext_t, vmx_reserve)",
}


def probe_source(probes: dict[str, str]) -> str:
    lines = ["#define _GNU_SOURCE", "#include <signal.h>", "#include <stddef.h>",
             "#include <sys/ucontext.h>", "#include <asm/ptrace.h>",
             "const unsigned long probe[] = {"]
    lines += [f"\t{expr},  /* {name} */" for name, expr in probes.items()]
    return "\n".join(lines + ["};", ""])


def compile_probe(target: Target, probes: dict[str, str], workdir) -> dict[str, int]:
    """Compile the probe with ``target``'s cross gcc; the values in the probes' order."""
    from elftools.elf.elffile import ELFFile

    gcc = need_tool(target.gnu_tool("gcc"))
    src, obj = workdir / "probe.c", workdir / "probe.o"
    src.write_text(probe_source(probes))
    proc = subprocess.run([gcc, "-c", "-O0", "-o", str(obj), str(src)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        sym = elf.get_section_by_name(".symtab").get_symbol_by_name("probe")[0]
        data = elf.get_section(sym["st_shndx"]).data()[sym["st_value"]:][:sym["st_size"]]
    words = [int.from_bytes(data[i:i + target.wordsize], target.byteorder)
             for i in range(0, len(data), target.wordsize)]
    assert len(words) == len(probes)
    return dict(zip(probes, words))


@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.name)
def declared(request, tmp_path_factory):
    target = request.param
    probes = COMMON | (PPC32_PROBES if target.bits == 32 else PPC64_PROBES)
    return target, compile_probe(target, probes, tmp_path_factory.mktemp(target.name))


def test_register_block_matches_pt_regs_and_gregset(declared):
    target, c = declared
    for layout in S.layouts_for(target):
        assert layout.regsize == c["regsize"]
        assert layout.greg(S.CCR) + layout.cr_word == layout.cr
        assert layout.cr_word == c["cr_word"]
    assert S.GREG_SLOTS == c["greg_slots"] == c["pt_fpr0"]
    slots = {"nip": S.NIP, "msr": S.MSR, "ctr": S.CTR, "link": S.LINK, "xer": S.XER,
             "ccr": S.CCR}
    assert slots == {name: c[name] for name in slots}
    assert (S.NIP, S.LINK, S.CCR) == (c["pt_nip"], c["pt_lnk"], c["pt_ccr"])


def test_fpr_and_vector_blocks_match_mcontext(declared):
    target, c = declared
    for layout in S.layouts_for(target):
        assert layout.fpr0 == c["fpr0"]
        assert layout.fpr(1) - layout.fpr(0) == c["fpr_size"]
        assert layout.vregs == c["vregs"]
        assert layout.vregs_is_pointer == (target.bits == 64)  # v_regs is a pointer in 64-bit
        assert (S.VR_SIZE, S.VR_COUNT) == (c["vr_size"], c["vr_count"])
        assert layout.vscr == c["vscr"]
        assert layout.vrsave == c["vrsave"]


def test_register_pointer_offsets_match_sigcontext_and_ucontext(declared):
    target, c = declared
    assert S.SIGINFO_SIZE == c["siginfo"]
    if target.bits == 32:
        non_rt, rt = S.layouts_for(target)
        assert non_rt.ptregs == S.PPC32_DUMMY_FRAME + c["sigcontext_regs"]
        assert rt.ptregs == (S.PPC32_DUMMY_FRAME + S.PPC32_RT_GAP + c["siginfo"]
                             + c["uc_regs"])
    else:
        (rt,) = S.layouts_for(target)
        # rt_sigframe64 starts with the ucontext; its mcontext is the 64-bit sigcontext
        assert c["mcontext_regs"] == c["sigcontext_regs"]
        assert rt.ptregs == S.PPC64_DUMMY_FRAME + c["uc_mcontext"] + c["mcontext_regs"]


def _align16(offset: int) -> int:
    return (offset + 15) & ~15


def test_register_and_vector_blocks_sit_where_the_structures_put_them(declared):
    # gregs_at / vmx_at: where the kernel puts what the frame's pointers point at
    target, c = declared
    if target.bits == 32:
        non_rt, rt = S.layouts_for(target)
        # struct sigframe: the sigcontext, then the mcontext
        assert non_rt.gregs_at == non_rt.context_at + c["sigcontext_size"]
        # glibc's ucontext keeps the mcontext at the first 16-byte boundary of uc_reg_space,
        # where the kernel's uc_mcontext is
        assert rt.gregs_at == _align16(rt.context_at + c["uc_reg_space"])
        for layout in (non_rt, rt):
            assert layout.vmx_at == layout.gregs_at + c["vregs"]  # inline in mcontext
    else:
        (rt,) = S.layouts_for(target)
        assert rt.gregs_at == rt.ptregs + c["gp_regs_after_regs"]
        # v_regs points at the first 16-byte boundary of vmx_reserve
        assert rt.vmx_at == _align16(rt.context_at + c["uc_mcontext"] + c["vmx_reserve"])


def test_probe_reads_what_gcc_computes(tmp_path):
    # the probe reader itself: distinct constants come back in order
    values = compile_probe(PPC64LE, {"a": "7", "b": "sizeof(long) * 3", "c": "0x1234"}, tmp_path)
    assert values == {"a": 7, "b": 24, "c": 0x1234}
