"""Crafted images that try to make the readers spend without bound (issue 13, items 15-17):
dump's CFI row tables, check's hash-chain walks, inputs that are not regular files; and a
seeded fuzzer of such crafted images for dump, check, patch and verify, each case in a
child process with a time and memory bound.

The images are written here from vdsotool.elf's record layouts (independently checked
against pyelftools in test_elf_layout.py): a minimal ELF with the sections and segments a
case needs, nothing a linker would add.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import time

import pytest
from conftest import run_vdsotool

from vdsotool.elf import ElfKind, read
from vdsotool.elf import constants as E
from vdsotool.elf.reader import MAX_IMAGE_SIZE
from vdsotool.inspect.check import check_image
from vdsotool.inspect.hash_check import STEPS_PER_ENTRY
from vdsotool.link.hash import elf_hash

BE64 = ElfKind(64, False)
CHILD_SECONDS = 30  # a hang guard for a loaded machine, not a speed target (make bench times)
CHILD_MEMORY = 1 << 30  # address space of a child: a bomb that allocates without bound dies


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def elf_image(sections, dynamic=(), kind=BE64, machine=E.EM_PPC64) -> bytes:
    """An ET_DYN image linked at 0: ``sections`` are (name, type, data, link name, entsize),
    laid out at file offset == address in one R-X PT_LOAD; ``dynamic``: (tag, section name
    or value) entries of a .dynamic section and PT_DYNAMIC, DT_NULL added."""
    names = [name for name, *_ in sections] + ([".dynamic"] if dynamic else []) + [".shstrtab"]
    phnum = 2 if dynamic else 1
    body = bytearray(kind.ehdr.size + phnum * kind.phdr.size)
    placed = {}
    for name, stype, data, link, entsize in sections:
        body += bytes(-len(body) % 8)
        placed[name] = (len(body), len(data), stype, link, entsize)
        body += data
    if dynamic:
        body += bytes(-len(body) % 8)
        entries = [(tag, placed[v][0] if isinstance(v, str) else v) for tag, v in dynamic]
        data = b"".join(kind.dyn.pack(t, v) for t, v in [*entries, (E.DT_NULL, 0)])
        placed[".dynamic"] = (len(body), len(data), E.SHT_DYNAMIC, None, kind.dyn.size)
        body += data
    shstrtab = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    placed[".shstrtab"] = (len(body), len(shstrtab), E.SHT_STRTAB, None, 0)
    body += shstrtab + bytes(-(len(body) + len(shstrtab)) % 8)
    index = {n: i + 1 for i, n in enumerate(names)}
    shoff, name_at = len(body), 1
    body += bytes(kind.shdr.size)
    for n in names:
        at, size, stype, link, entsize = placed[n]
        flags = 0 if n == ".shstrtab" else E.SHF_ALLOC
        body += kind.shdr.pack(name_at, stype, flags, at if flags else 0, at, size,
                               index.get(link, 0), 1 if stype == E.SHT_DYNSYM else 0, 8, entsize)
        name_at += len(n) + 1
    load = (E.PT_LOAD, 0, 0, 0, shoff, shoff, E.PF_R | E.PF_X, 0x10000)
    phdrs = [load] + ([(E.PT_DYNAMIC, placed[".dynamic"][0], placed[".dynamic"][0], 0,
                        placed[".dynamic"][1], placed[".dynamic"][1], E.PF_R, 8)]
                      if dynamic else [])
    body[:kind.ehdr.size] = kind.ehdr.pack(kind.ident(), E.ET_DYN, machine, E.EV_CURRENT, 0,
                                           kind.ehdr.size, shoff, 0, kind.ehdr.size,
                                           kind.phdr.size, phnum, kind.shdr.size,
                                           len(names) + 1, len(names))
    for i, p in enumerate(phdrs):
        at = kind.ehdr.size + i * kind.phdr.size
        body[at:at + kind.phdr.size] = kind.phdr.pack(*p)
    return bytes(body)


def eh_frame(cie_regs: int, fdes: int, advances: int, late_regs: int = 0, kind=BE64) -> bytes:
    """A CIE setting ``cie_regs`` registers, then ``fdes`` FDEs each advancing ``advances``
    times and then setting ``late_regs`` registers: row tables of rows x registers."""
    u32 = lambda v: kind.uint(v, 4)  # noqa: E731
    cie = u32(0) + b"\x01\0" + uleb(1) + b"\x78" + bytes([65])
    cie += b"".join(b"\x05" + uleb(r) + uleb(1) for r in range(cie_regs))  # offset_extended
    cie += bytes(-(len(cie) + 4) % 8)
    out = u32(len(cie)) + cie
    for i in range(fdes):
        body = u32(len(out) + 4) + kind.uint(0x100 * i, 8) + kind.uint(0x100, 8)
        body += b"\x41" * advances + b"".join(b"\x05" + uleb(r) + uleb(2)
                                             for r in range(late_regs))
        body += bytes(-(len(body) + 4) % 8)
        out += u32(len(body)) + body
    return out + u32(0)


def cfi_bomb(cie_regs, fdes, advances, late_regs=0) -> bytes:
    return elf_image([(".eh_frame", E.SHT_PROGBITS, eh_frame(cie_regs, fdes, advances, late_regs),
                       None, 0)])


def hash_bomb(nsyms: int, nbucket: int, buckets, chains, kind=BE64) -> bytes:
    """``nsyms`` exported functions in .dynsym and a SysV .hash with the given words."""
    names = [f"f{i}" for i in range(1, nsyms)]
    dynstr = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    syms = [kind.sym.pack(0, 0, 0, 0, 0, 0)]
    at = 1
    for n in names:
        syms.append(kind.sym.pack(at, 0x100, 4, E.st_info(E.STB_GLOBAL, E.STT_FUNC), 0, 1))
        at += len(n) + 1
    words = [nbucket, len(chains), *buckets, *chains]
    table = b"".join(kind.uint(w, 4) for w in words)
    return elf_image([(".hash", E.SHT_HASH, table, ".dynsym", 4),
                      (".dynsym", E.SHT_DYNSYM, b"".join(syms), ".dynstr", kind.sym.size),
                      (".dynstr", E.SHT_STRTAB, dynstr, None, 0)],
                     dynamic=[(E.DT_HASH, ".hash"), (E.DT_SYMTAB, ".dynsym"),
                              (E.DT_STRTAB, ".dynstr")], kind=kind)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def vdsotool(*args, timeout: float = CHILD_SECONDS) -> subprocess.CompletedProcess:
    """``vdsotool ARGS`` in a child with a memory bound; a hang fails the test by timeout."""
    start = time.monotonic()
    res = run_vdsotool(list(args), timeout=timeout, preexec_fn=_limits)
    res.seconds = time.monotonic() - start
    return res


# --- item 15: dump's row tables -----------------------------------------------------------

@pytest.mark.parametrize("shape", [
    (2000, 60, 90, 0),  # a CIE with 2,000 registers under 60 FDEs
    (0, 1, 30000, 3000),  # 30,000 rows, then 3,000 registers: rows x columns
    (0, 1, 60000, 1),  # rows alone
], ids=["cie-registers", "late-columns", "rows"])
def test_dump_row_tables_are_bounded(shape, tmp_path):
    path = tmp_path / "bomb.so"
    path.write_bytes(cfi_bomb(*shape))
    assert len(path.read_bytes()) < 64 << 10
    res = vdsotool("dump", "--cfi", path)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "larger than 100000 cells" in res.stderr  # one FDE's, or all records'
    assert len(res.stdout) < 10_000  # no table printed


def test_dump_shows_bounded_tables_and_refuses_a_huge_eh_frame(tmp_path):
    path = tmp_path / "ok.so"
    path.write_bytes(cfi_bomb(20, 3, 50))  # 3 x 51 rows x 21 columns: shown
    res = vdsotool("dump", "--cfi", path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("FDE cie=") == 3
    path.write_bytes(cfi_bomb(0, 1, 70000))
    res = vdsotool("dump", "--cfi", path)
    assert res.returncode == 1 and "dump shows the CFI of at most 65536 bytes" in res.stderr


# --- item 16: check's hash-chain walk -----------------------------------------------------

def test_looping_hash_chain_is_one_linear_walk_and_a_defect():
    n = 4000
    image = hash_bomb(n, 1, [1], [0] + [i + 1 for i in range(1, n - 1)] + [1])
    start = time.monotonic()
    defects = [d.message for d in check_image(read(image, "loop.so"))]
    assert time.monotonic() - start < 5  # a hang guard (quadratic was ~12 s)
    assert ".hash chain of bucket 0 loops at entry 1: a loader's lookup of a missing name " \
           "never ends" in defects
    assert not any("loses" in m for m in defects)  # every name is on the loop: found


def test_overlapping_hash_chains_stop_at_the_budget():
    """Every bucket starts the same 3,999-entry chain: walking each would be quadratic."""
    n = 4000
    image = hash_bomb(n, n, [1] * n, [0] + [i + 1 for i in range(1, n - 1)] + [0])
    start = time.monotonic()
    defects = [d.message for d in check_image(read(image, "overlap.so"))]
    assert time.monotonic() - start < 5
    assert f"walking them takes more than {STEPS_PER_ENTRY} steps per entry" in defects[-1]


def test_a_well_formed_table_built_here_loses_nothing():
    """The crafted image's table, made right, passes: the bombs above fail for their chains."""
    n = 50
    names = [f"f{i}" for i in range(1, n)]
    nbucket = 7
    buckets, chains = [0] * nbucket, [0] * n
    for i, name in enumerate(names, start=1):  # push each symbol on its bucket's chain
        b = elf_hash(name) % nbucket
        chains[i], buckets[b] = buckets[b], i
    defects = check_image(read(hash_bomb(n, nbucket, buckets, chains), "ok.so"))
    assert not any(".hash" in d.message or "DT_HASH" in d.message for d in defects), defects


