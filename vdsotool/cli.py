"""The command line. Commands only parse arguments, call a stage and render its result.

Exit status: 0 success, 1 bad input or a failed check, 2 usage error. Diagnostics go to
stderr as ``file:line:col: error: message`` with the source line and a caret; data goes to
stdout. No traceback is ever shown: an unexpected exception becomes a one-line
"internal error" (exit 70) that asks for a bug report.

Heavy libraries are imported inside the commands that need them, so ``vdsotool build``
never pays for LIEF or capstone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from vdsotool import __version__
from vdsotool.cli_build import (DEFAULT_EMIT, DEFAULT_ENDIAN, DEFAULT_OUT, DEFAULT_PAGE_SIZE,
                                EXIT_BAD_INPUT, linux_version_code, parse_define)
from vdsotool.errors import VdsoError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Build, check and inspect PowerPC vDSO images (ppc32, ppc64, ppc64le).",
)

EXIT_USAGE = 2  # typer's; bad input (1) and internal errors (70) are cli_build's


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vdsotool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Build, check and inspect PowerPC vDSO images (ppc32, ppc64, ppc64le)."""


def target_option(bits: int, endian: str):
    """Resolve --bits/--endian to a Target, as a usage error when there is none."""
    from vdsotool.abi.targets import target_for

    if endian not in ("big", "little"):
        raise typer.BadParameter("must be 'big' or 'little'", param_hint="--endian")
    try:
        return target_for(bits, endian)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--bits/--endian") from None


def fail(err: VdsoError) -> None:
    """Render a VdsoError's diagnostics to stderr and exit 1."""
    sys.stderr.write(str(err) + "\n")
    raise typer.Exit(EXIT_BAD_INPUT)


# --- commands ----------------------------------------------------------------------------
# In pipeline order: asm, includes, build, check, verify, patch, cpus, dump.


@app.command()
def asm(
    files: list[Path] = typer.Argument(..., help="Assembly sources (GNU as -mpower4 -mregnames dialect)."),
    bits: int = typer.Option(64, "--bits", help="32 or 64."),
    endian: str = typer.Option("big", "--endian", help="big or little."),
    include: list[Path] = typer.Option([], "-I", help="Include directory (repeatable)."),
    define: list[str] = typer.Option([], "-D", help="NAME[=VALUE], like GNU as --defsym "
                                                     "(VALUE defaults to 1; repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the objects as JSON."),
) -> None:
    """Assemble sources and print a listing (section, offset, bytes, source line), the
    relocations and CFI frames, or JSON."""
    target = target_option(bits, endian)
    from vdsotool.assemble.cli import run_asm

    try:
        typer.echo(run_asm(files, target, include, parse_defines(define), json_out), nl=False)
    except VdsoError as err:
        fail(err)


@app.command()
def includes(
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write into."),
    bits: int = typer.Option(64, "--bits", help="32 or 64."),
    endian: str = typer.Option("big", "--endian", help="big or little."),
) -> None:
    """Write the generated asm includes and the data-page C header (vdso_datapage.h)."""
    target = target_option(bits, endian)
    from vdsotool.abi import datapage
    from vdsotool.assemble.includes import write_asm_includes
    from vdsotool.util.atomic import write_atomic

    write_asm_includes(target, out)
    write_atomic(out / "vdso_datapage.h", datapage.c_header())


def parse_defines(items: list[str]) -> dict[str, int]:
    """-D NAME=VALUE (VALUE defaults to 1), like GNU as --defsym."""
    out = {}
    for item in items:
        try:
            name, value = parse_define(item)  # the rule the typer-free path applies too
        except ValueError:
            raise typer.BadParameter(f"'{item}' is not NAME or NAME=INTEGER",
                                     param_hint="-D") from None
        out[name] = value
    return out


def page_size_option(page_size: int) -> int:
    """--page-size: the library's rule (emit.check_page_size), as a usage error."""
    from vdsotool.emit import check_page_size

    try:
        check_page_size(page_size)
    except VdsoError as err:
        raise typer.BadParameter(err.diagnostics[0].message, param_hint="--page-size") from None
    return page_size


