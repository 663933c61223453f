"""``vdsotool build`` without typer: the fast path of the edit-build loop.

Starting typer costs about 100 ms (typer, click, rich and pydantic, which typer uses to
coerce every parameter) — three times the whole GNU pipeline for a vDSO. So
``vdsotool/__main__.py`` hands the command line to :func:`fast_main` first:

1. a ``build`` command line whose every argument this module understands exactly (the
   options of ``vdsotool build --help``, in their plain ``--opt VALUE`` / ``--opt=VALUE``
   forms, non-empty values that validate) runs right here, through :func:`run_build` — the
   function the typer command calls too, so both paths produce the same files, lines and
   exit codes;
2. anything else (``--help``, another command, an unknown or repeated option, a value that
   does not validate) returns None and goes to typer, which parses and explains it.

The fast path only ever *accepts less* than typer: when in doubt it defers, so usage errors
and help texts always come from typer.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from vdsotool.abi.targets import Target

EXIT_BAD_INPUT = 1
EXIT_INTERNAL = 70

# Defaults of the build command's options, on both paths (the typer declaration in cli.py
# reads them; tests/cli/test_fastpath.py runs both paths on the same lines and compares files).
DEFAULT_ENDIAN = "big"
DEFAULT_OUT = "out"
DEFAULT_EMIT = "all"
DEFAULT_PAGE_SIZE = 4096


class BuildRequest:
    """A validated ``vdsotool build`` command line. (A plain class, not a dataclass or a
    NamedTuple: importing dataclasses or typing costs a sixth of an up-to-date build.)"""

    __slots__ = ("target", "src", "out", "defines", "kinds", "page_size", "json_out")

    def __init__(self, target: Target, src: str | os.PathLike | None, out: str | os.PathLike,
                 defines: dict[str, int],
                 kinds: frozenset[str], page_size: int, json_out: bool = False) -> None:
        self.target, self.src, self.out, self.defines = target, src, out, defines
        self.kinds, self.page_size, self.json_out = kinds, page_size, json_out


def run_build(request: BuildRequest) -> int:
    """Build, write, report; returns the exit status."""
    from vdsotool import pipeline
    from vdsotool.errors import VdsoError

    log = (lambda line: None) if request.json_out else (lambda line: sys.stderr.write(line + "\n"))
    try:
        written = pipeline.build(request.target, request.src, request.out, request.defines,
                                 log, request.kinds, request.page_size)
    except VdsoError as err:
        sys.stderr.write(str(err) + "\n")
        return EXIT_BAD_INPUT
    if request.json_out:
        import json

        sys.stdout.write(json.dumps({"target": request.target.name,
                                     "outputs": [str(p) for p in written]}, indent=2) + "\n")
    return 0


# --- the fast command line -------------------------------------------------------------------

_VALUE_OPTIONS = ("--bits", "--endian", "--out", "--src", "--emit", "--page-size",
                  "--linux-version")
_FLAGS = ("--json",)


def split_plain(argv: list[str]) -> tuple[dict[str, str], list[str], set[str]] | None:
    """A plain ``build`` command line as (option values, -D items, flags), not yet
    validated; None when it is anything else."""
    if not argv or argv[0] != "build":
        return None
    values: dict[str, str] = {}
    flags: set[str] = set()
    defines: list[str] = []
    args = iter(argv[1:])
    for arg in args:
        if arg in _FLAGS and arg not in flags:
            flags.add(arg)
            continue
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS and name not in values:
            if not eq:
                value = next(args, None)
                if value is None or value.startswith("-"):
                    return None
            if not value:
                return None  # typer reads '' as a path '.', not as "not given": let it
            values[name] = value
        elif arg == "-D":
            value = next(args, None)
            if not value or value.startswith("-"):
                return None
            defines.append(value)
        else:
            return None  # --help, an unknown or repeated option, a stray argument: typer's
    return values, defines, flags


def _request(values: dict[str, str], defines: list[str], flags: set[str]) -> BuildRequest | None:
    from vdsotool.abi.targets import target_for
    from vdsotool.emit import parse_kinds

    bits, endian = values.get("--bits"), values.get("--endian", DEFAULT_ENDIAN)
    page_size = values.get("--page-size", str(DEFAULT_PAGE_SIZE))
    if bits not in ("32", "64") or endian not in ("big", "little") or not page_size.isdigit():
        return None
    # page sizes every kernel uses; the full rule (and its message) is the typer command's
    if int(page_size) not in (4096, 16384, 65536):
        return None
    try:
        target = target_for(int(bits), endian)
        kinds = parse_kinds(values.get("--emit", DEFAULT_EMIT))
        parsed = dict(parse_define(item) for item in defines)
        if "--linux-version" in values:
            parsed["LINUX_VERSION_CODE"] = linux_version_code(values["--linux-version"])
    except ValueError:
        return None
    src = values.get("--src")
    return BuildRequest(target, pure_path(src) if src else None,
                        pure_path(values.get("--out", DEFAULT_OUT)),
                        parsed, kinds, int(page_size), "--json" in flags)


def pure_path(text: str) -> str:
    """``str(pathlib.Path(text))`` without importing pathlib (~5 ms): the spelling typer's
    path options give, so both paths print the same output names. Repeated slashes and
    ``.`` parts go, ``..`` stays, exactly two leading slashes stay (POSIX leaves their
    meaning to the system)."""
    head = "//" if text.startswith("//") and not text.startswith("///") else \
        "/" if text.startswith("/") else ""
    return head + "/".join(p for p in text.split("/") if p and p != ".") or "."


def parse_define(item: str) -> tuple[str, int]:
    """-D NAME[=VALUE] (VALUE an integer in any C form, 1 when absent), as GNU as --defsym
    reads it; the one rule of ``vdsotool asm`` and of ``vdsotool build`` on both its paths
    (cli.parse_defines turns the ValueError into a usage error)."""
    name, eq, value = item.partition("=")
    if not name.isidentifier():
        raise ValueError(f"bad name in '{item}'")
    return name, int(value, 0) if eq else 1


def linux_version_code(text: str) -> int:
    """``--linux-version X.Y[.Z]`` as the kernel's LINUX_VERSION_CODE, KERNEL_VERSION(X, Y,
    Z): ``X << 16 | Y << 8 | Z``, the sublevel capped at 255 as the kernel caps it (X and Y
    must fit in a byte). The one rule of both build paths (the typer command turns the
    ValueError into a usage error)."""
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(f"'{text}' is not X.Y or X.Y.Z")
    a, b, c = (int(p) for p in (*parts, "0")[:3])
    if a > 255 or b > 255:
        raise ValueError(f"'{text}': version and patch level must be at most 255")
    return a << 16 | b << 8 | min(c, 255)


def fast_main(argv: list[str]) -> int | None:
    """Run ``argv`` without typer when this module can; None means: ask typer."""
    if os.environ.get("VDSOTOOL_NO_FASTPATH", "") not in ("", "0"):
        return None
    plain = split_plain(argv)
    if plain is None:
        return None
    request = _request(*plain)
    if request is None:
        return None
    return run_build(request)


def guarded(run) -> int:
    """Run ``run()`` -> exit status, turning an escaped exception into the one-line internal
    error (exit 70) instead of a traceback; shared by the fast path and the typer app.
    (vdsotool.errors is imported only when something escaped: it costs as much as the
    up-to-date check itself.)"""
    try:
        return run()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("vdsotool: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place allowed to catch everything
        from vdsotool.errors import VdsoError

        if isinstance(exc, VdsoError):
            sys.stderr.write(str(exc) + "\n")
            return EXIT_BAD_INPUT
        sys.stderr.write(f"vdsotool: internal error: {type(exc).__name__}: {exc}\n"
                         "vdsotool: this is a bug; please report it with the command line\n")
        return EXIT_INTERNAL
