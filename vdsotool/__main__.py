"""``vdsotool`` and ``python -m vdsotool``: the typer-free build path first, then typer.

Importing typer costs more than a whole cached build, so a plain ``vdsotool build ...`` is
run (or found up to date) by vdsotool/cli_build.py without it; everything else, and every
command line that module is not sure about, goes to the typer app in vdsotool/cli.py.
"""

import sys


def main() -> None:
    from vdsotool.cli_build import fast_main, guarded

    argv = sys.argv[1:]
    status = guarded(lambda: fast_main(argv))
    if status is not None:
        sys.exit(status)
    from vdsotool.cli import main as typer_main

    typer_main(argv)


if __name__ == "__main__":
    main()