def emit_option(text: str, page_size: int) -> frozenset[str]:
    """--emit KINDS and --page-size, as usage errors when malformed."""
    from vdsotool.emit import parse_kinds

    page_size_option(page_size)
    try:
        return parse_kinds(text)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--emit") from None


@app.command()
def build(
    bits: int = typer.Option(..., "--bits", help="32 or 64."),
    endian: str = typer.Option(DEFAULT_ENDIAN, "--endian", help="big or little."),
    out: Path = typer.Option(Path(DEFAULT_OUT), "--out", help="Output directory."),
    src: Optional[Path] = typer.Option(None, "--src",
                                       help="Tree holding asm/ and linker_scripts/ (default: the "
                                            "current directory, else the sources vdsotool "
                                            "ships)."),
    define: list[str] = typer.Option([], "-D", help="NAME[=VALUE] for the assembler "
                                                     "(VALUE defaults to 1; repeatable)."),
    emit: str = typer.Option(DEFAULT_EMIT, "--emit", metavar="KINDS",
                             help="Kernel outputs to write beside the image: comma-separated "
                                  "c,offsets,patches,incbin, or all, or none."),
    page_size: int = typer.Option(DEFAULT_PAGE_SIZE, "--page-size",
                                  help="Page size the C blob, wrapper and patch tables assume."),
    linux_version: Optional[str] = typer.Option(
        None, "--linux-version", metavar="X.Y.Z",
        help="Kernel version the Linux version note carries (LINUX_VERSION_CODE; default: "
             "the version node's, 2.6.15). Same as -D LINUX_VERSION_CODE=N, which it "
             "overrides."),
    json_out: bool = typer.Option(False, "--json",
                                  help="Print a JSON summary (target, files whose content "
                                       "changed) to stdout instead of progress lines."),
) -> None:
    """Assemble, link, check and write <out>/vdso32.so | vdso64.so | vdso64le.so, its
    debug twin (.so.dbg) and the kernel outputs (<image>-blob.c/.h, -offsets.h,
    -patches.json, -wrapper.S)."""
    target = target_option(bits, endian)
    defines = parse_defines(define)
    if linux_version is not None:
        try:
            defines["LINUX_VERSION_CODE"] = linux_version_code(linux_version)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--linux-version") from None
    kinds = emit_option(emit, page_size)
    from vdsotool.cli_build import BuildRequest, run_build

    request = BuildRequest(target, src, out, defines, kinds, page_size, json_out)
    status = run_build(request)  # the same function vdsotool's fast path runs
    if status:
        raise typer.Exit(status)


