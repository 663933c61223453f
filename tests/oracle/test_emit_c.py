"""Kernel outputs, the C side: the generated blob, .incbin wrapper and headers compile with
the host gcc and each Debian cross gcc (``-std=c11 -Wall -Wextra -Werror -pedantic``), and
programs built from them see exactly the image file and its ``.dynsym``.

``tests/oracle/emit/blob_check.c`` is linked with ``<stem>-blob.c`` and ``<stem>-wrapper.S``: it
compares both embedded copies with the ``.so`` it reads at run time and prints the layout,
the symbol offsets and the patch tables it was compiled with; this module compares those
with pyelftools' reading of the image, the CPU table of ``vdsotool/abi/cpus.py`` and the
Python patch tables. Cross builds run under qemu-ppc/qemu-ppc64/qemu-ppc64le. The
playing-the-kernel-at-boot test is test_emit_boot.py; the Python side is test_emit.py.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool
from emit.support import C_DIR, STRICT, Emitted, compile_c, emitted, run_program, scratch_dir

from vdsotool.abi.cpus import cpus_for
from vdsotool.abi.targets import TARGETS
from vdsotool.elf import read
from vdsotool.kernel.patches import patch_tables

TARGET_NAMES = list(TARGETS)
SHN_ABS = "SHN_ABS"


def dynsym_exports(image: bytes) -> list[tuple[str, int]]:
    """(name, st_value) of every named, defined, non-ABS .dynsym entry, per pyelftools."""
    from elftools.elf.elffile import ELFFile

    section = ELFFile(io.BytesIO(image)).get_section_by_name(".dynsym")
    return [(s.name, s["st_value"]) for s in section.iter_symbols()
            if s.name and s["st_shndx"] not in ("SHN_UNDEF", SHN_ABS)]


def compiler(e: Emitted, where: str) -> tuple[str, str | None]:
    """(gcc, qemu or None) building programs that run ``where`` ("host" or "cross")."""
    if where == "host":
        return need_tool("gcc"), None
    return need_tool(e.target.gnu_tool("gcc")), need_tool(e.target.qemu)


def blob_check(name: str, where: str, page_size: int = 4096) -> tuple[Emitted, Path, str | None]:
    """blob_check linked with the target's blob and wrapper: (outputs, program, qemu)."""
    return _blob_check(name, where, page_size)


@functools.lru_cache(maxsize=None)
def _blob_check(name: str, where: str, page_size: int) -> tuple[Emitted, Path, str | None]:
    e = emitted(name, page_size)
    gcc, qemu = compiler(e, where)
    exe = scratch_dir() / f"blob_check-{name}-{where}-{page_size}"
    static = ["-static"] if qemu else []
    compile_c(gcc, [*STRICT, "-O2", *static, *e.blob_defines(), "-o", str(exe),
                    str(C_DIR / "blob_check.c"), str(e.file("-blob.c")),
                    str(e.file("-wrapper.S"))], "blob_check")
    return e, exe, qemu


def run_blob_check(name: str, where: str, page_size: int = 4096) -> tuple[Emitted, list[list[str]]]:
    e, exe, qemu = blob_check(name, where, page_size)
    proc = run_program(exe, [str(e.file(".so"))], qemu)
    assert proc.returncode == 0 and "bytes ok" in proc.stdout.splitlines(), \
        proc.stdout + proc.stderr
    return e, [line.split() for line in proc.stdout.splitlines()]


def rows(lines: list[list[str]], kind: str) -> list[list[str]]:
    return [line[1:] for line in lines if line[0] == kind]


