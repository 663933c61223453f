"""The command line: one declaration of each command and its options, read two ways.

Each command below is a function that takes its parsed options (an :class:`Args`) and
returns the exit status, declared with :func:`command` and its :class:`Option` list. That
one declaration is read

* by :func:`parse`, a plain parser for the plain forms scripts and make use (``--opt VALUE``,
  ``--opt=VALUE``, flags, positional arguments). It imports nothing, so a command starts in
  the time Python takes plus what the command itself imports;
* by :func:`typer_app`, which generates the typer application from it: ``--help``,
  ``--version``, usage errors and every form the plain parser leaves alone.

The plain parser only ever accepts less than typer: an unknown, repeated or short-clustered
option, a value that starts with ``-``, an integer not written in plain decimal or a
missing required option goes to typer, and so does a command line whose values a command
refuses (:class:`UsageError`, raised before the command does anything), so help texts and
usage messages always come from typer. Both call the same command with the same values.

Exit status: 0 success, 1 bad input or a failed check, 2 usage error. Diagnostics go to
stderr as ``file:line:col: error: message`` with the source line and a caret; data goes to
stdout. No traceback is ever shown: an unexpected exception becomes a one-line
"internal error" (exit 70) that asks for a bug report.
"""

from __future__ import annotations

import os
import sys

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
REQUIRED = ...  # the default of an option that must be given (typer's spelling)


class Option:
    """One option or positional argument of a command. ``kind``: ``int``, ``str``, ``flag``
    (a bool), ``list`` (a repeatable str), ``argument`` (one str) or ``arguments`` (one or
    more). Paths are plain strings on both parsers: a command joins and opens them."""

    __slots__ = ("dest", "flags", "kind", "default", "help", "metavar")

    def __init__(self, dest: str, flags: tuple[str, ...], kind: str, default: object = None,
                 help: str = "", metavar: str | None = None) -> None:
        self.dest, self.flags, self.kind, self.default = dest, flags, kind, default
        self.help, self.metavar = help, metavar


class Command:
    __slots__ = ("name", "options", "run", "help")

    def __init__(self, name: str, options: tuple[Option, ...], run) -> None:
        self.name, self.options, self.run, self.help = name, options, run, run.__doc__


class Args:
    """A command's parsed options, by ``Option.dest``."""

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


class UsageError(Exception):
    """A value a command refuses: typer reports it as a usage error (exit 2)."""

    def __init__(self, hint: str, message: str) -> None:
        super().__init__(message)
        self.hint, self.message = hint, message


COMMANDS: dict[str, Command] = {}


def command(name: str, *options: Option):
    def declare(run):
        COMMANDS[name] = Command(name, options, run)
        return run
    return declare


def _bits(default: object = 64) -> Option:
    return Option("bits", ("--bits",), "int", default, "32 or 64.")


def _endian() -> Option:
    return Option("endian", ("--endian",), "str", "big", "big or little.")


def _json(what: str) -> Option:
    return Option("json_out", ("--json",), "flag", False, f"Print {what} as JSON.")


def _page_size(what: str) -> Option:
    return Option("page_size", ("--page-size",), "int", 4096, what)


def _cpus() -> Option:
    return Option("cpu_files", ("--cpus",), "list", help=(
        "A CPU table file (TOML, the format of vdsotool/abi/cpus.toml) read over the packaged "
        "one: adds CPUs, replaces those of the same name (repeatable; docs/kernel-outputs.md, "
        "'Adding a CPU')."), metavar="FILE")


# --- what commands share ---------------------------------------------------------------------

def target_of(a: Args):
    """--bits/--endian as a Target, or a usage error."""
    from vdsotool.abi.targets import target_for

    if a.endian not in ("big", "little"):
        raise UsageError("--endian", "must be 'big' or 'little'")
    try:
        return target_for(a.bits, a.endian)
    except ValueError as e:
        raise UsageError("--bits/--endian", str(e)) from None


def defines_of(items: list[str]) -> dict[str, int]:
    """-D NAME[=VALUE] (VALUE an integer in one of GNU's forms, ASCII digits, optionally
    negative, at most 64 bits; 1 when absent), as GNU as --defsym reads it, or a usage
    error."""
    from vdsotool.assemble.expr import define_value

    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        try:
            if not (name.isascii() and name.isidentifier()):
                raise ValueError
            out[name] = define_value(value) if eq else 1
        except ValueError:
            raise UsageError("-D", f"'{item}' is not NAME or NAME=INTEGER") from None
    return out


