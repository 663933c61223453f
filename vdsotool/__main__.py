"""``vdsotool`` and ``python -m vdsotool``: run the command line (vdsotool/cli.py).

A build is a short-lived process that frees everything at exit, and interpreter teardown
frees every module and object one by one and runs keystone's C++ destructors (a tenth of a
build, docs/performance.md). So once a build has written its outputs (complete files
renamed into place; vdsotool registers no atexit handlers), the process flushes stdout and
stderr and leaves with ``os._exit``. Other commands exit normally: ``verify``'s temporary
directory, for one, is removed at teardown.
"""

import os
import sys


def main() -> None:
    from vdsotool.cli import main as run

    status = run(sys.argv[1:])
    if sys.argv[1:2] == ["build"]:
        leave(status)
    sys.exit(status)


def leave(status: int) -> None:
    """Exit with ``status`` without interpreter teardown, as sys.exit would have reported it
    (a flush that fails, e.g. on a closed pipe, exits 120 as CPython's own exit does)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        status = 120
    os._exit(status)


if __name__ == "__main__":
    main()