def check_layout(e: Emitted, lines: list[list[str]]) -> None:
    size = len(e.image)
    pages = -(-size // e.page_size)
    layouts = {row[0]: [int(v) for v in row[1:]] for row in rows(lines, "layout")}
    assert set(layouts) == {"blob", "incbin"}
    for what, (blob_size, page_size, blob_pages, mapped, alignment) in layouts.items():
        assert (blob_size, page_size, blob_pages) == (size, e.page_size, pages), what
        assert mapped == pages * e.page_size, what  # the rounded size, whole pages
        assert alignment >= e.page_size, what


def check_tables(e: Emitted, lines: list[list[str]]) -> None:
    image = e.image
    exports = dynsym_exports(image)
    assert [(n, int(v)) for n, v in rows(lines, "sym")] == exports
    assert rows(lines, "datapage_sym") == [[str(dict(exports)["__kernel_datapage_offset"])]]
    t = e.target
    tables = patch_tables(read(image, "image"))
    assert [(name, int(mask, 0), int(value, 0), int(features, 0), int(count))
            for name, mask, value, features, count in rows(lines, "cpu")] == \
        [(c.name, c.pvr_mask, c.pvr_value, c.features, len(table.changes))
         for c, table in zip(cpus_for(t.bits, t.little), tables, strict=True)]
    expected = [[table.cpu.name, str(c.offset), str(len(c.old)), str(c.index), c.symbol,
                 c.field, c.old.hex(), c.new.hex()] for table in tables for c in table.changes]
    assert rows(lines, "patch") == expected
    # a kernel searching the C table by PVR (first match) finds each CPU's own entry
    assert all(name == found for name, found in rows(lines, "select"))
    assert len(rows(lines, "select")) == len(tables)
    for cpu, offset, size, *_rest, old, _new in rows(lines, "patch"):
        assert image[int(offset):int(offset) + int(size)].hex() == old, cpu


@pytest.mark.parametrize("where", ["host", "cross"])
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_blob_program_sees_the_image_its_layout_and_dynsym(name, where):
    e, lines = run_blob_check(name, where)
    check_layout(e, lines)
    check_tables(e, lines)


def test_blob_with_64k_pages():
    e, lines = run_blob_check("ppc64", "host", page_size=65536)
    check_layout(e, lines)
    assert rows(lines, "layout")[0][1:4] == [str(len(e.image)), "65536", "1"]


def test_blob_check_notices_a_different_image():
    """The program can fail: given another image it reports the difference."""
    e, exe, qemu = blob_check("ppc32", "host")
    other = emitted("ppc64").file(".so")
    proc = run_program(exe, [str(other)], qemu)
    assert proc.returncode == 1
    assert "blob: bytes differ from the image" in proc.stdout
    assert "incbin: bytes differ from the image" in proc.stdout


# --- the .incbin wrapper ------------------------------------------------------------------

@pytest.mark.parametrize("name", TARGET_NAMES)
def test_wrapper_object_holds_the_page_aligned_image(name):
    from elftools.elf.elffile import ELFFile

    e = emitted(name)
    t = e.target
    assembler = need_tool(t.gnu_tool("as"))
    obj = scratch_dir() / f"wrapper-{name}.o"
    compile_c(assembler, [*t.gnu_as_flags, "-I", str(e.out), "-o", str(obj),
                          str(e.file("-wrapper.S"))], "wrapper")
    elf = ELFFile(io.BytesIO(obj.read_bytes()))
    section = elf.get_section_by_name(".data..page_aligned")
    image = e.image
    pages = -(-len(image) // e.page_size)
    assert section["sh_addralign"] == e.page_size
    assert section.data() == image + bytes(pages * e.page_size - len(image))
    symbols = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
    for label, value in ((f"{e.prefix}_start", 0), (f"{e.prefix}_end", pages * e.page_size)):
        assert symbols[label]["st_value"] == value
        assert symbols[label]["st_info"]["bind"] == "STB_GLOBAL"


# --- headers: the offsets header and the data page's compile-time assertions ---------------

def offsets_agree_source(e: Emitted, offsets_header: Path) -> tuple[str, int]:
    """A C file asserting at compile time that each kernel offset of a symbol the image
    exports equals the blob's offset of that symbol; and how many it asserts."""
    blob_names = set(re.findall(rf"#define {e.prefix.upper()}_SYM_(\w+) ",
                                e.file("-blob.h").read_text()))
    lines = [f'#include "{offsets_header.name}"', f'#include "{e.target.image}-blob.h"']
    for name in re.findall(rf"^#define {e.prefix}_offset_(\w+)\t",
                           offsets_header.read_text(), re.M):
        if f"__kernel_{name}" in blob_names:
            lines.append(f"_Static_assert({e.prefix}_offset_{name} == "
                         f"{e.prefix.upper()}_SYM___kernel_{name}, \"{name}\");")
    return "\n".join(lines) + "\n", len(lines) - 2


def syntax_check(gcc: str, source: str, include: Path, what: str):
    path = scratch_dir() / f"{what}.c"
    path.write_text(source)
    return subprocess.run([gcc, *STRICT, "-fsyntax-only", f"-I{include}", str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_offsets_header_agrees_with_the_blob_and_can_disagree(name):
    e = emitted(name)
    gcc = need_tool(e.target.gnu_tool("gcc"))
    source, count = offsets_agree_source(e, e.file("-offsets.h"))
    trampolines = ["sigtramp32", "sigtramp_rt32"] if e.target.bits == 32 else ["sigtramp_rt64"]
    assert count == len(trampolines)  # the linker scripts' VDSO_* names of exports
    proc = syntax_check(gcc, source, e.out, f"offsets-{name}")
    assert proc.returncode == 0, proc.stderr
    # a header with a wrong trampoline offset must not compile
    wrong = scratch_dir() / f"wrong-{name}" / e.file("-offsets.h").name
    wrong.parent.mkdir(exist_ok=True)
    shutil.copy(e.file("-blob.h"), wrong.parent)
    wrong.write_text(re.sub(rf"(_offset_{trampolines[0]}\t0x)(\w+)",
                            lambda m: m.group(1) + f"{int(m.group(2), 16) + 4:x}",
                            e.file("-offsets.h").read_text()))
    proc = syntax_check(gcc, offsets_agree_source(e, wrong)[0], wrong.parent,
                        f"offsets-wrong-{name}")
    assert proc.returncode != 0 and f'"{trampolines[0]}"' in proc.stderr


def datapage_user(e: Emitted) -> str:
    return (f'#include "{e.target.image}-blob.h"\n'
            "struct vdso_systemcfg page;\n"
            "unsigned long long read_count(void) { return page.tb_update_count; }\n")


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_datapage_assertions_hold_and_catch_a_wrong_layout(name):
    e = emitted(name)
    gcc = need_tool(e.target.gnu_tool("gcc"))
    header = e.file("-blob.h").read_text()
    assert "_Static_assert(offsetof(struct vdso_systemcfg, tb_update_count) == 0x50" in header
    proc = syntax_check(gcc, datapage_user(e), e.out, f"datapage-{name}")
    assert proc.returncode == 0, proc.stderr
    broken = {
        # the table says another offset than the struct gives
        "offset": header.replace("tb_update_count) == 0x50", "tb_update_count) == 0x58"),
        # the struct drifts from the table: a field widened shifts every later one
        "struct": header.replace("\tuint32_t platform;", "\tuint64_t platform;"),
    }
    for kind, text in broken.items():
        assert text != header, kind
        directory = scratch_dir() / f"datapage-{kind}-{name}"
        directory.mkdir(exist_ok=True)
        (directory / e.file("-blob.h").name).write_text(text)
        proc = syntax_check(gcc, datapage_user(e), directory, f"datapage-{kind}-{name}")
        assert proc.returncode != 0, kind
        assert "static assertion failed" in proc.stderr and "offset" in proc.stderr, proc.stderr


@pytest.mark.parametrize("std", ["gnu89", "gnu11"])
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_blob_compiles_kernel_style_into_read_only_page_aligned_data(name, std):
    """As a kernel compiles it: -D__KERNEL__ (no user-space data-page header), no libc
    headers, the kernel's C dialects before and since 5.18. The image array lands in a
    read-only section aligned to the page, whole pages long."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    e = emitted(name)
    gcc = need_tool(e.target.gnu_tool("gcc"))
    obj = scratch_dir() / f"kernel-{name}-{std}.o"
    compile_c(gcc, [f"-std={std}", "-D__KERNEL__", "-nostdinc", "-ffreestanding", "-Wall",
                    "-Wextra", "-Werror", "-O2", f"-I{e.out}", "-c", "-o", str(obj),
                    str(e.file("-blob.c"))], "kernel-style blob")
    elf = ELFFile(io.BytesIO(obj.read_bytes()))
    [symbol] = [s for s in elf.get_section_by_name(".symtab").iter_symbols()
                if s.name == f"{e.prefix}_image"]
    section = elf.get_section(symbol["st_shndx"])
    pages = -(-len(e.image) // e.page_size)
    assert symbol["st_size"] == pages * e.page_size
    assert section["sh_addralign"] >= e.page_size and symbol["st_value"] % e.page_size == 0
    assert not section["sh_flags"] & SH_FLAGS.SHF_WRITE
    data = section.data()[symbol["st_value"]:symbol["st_value"] + len(e.image)]
    assert data == e.image


def test_make_rebuilds_nothing_when_vdsotool_reruns_with_the_same_result(tmp_path):
    """docs/kernel-outputs.md's pattern: vdsotool runs on every make (FORCE), and the
    object compiled from the blob is rebuilt only when the blob's content changes."""
    import sys

    make, gcc = need_tool("make"), need_tool("gcc")
    (tmp_path / "Makefile").write_text(
        f"VDSOTOOL := {sys.executable} -m vdsotool\n"
        "PAGE ?= 4096\n"
        "out/vdso64-blob.o: out/vdso64-blob.c\n"
        f"\t{gcc} -std=c11 -Wall -Werror -c -o $@ $<\n"
        "out/vdso64-blob.c: FORCE\n"
        "\t$(VDSOTOOL) build --bits 64 --out out --emit c --page-size $(PAGE)\n"
        "FORCE:\n")

    def run_make(*args: str) -> str:
        proc = subprocess.run([make, *args], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    assert f"{gcc} -std=c11" in run_make()
    first = (tmp_path / "out" / "vdso64-blob.o").stat().st_mtime_ns
    second_run = run_make()
    assert "vdsotool build" in second_run and f"{gcc} -std=c11" not in second_run
    assert (tmp_path / "out" / "vdso64-blob.o").stat().st_mtime_ns == first
    assert f"{gcc} -std=c11" in run_make("PAGE=65536")  # new content: rebuilt


def test_c_string_round_trips_any_symbol_name():
    """Names of patched entries are emitted as C literals; whatever bytes a name holds,
    the compiled string is that name."""
    from vdsotool.emit.blob import c_string

    names = ['__kernel_sync_dicache', '__kernel_x@"quoted"\\back', "tri??/graph?",
             "new\nline\ttab", "high\xe9\xff", "*/ /* comment"]
    gcc = need_tool("gcc")
    source = scratch_dir() / "c_string.c"
    source.write_text("#include <stdio.h>\nint main(void)\n{\n" + "".join(
        f"\tfputs({c_string(n)}, stdout); putchar(0);\n" for n in names) + "\treturn 0;\n}\n")
    exe = scratch_dir() / "c_string"
    compile_c(gcc, [*STRICT, "-o", str(exe), str(source)], "c_string")
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [n.encode("latin-1") for n in names]