def linux_version_code(text: str) -> int:
    """``--linux-version X.Y[.Z]`` as the kernel's LINUX_VERSION_CODE, KERNEL_VERSION(X, Y,
    Z): ``X << 16 | Y << 8 | Z``, the sublevel capped at 255 as the kernel caps it (X and Y
    must fit in a byte); or a usage error."""
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() and p.isascii() for p in parts):
        raise UsageError("--linux-version", f"'{text}' is not X.Y or X.Y.Z")
    a, b, c = (int(p) for p in (*parts, "0")[:3])
    if a > 255 or b > 255:
        raise UsageError("--linux-version",
                         f"'{text}': version and patch level must be at most 255")
    return a << 16 | b << 8 | min(c, 255)


def page_size_of(page_size: int) -> int:
    """--page-size by the library's rule (kernel.patches.check_page_size), or a usage error."""
    from vdsotool.kernel.patches import check_page_size
    from vdsotool.errors import VdsoError

    try:
        check_page_size(page_size)
    except VdsoError as err:
        raise UsageError("--page-size", err.diagnostics[0].message) from None
    return page_size


def abi_of(name: str, page_size: int):
    """--abi NAME as a vdsotool.abi.abis.Abi that can be built for ``page_size``, or a usage
    error."""
    from vdsotool.abi.abis import abi_named

    try:
        abi = abi_named(name)
    except ValueError as e:
        raise UsageError("--abi", str(e)) from None
    if abi.page_sizes and page_size not in abi.page_sizes:
        sizes = " or ".join(str(p) for p in abi.page_sizes)
        raise UsageError("--abi", f"the {abi.name} ABI is built for a page size of {sizes}, "
                                  f"not {page_size}")
    return abi


def failed(err: Exception) -> int:
    """Render a VdsoError's diagnostics to stderr; the exit status of bad input."""
    sys.stderr.write(str(err) + "\n")
    return EXIT_BAD_INPUT


def out(text: str) -> None:
    sys.stdout.write(text)


# --- commands, in pipeline order ---------------------------------------------------------------

@command("asm",
         Option("files", (), "arguments", REQUIRED,
                "Assembly sources (GNU as -mpower4 -mregnames dialect)."),
         _bits(), _endian(),
         Option("include", ("-I",), "list", help="Include directory (repeatable).",
                metavar="DIR"),
         Option("define", ("-D",), "list", help="NAME[=VALUE], like GNU as --defsym "
                                                "(VALUE defaults to 1; repeatable)."),
         _json("the objects"))
def asm(a: Args) -> int:
    """Assemble sources and print a listing (section, offset, bytes, source line), the
    relocations and CFI frames, or JSON."""
    target, defines = target_of(a), defines_of(a.define)
    from vdsotool.assemble.cli import run_asm
    from vdsotool.errors import VdsoError

    try:
        out(run_asm(a.files, target, a.include, defines, a.json_out))
    except VdsoError as err:
        return failed(err)
    return 0


@command("includes",
         Option("out", ("--out", "-o"), "str", REQUIRED, "Directory to write into.", "DIR"),
         _bits(), _endian(),
         Option("abi", ("--abi",), "str", "2.6.15", "Kernel ABI whose includes to write: "
                "2.6.15 or 6.1 (docs/abis.md).", "ABI"),
         _page_size("The kernel's page size (the 6.1 includes depend on it: 4096 or 65536)."))
def includes(a: Args) -> int:
    """Write the generated asm includes and the data-page C header (vdso_datapage.h) of
    the ABI's sources."""
    target = target_of(a)
    abi = abi_of(a.abi, page_size_of(a.page_size))
    from vdsotool.errors import VdsoError
    from vdsotool.util.atomic import write_outputs

    from vdsotool.assemble.includes import asm_includes

    files = asm_includes(target, abi, a.page_size) | {"vdso_datapage.h": abi.c_header()}
    try:
        write_outputs({os.path.join(a.out, name): text for name, text in files.items()})
    except VdsoError as err:
        return failed(err)
    return 0


