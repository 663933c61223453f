"""The GNU reference build: the same asm/ sources and linker_scripts/ through GNU as + ld.

``gnu_build(target, workdir)`` is the oracle vdsotool's own build is compared with, and the
image the execution tests run before vdsotool can build one itself:

1. the generated includes (``vdsotool.assemble.includes``) are written to ``workdir/include``;
2. each source of ``asm/images.toml`` is assembled with ``<prefix>-as`` and
   ``target.gnu_as_flags -I asm -I workdir/include`` (``defines`` become ``--defsym``);
3. ``<prefix>-ld -shared -soname=<soname> --hash-style=both --eh-frame-hdr -T <script>``
   links ``<image>.so.dbg`` (with .symtab);
4. ``<prefix>-objcopy -S`` makes the shipped ``<image>.so``: like the kernel's ``-s``, it
   drops only .symtab/.strtab, keeping the section headers the kernel looks up by name.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from vdsotool.abi.targets import Target

ROOT = Path(__file__).resolve().parent.parent
ASM = ROOT / "asm"
SCRIPTS = ROOT / "linker_scripts"


def image_sources(target: Target, abi=None) -> list[Path]:
    """The ordered source list of ``target``'s image, from the ABI's images.toml."""
    asm = ROOT / abi.asm_dir if abi is not None else ASM
    table = tomllib.loads((asm / "images.toml").read_text())
    return [asm / name for name in table[target.name]["sources"]]


def write_includes(target: Target, directory: Path, abi=None, page_size: int = 4096) -> None:
    from vdsotool.abi.abis import DEFAULT
    from vdsotool.assemble.includes import write_asm_includes

    write_asm_includes(target, directory, abi or DEFAULT, page_size)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")


def gnu_commands(target: Target, workdir: str | Path, defines: dict[str, int] | None = None,
                 tools: dict[str, str] | None = None, abi=None,
                 page_size: int = 4096) -> list[list[str]]:
    """The GNU reference build of ``target`` as the command lines steps 2-4 run, in order
    (the includes of step 1 must be in ``workdir/include``: :func:`write_includes`).
    ``tools`` maps "as"/"ld"/"objcopy" to the programs to run (default: the cross tools).
    ``abi`` (vdsotool.abi.abis; default the 2005 one) picks sources and linker script; its
    link symbols become ``--defsym`` options of ld, its build id ``--build-id=``."""
    workdir = Path(workdir)
    asm = ROOT / abi.asm_dir if abi is not None else ASM
    script = Path(abi.linker_script(ROOT, target)) if abi is not None \
        else SCRIPTS / target.linker_script
    link_defsyms = [f"--defsym={name}={value:#x}"
                    for name, value in (abi.link_symbols(page_size) if abi else {}).items()]
    build_id = [f"--build-id={abi.build_id}"] if abi is not None and abi.build_id else []
    tools = tools or {t: target.gnu_tool(t) for t in ("as", "ld", "objcopy")}
    include = workdir / "include"
    defsyms = [f"--defsym={name}={value}" for name, value in sorted((defines or {}).items())]
    commands, objects = [], []
    for src in image_sources(target, abi):
        obj = workdir / (src.stem + ".o")
        commands.append([tools["as"], *target.gnu_as_flags, "-I", str(asm), "-I", str(include),
                         *defsyms, "-o", str(obj), str(src)])
        objects.append(str(obj))
    dbg = workdir / f"{target.image}.so.dbg"
    commands.append([tools["ld"], "-shared", f"-soname={target.soname}", "--hash-style=both",
                     "--eh-frame-hdr", *build_id, *link_defsyms, "-T", str(script),
                     "-o", str(dbg), *objects])
    commands.append([tools["objcopy"], "-S", str(dbg), str(workdir / f"{target.image}.so")])
    return commands


def gnu_build(target: Target, workdir: str | Path, defines: dict[str, int] | None = None,
              abi=None, page_size: int = 4096) -> Path:
    """Build ``target``'s image with GNU tools in ``workdir``; returns the stripped .so
    (``<image>.so.dbg`` lies beside it). A missing tool skips the test (fails under CI)."""
    from conftest import need_tool

    workdir = Path(workdir)
    tools = {t: need_tool(target.gnu_tool(t)) for t in ("as", "ld", "objcopy")}
    include = workdir / "include"
    include.mkdir(parents=True, exist_ok=True)
    write_includes(target, include, abi, page_size)
    for cmd in gnu_commands(target, workdir, defines, tools, abi, page_size):
        _run(cmd)
    return workdir / f"{target.image}.so"


def kernel_offsets_sed(target: Target) -> str:
    """The sed program of the kernel's gen_vdsoNN_offsets.sh, written from the reference's
    description of it (§8): a leading run of zeros becomes one ``0``, and each
    ``<hex> <type letter> VDSO_<name>`` line of nm prints as
    ``#define vdsoNN_offset_<name>`` TAB ``0x<hex>``. The kernel runs
    ``$(NM) vdsoNN.so.dbg | sed -n -e PROGRAM | LC_ALL=C sort``."""
    return (r"s/^00*/0/;"
            rf"s/^\([0-9a-fA-F]*\) . VDSO_\([a-zA-Z0-9_]*\)$/#define vdso{target.bits}_offset_\2\t0x\1/p")


# --- the shipped images, built once per process --------------------------------------------

BUILDERS = ("gnu", "vdsotool")
_IMAGE_CACHE: dict[tuple[str, str, bool], Path] = {}


def built_image(builder: str, target: Target | str, test_timebase: bool = False) -> Path:
    """The shipped image of ``target`` (a Target or its name) built by ``builder``: "gnu"
    (:func:`gnu_build`, the reference; skips without the GNU tools) or "vdsotool" (its own
    build, in process), with the test timebase or the shipped mftb one. Built once per
    process into a temporary directory, ``<image>.so.dbg`` beside it; read, never written."""
    import tempfile

    from vdsotool.abi.targets import TARGETS

    target = TARGETS[target] if isinstance(target, str) else target
    key = (builder, target.name, test_timebase)
    if key not in _IMAGE_CACHE:
        workdir = Path(tempfile.mkdtemp(prefix=f"vdso-{builder}-{target.name}-"))
        defines = {"VDSO_TEST_TIMEBASE": 1} if test_timebase else None
        if builder == "gnu":
            _IMAGE_CACHE[key] = gnu_build(target, workdir, defines)
        else:
            _IMAGE_CACHE[key] = _vdsotool_build(target, workdir, defines)
    return _IMAGE_CACHE[key]


def _vdsotool_build(target: Target, workdir: Path, defines) -> Path:
    from vdsotool import pipeline

    outputs = pipeline.build_outputs(target, pipeline.find_source_root(None), workdir, defines)
    for out_path, data in outputs.items():
        Path(out_path).write_bytes(data)
    return workdir / f"{target.image}.so"


def gnu_elf(target: Target | str):
    """GNU's build of ``target`` (shipped timebase), read by vdsotool's ELF reader: the
    reference the per-chunk linker tests compare their writers' bytes with."""
    from vdsotool.elf import read

    path = built_image("gnu", target)
    return read(path.read_bytes(), str(path))


def section_bytes(img, name: str) -> bytes:
    sec = img.section(name)
    return img.bytes_at(sec.offset, sec.size)