# --- item 17: only regular files of a stated size -----------------------------------------

COMMANDS = [("check",), ("dump",), ("verify", "--no-exec"), ("patch", "--cpu", "POWER5", "-o")]


def _run_on(command: tuple, path, tmp_path):
    args = [*command[:1], path, *command[1:]]
    if command[0] == "patch":
        args.append(tmp_path / "out.so")
    return vdsotool(*args)


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_special_files_are_refused_not_read(command, tmp_path):
    fifo = tmp_path / "fifo.so"
    os.mkfifo(fifo)
    big = tmp_path / "big.so"
    with open(big, "wb") as f:  # sparse: no disk space used
        f.truncate(MAX_IMAGE_SIZE + 1)
    for path, message in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"),
                          (tmp_path, "cannot read image"), (big, "larger than 64 MiB")):
        res = _run_on(command, path, tmp_path)
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert f"{path}: error: " in res.stderr and message in res.stderr, res.stderr
    assert not (tmp_path / "out.so").exists()


# --- a seeded fuzzer of crafted bombs -------------------------------------------------------

def _crafted(rng: random.Random) -> bytes:
    """One crafted image from a family of resource bombs, with random sizes."""
    family = rng.choice(["cfi", "hash", "notes", "dynamic", "symbols", "headers"])
    if family == "cfi":
        return cfi_bomb(rng.choice([0, 50, 3000]), rng.randint(1, 80),
                        rng.choice([1, 500, 20000]), rng.choice([0, 10, 2500]))
    if family == "hash":
        n = rng.choice([10, 2000, 5000])
        nbucket = rng.choice([1, 3, n])
        buckets = [rng.randrange(n) for _ in range(nbucket)]
        chains = [rng.choice([0, rng.randrange(n), (i + 1) % n]) for i in range(n)]
        return hash_bomb(n, nbucket, buckets, chains)
    image = bytearray(hash_bomb(100, 1, [1], [0] + list(range(2, 100)) + [0]))
    img = read(bytes(image), "x")
    if family == "notes":  # a PT_NOTE over the whole file: notes of random sizes
        load = img.phdrs[0]
        image[load.at:load.at + BE64.phdr.size] = BE64.phdr.pack(
            E.PT_NOTE, 0, 0, 0, len(image), len(image), 4, 4)
    elif family == "dynamic":  # PT_DYNAMIC over the whole file: no DT_NULL soon
        dyn = img.phdrs[1]
        image[dyn.at:dyn.at + BE64.phdr.size] = BE64.phdr.pack(
            E.PT_DYNAMIC, 0, 0, 0, 1 << 62, 1 << 62, 4, 8)
    elif family == "symbols":  # .dynsym claiming many entries, or names past .dynstr
        sec = img.section(".dynsym")
        field = rng.choice(["sh_size", "sh_entsize", "sh_link"])
        value = {"sh_size": rng.choice([1 << 40, 24 * 70000]), "sh_entsize": 0,
                 "sh_link": 999}[field]
        at = sec.at + BE64.shdr.offset(field)
        image[at:at + BE64.shdr.width(field)] = BE64.uint(value, BE64.shdr.width(field))
    else:  # headers: counts and sizes at their maxima
        for field, value in rng.sample([("e_phnum", 0xFFFF), ("e_shnum", 0xFFFF),
                                        ("e_phentsize", 0), ("e_shentsize", 0),
                                        ("e_shstrndx", 0xFFFE)], 2):
            at = BE64.ehdr.offset(field)
            image[at:at + 2] = BE64.uint(value, 2)
    for _ in range(rng.randint(0, 3)):  # and a few random bytes
        image[rng.randrange(len(image))] = rng.randrange(256)
    return bytes(image)


def _fuzz(seeds, tmp_path) -> None:
    for seed in seeds:
        path = tmp_path / f"bomb-{seed}.so"
        path.write_bytes(_crafted(random.Random(seed)))
        for command in [("check",), ("dump", "--all"), ("verify", "--no-exec"),
                        ("patch", "--cpu", "POWER5", "-o")]:
            res = _run_on(command, path, tmp_path)
            assert res.returncode in (0, 1) and "Traceback" not in res.stderr, \
                (seed, command, res.stderr[-2000:])


def test_fuzz_crafted_bombs(tmp_path):
    _fuzz(range(6), tmp_path)


@pytest.mark.slow
def test_fuzz_crafted_bombs_slow(tmp_path):
    _fuzz(range(6, 66), tmp_path)