@command("build",
         _bits(REQUIRED), _endian(),
         Option("out", ("--out",), "str", "out", "Output directory.", "DIR"),
         Option("src", ("--src",), "str", None, "Tree holding asm/ and linker_scripts/ "
                "(default: the current directory, else vdsotool's own sources).", "DIR"),
         Option("define", ("-D",), "list", help="NAME[=VALUE] for the assembler "
                                                "(VALUE defaults to 1; repeatable)."),
         Option("emit", ("--emit",), "str", "all", "Kernel outputs to write beside the "
                "image: comma-separated c,offsets,patches,incbin, or all, or none.", "KINDS"),
         _page_size("Page size the C blob, wrapper and patch tables assume (and, for "
                    "--abi 6.1, the image itself: 4096 or 65536)."),
         Option("abi", ("--abi",), "str", "2.6.15", "Kernel ABI: 2.6.15 (data page after "
                "the text, patched at boot) or 6.1 (vvar pages before the text, the clock "
                "family; kernels 5.13-6.12). See docs/abis.md.", "ABI"),
         Option("linux_version", ("--linux-version",), "str", None,
                "Kernel version the Linux version note carries (LINUX_VERSION_CODE; default: "
                "the ABI's, 2.6.15 or 6.1.0). Same as -D LINUX_VERSION_CODE=N, which it "
                "overrides.", "X.Y.Z"),
         Option("depfile", ("--depfile",), "str", None, "Also write a make depfile there: "
                "the outputs depend on every file the build read (asm/images.toml, the "
                "sources and their includes, the linker script, vdsotool's own files). "
                "Rewritten on every build; outputs only when their content changes.", "FILE"),
         _cpus(),
         Option("json_out", ("--json",), "flag", False, "Print a JSON summary (target, files "
                "written: those whose content changed, and the depfile) to stdout instead of "
                "progress lines."))
def build(a: Args) -> int:
    """Assemble, link, check and write <out>/vdso32.so | vdso64.so | vdso64le.so, its
    debug twin (.so.dbg) and the kernel outputs (<image>-blob.c/.h, -offsets.h,
    -patches.json, -wrapper.S)."""
    target, defines = target_of(a), defines_of(a.define)
    if a.linux_version is not None:
        defines["LINUX_VERSION_CODE"] = linux_version_code(a.linux_version)
    page_size = page_size_of(a.page_size)
    abi = abi_of(a.abi, page_size)
    from vdsotool.emit import parse_kinds

    try:
        kinds = parse_kinds(a.emit)
    except ValueError as e:
        raise UsageError("--emit", str(e)) from None
    import gc

    # A build allocates many small objects and frees them all at exit: the cyclic garbage
    # collector would only walk them again and again (docs/performance.md).
    gc.disable()
    from vdsotool import pipeline
    from vdsotool.errors import VdsoError

    log = (lambda line: None) if a.json_out else (lambda line: sys.stderr.write(line + "\n"))
    try:
        written = pipeline.build(target, a.src, a.out, defines, log, kinds, page_size,
                                 a.depfile, tuple(a.cpu_files), abi)
    except VdsoError as err:
        return failed(err)
    if a.json_out:
        import json

        out(json.dumps({"target": target.name, "outputs": written}, indent=2) + "\n")
    return 0


@command("check",
         Option("image", (), "argument", REQUIRED,
                "vDSO image (.so or .so.dbg) of any target."),
         _json("the defects"))
def check(a: Args) -> int:
    """Check an image's structure (one R-X PT_LOAD, no dynamic relocs, versioned exports
    found through the hash tables, eh_frame and eh_frame_hdr)."""
    from vdsotool.errors import VdsoError
    from vdsotool.elf import load
    from vdsotool.inspect.check import check_image, report_json

    try:
        defects = check_image(load(a.image))
    except VdsoError as err:
        return failed(err)
    if a.json_out:
        import json

        out(json.dumps(report_json(a.image, defects), indent=2) + "\n")
    else:
        for d in defects:
            sys.stderr.write(d.render() + "\n")
        out(f"{a.image}: {'OK' if not defects else f'{len(defects)} defect(s)'}\n")
    return EXIT_BAD_INPUT if defects else 0


@command("verify",
         Option("image", (), "argument", REQUIRED,
                "vDSO image (.so or .so.dbg) of any target."),
         _json("the results"),
         Option("no_exec", ("--no-exec",), "flag", False, "Structural checks only."))