@app.command()
def check(
    image: Path = typer.Argument(..., help="vDSO image (.so or .so.dbg) of any target."),
    json_out: bool = typer.Option(False, "--json", help="Print the defects as JSON."),
) -> None:
    """Check an image's structure (one R-X PT_LOAD, no dynamic relocs, versioned exports
    found through the hash tables, eh_frame and eh_frame_hdr)."""
    from vdsotool.inspect.check import check_image, report_json

    try:
        defects = check_image(str(image))
    except VdsoError as err:
        fail(err)
    if json_out:
        import json

        typer.echo(json.dumps(report_json(str(image), defects), indent=2))
    else:
        for d in defects:
            sys.stderr.write(d.render() + "\n")
        typer.echo(f"{image}: {'OK' if not defects else f'{len(defects)} defect(s)'}")
    if defects:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def verify(
    image: Path = typer.Argument(..., help="vDSO image (.so or .so.dbg) of any target."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    no_exec: bool = typer.Option(False, "--no-exec", help="Structural checks only."),
) -> None:
    """Check an image: structure, then run every export under qemu-user (exit 1 on failure)."""
    from vdsotool.verify.run import verify as verify_image

    try:
        report = verify_image(image, run_code=not no_exec)
    except VdsoError as err:
        fail(err)
    if json_out:
        import json

        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        typer.echo(f"{report.image}: {report.target}")
        for row in report.rows:
            typer.echo(f"  {row.status.upper():4}  {row.symbol:26} {row.reason}")
        typer.echo("OK" if report.ok else "FAILED")
    if not report.ok:
        raise typer.Exit(EXIT_BAD_INPUT)


def cpu_option(name: str):
    """Resolve --cpu to a CPU of vdsotool/abi/cpus.py, as a usage error listing the names."""
    from vdsotool.abi.cpus import CPUS, cpu_named

    cpu = cpu_named(name)
    if cpu is None:
        names = ", ".join(c.name for c in CPUS)
        raise typer.BadParameter(f"unknown CPU '{name}'; known CPUs: {names}",
                                 param_hint="--cpu")
    return cpu


@app.command()
def patch(
    image: Path = typer.Argument(..., help="vDSO image (.so) of any target."),
    cpu_name: str = typer.Option(..., "--cpu", help="CPU name (see 'vdsotool cpus')."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the patched image."),
    page_size: int = typer.Option(4096, "--page-size",
                                  help="Page size for the data-page word."),
) -> None:
    """Write IMAGE as CPU's kernel maps it: its .dynsym patches and the data-page word."""
    cpu = cpu_option(cpu_name)
    page_size_option(page_size)
    from vdsotool.emit.patches import patched_image
    from vdsotool.errors import ImageLoc
    from vdsotool.util.atomic import write_atomic

    try:
        try:
            data = image.read_bytes()
        except OSError as e:
            raise VdsoError.at(ImageLoc(str(image)), f"cannot read: {e.strerror}") from None
        write_atomic(out, patched_image(data, cpu, page_size, str(image)))
    except VdsoError as err:
        fail(err)


@app.command()
def cpus(
    json_out: bool = typer.Option(False, "--json", help="Print the tables as JSON."),
) -> None:
    """List the CPUs (PVR, kernel feature bits) and the .dynsym patches their kernels apply."""
    from vdsotool.emit.cpu_list import cpu_tables, cpus_document

    if json_out:
        import json

        typer.echo(json.dumps(cpus_document(), indent=2))
        return
    from rich.console import Console

    console = Console(highlight=False)
    for table in cpu_tables():
        console.print(table)


@app.command()
def dump(
    image: Path = typer.Argument(..., help="ELF image to inspect (any PowerPC vDSO)."),
    headers: bool = typer.Option(
        False, "--headers", help="ELF header, phdrs, sections, notes, dynamic tags."),
    symbols: bool = typer.Option(
        False, "--symbols", help=".dynsym with versions (.symtab of a .dbg too)."),
    cfi: bool = typer.Option(
        False, "--cfi",
        help="Per signal-trampoline FDE, where each interrupted register is; CIE/FDE "
             "instructions (ABI register names), annotated expressions, readelf-style row "
             "tables, .eh_frame_hdr check."),
    disasm: bool = typer.Option(
        False, "--disasm", help="Disassembly of .text with symbols and CFI changes."),
    patches: bool = typer.Option(
        False, "--patches",
        help="Per CPU: the .dynsym symbols its kernel redirects or hides at boot."),
    all_parts: bool = typer.Option(False, "--all", help="Everything."),
    json_out: bool = typer.Option(False, "--json", help="The same content as JSON."),
) -> None:
    """Show an image's headers, symbols, CFI, disassembly and per-CPU patches (default:
    headers, symbols, CFI). A part that cannot be decoded is reported, the rest is shown,
    and the exit status is 1."""
    from vdsotool.inspect.dump import PART_NAMES, build_report_and_errors, render_text

    chosen = dict(headers=headers, symbols=symbols, cfi=cfi, disasm=disasm, patches=patches)
    parts = tuple(p for p in PART_NAMES if all_parts or chosen[p])
    parts = parts or ("headers", "symbols", "cfi")
    try:
        report, errors = build_report_and_errors(str(image), parts)
    except VdsoError as err:
        fail(err)
    if json_out:
        import json

        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        typer.echo(render_text(report), nl=False)
    if errors:
        fail(VdsoError(errors))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning any escaped exception into a diagnostic.
    (``vdsotool`` itself starts in vdsotool/__main__.py, which tries the typer-free build
    path first: vdsotool/cli_build.py.)"""
    from vdsotool.cli_build import guarded

    args = list(sys.argv[1:] if argv is None else argv)
    sys.exit(guarded(lambda: app(args=args, standalone_mode=True)))