def verify(a: Args) -> int:
    """Check an image: structure, then run every export under qemu-user (exit 1 on failure)."""
    from vdsotool.errors import VdsoError
    from vdsotool.elf import load
    from vdsotool.verify.run import verify as verify_image

    try:
        report = verify_image(load(a.image), run_code=not a.no_exec)
    except VdsoError as err:
        return failed(err)
    if a.json_out:
        import json

        out(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        out(f"{report.image}: {report.target}\n")
        for row in report.rows:
            out(f"  {row.status.upper():4}  {row.symbol:26} {row.reason}\n")
        out("OK\n" if report.ok else "FAILED\n")
    return 0 if report.ok else EXIT_BAD_INPUT


@command("patch",
         Option("image", (), "argument", REQUIRED, "vDSO image (.so) of any target."),
         Option("cpu", ("--cpu",), "str", REQUIRED, "CPU name (see 'vdsotool cpus')."),
         Option("out", ("--out", "-o"), "str", REQUIRED,
                "Where to write the patched image.", "FILE"),
         _page_size("Page size for the data-page word."), _cpus())
def patch(a: Args) -> int:
    """Write IMAGE as CPU's kernel maps it: for a 2.6.15 image its .dynsym patches and the
    data-page word; for a today's image its feature fixups (the CPUs of [today])."""
    from vdsotool.abi.cpus import load_table
    from vdsotool.elf import load
    from vdsotool.errors import VdsoError
    from vdsotool.kernel import fixups
    from vdsotool.kernel.patches import patched_image
    from vdsotool.util.atomic import write_outputs

    try:
        table = load_table(a.cpu_files)
        img = load(a.image)
    except VdsoError as err:
        return failed(err)
    today = fixups.is_today(img)
    cpu = table.named_today(a.cpu) if today else table.named(a.cpu)
    if cpu is None:
        names = ", ".join(c.name for c in (table.today_cpus if today else table.cpus))
        era = "today's kernels" if today else "2.6.15 kernels"
        raise UsageError("--cpu", f"unknown CPU '{a.cpu}' for {era}; known CPUs: {names}")
    page_size = page_size_of(a.page_size)
    try:
        data = fixups.patched_image(img, cpu, table) if today else \
            patched_image(img, cpu, page_size, table.patches)
        write_outputs({a.out: data})
    except VdsoError as err:
        return failed(err)
    return 0


@command("cpus", _json("the tables"), _cpus())
def cpus(a: Args) -> int:
    """List the CPUs (PVR, kernel feature bits), the .dynsym patches their kernels apply, and
    the CPUs of today's kernels (feature fixups)."""
    from vdsotool.abi.cpus import load_table
    from vdsotool.emit.cpu_list import cpu_tables, cpus_document
    from vdsotool.errors import VdsoError

    try:
        table = load_table(a.cpu_files)
    except VdsoError as err:
        return failed(err)
    if a.json_out:
        import json

        out(json.dumps(cpus_document(table), indent=2) + "\n")
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    for rendered in cpu_tables(table):
        console.print(rendered)
    return 0


@command("dump",
         Option("image", (), "argument", REQUIRED,
                "ELF image to inspect (any PowerPC vDSO)."),
         Option("headers", ("--headers",), "flag", False,
                "ELF header, phdrs, sections, notes, dynamic tags."),
         Option("symbols", ("--symbols",), "flag", False,
                ".dynsym with versions (.symtab of a .dbg too)."),
         Option("cfi", ("--cfi",), "flag", False,
                "Per signal-trampoline FDE, where each interrupted register is; CIE/FDE "
                "instructions (ABI register names), annotated expressions, readelf-style row "
                "tables, .eh_frame_hdr check."),
         Option("disasm", ("--disasm",), "flag", False,
                "Disassembly of .text with symbols and CFI changes."),
         Option("fixups", ("--fixups",), "flag", False,
                "A today's image's feature-fixup tables entry by entry: mask, value, the "
                "default and alternative code disassembled."),
         Option("patches", ("--patches",), "flag", False,
                "Per CPU: what its kernel changes at boot (2.6.15 image: the .dynsym symbols "
                "it redirects or hides; today's image: which fixup entries apply)."),
         Option("all_parts", ("--all",), "flag", False, "Everything."),
         Option("json_out", ("--json",), "flag", False, "The same content as JSON."),
         _page_size("Page size the data-page word of --patches is computed for."), _cpus())
def dump(a: Args) -> int:
    """Show an image's headers, symbols, CFI, disassembly, fixups and per-CPU patches (default:
    headers, symbols, CFI). A part that cannot be decoded is reported, the rest is shown,
    and the exit status is 1."""
    from vdsotool.errors import VdsoError
    from vdsotool.elf import load
    from vdsotool.inspect.dump import PART_NAMES, build_report_and_errors, render_text

    parts = tuple(p for p in PART_NAMES if a.all_parts or getattr(a, p))
    page_size = page_size_of(a.page_size)
    try:
        table = None
        if a.cpu_files:
            from vdsotool.abi.cpus import load_table

            table = load_table(a.cpu_files)
        report, errors = build_report_and_errors(load(a.image),
                                                 parts or ("headers", "symbols", "cfi"),
                                                 table, page_size)
    except VdsoError as err:
        return failed(err)
    if a.json_out:
        import json

        out(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        out(render_text(report))
    return failed(VdsoError(errors)) if errors else 0


# --- the two readers of the declaration ------------------------------------------------------

def parse(argv: list[str]) -> tuple[Command, Args] | None:
    """A plain command line as (command, its options); None for anything else (typer's)."""
    if not argv or argv[0] not in COMMANDS:
        return None
    cmd = COMMANDS[argv[0]]
    by_flag = {flag: o for o in cmd.options for flag in o.flags}
    positional = [o for o in cmd.options if not o.flags]
    values: dict[str, object] = {}
    args = iter(argv[1:])
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            if not positional:
                return None
            o = positional[0]
            if o.kind == "arguments":
                values.setdefault(o.dest, []).append(arg)
            else:
                values[o.dest] = arg
                positional.pop(0)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        o = by_flag.get(name)
        if o is None:
            return None  # --help, --, an unknown or abbreviated option, -Ifoo
        if o.kind == "flag":
            if eq or o.dest in values:
                return None
            values[o.dest] = True
            continue
        if not eq:
            value = next(args, None)
            if value is None or value.startswith("-"):
                return None
        if o.kind == "list":
            values.setdefault(o.dest, []).append(value)
            continue
        if o.dest in values or (o.kind == "int" and not (value.isascii() and value.isdigit())):
            return None
        values[o.dest] = int(value) if o.kind == "int" else value
    for o in cmd.options:
        if o.dest not in values:
            if o.default is REQUIRED:
                return None
            values[o.dest] = [] if o.kind == "list" else o.default
    return cmd, Args(values)


def typer_app(call=lambda cmd, args: cmd.run(args)):
    """The typer application of :data:`COMMANDS`: each command's signature is generated
    from its options, and it runs ``call(command, args)`` (by default the command itself,
    as :func:`run` does after :func:`parse`)."""
    import inspect
    from typing import Optional

    import typer

    from vdsotool import __version__

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None, no_args_is_help=True,
                      help="Build, check and inspect PowerPC vDSO images (ppc32, ppc64, ppc64le).")

    def version(value: bool) -> None:
        if value:
            typer.echo(f"vdsotool {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(version: bool = typer.Option(False, "--version", callback=version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
        """Build, check and inspect PowerPC vDSO images (ppc32, ppc64, ppc64le)."""

    types = {"int": int, "str": str, "flag": bool, "list": list[str], "argument": str,
             "arguments": list[str]}

    def generated(cmd: Command):
        def run(**values: object) -> None:
            try:
                status = call(cmd, Args(values))
            except UsageError as err:
                raise typer.BadParameter(err.message, param_hint=err.hint) from None
            if status:
                raise typer.Exit(status)

        params = []
        for o in cmd.options:
            annotation = types[o.kind]
            if o.kind == "str" and o.default is None:
                annotation = Optional[str]
            make = typer.Argument if not o.flags else typer.Option
            default = [] if o.kind == "list" else o.default
            metavar = o.metavar or {"int": "INTEGER", "str": "TEXT", "list": "TEXT"}.get(
                o.kind, o.dest.upper())  # an argument: its name, as typer shows one
            info = make(default, *o.flags, help=o.help, metavar=metavar)
            params.append(inspect.Parameter(o.dest, inspect.Parameter.KEYWORD_ONLY,
                                            default=info, annotation=annotation))
        run.__signature__ = inspect.Signature(params)
        run.__annotations__ = {p.name: p.annotation for p in params}
        run.__doc__, run.__name__ = cmd.help, cmd.name
        return run

    for cmd in COMMANDS.values():
        app.command(name=cmd.name)(generated(cmd))
    return app


def run(argv: list[str]) -> int:
    """Run a command line; returns the exit status."""
    parsed = parse(argv)
    if parsed is not None:
        cmd, args = parsed
        try:
            return cmd.run(args)
        except UsageError:
            pass  # typer parses the line again and explains the error
    try:
        typer_app()(args=argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 0 if e.code is None else EXIT_BAD_INPUT
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``argv`` (default: the process's arguments), turning an escaped exception into
    the one-line internal error (exit 70) instead of a traceback; returns the exit status."""
    try:
        return run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.stderr.write("vdsotool: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place allowed to catch everything
        from vdsotool.errors import VdsoError

        if isinstance(exc, VdsoError):
            return failed(exc)
        sys.stderr.write(f"vdsotool: internal error: {type(exc).__name__}: {exc}\n"
                         "vdsotool: this is a bug; please report it with the command line\n")
        return EXIT_INTERNAL
