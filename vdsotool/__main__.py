"""``vdsotool`` and ``python -m vdsotool``: the typer-free build path first, then typer.

Importing typer costs more than a whole build, so a plain ``vdsotool build ...`` is
run by vdsotool/cli_build.py without it; everything else, and every
command line that module is not sure about, goes to the typer app in vdsotool/cli.py.

A build on that path is a short-lived process that allocates many small objects and frees
them all at exit, so two of CPython's housekeeping jobs cost more than they save there
(docs/performance.md measures both):

* the cyclic garbage collector, which would walk every module's objects again and again
  while the build imports and assembles (~3 ms): it is off until the fast path has decided
  (and back on for typer's commands);
* interpreter teardown, which frees every module and object one by one and runs
  keystone's C++ destructors (~10 ms): once the build has written and closed its outputs,
  the process flushes stdout/stderr and leaves with ``os._exit``. Nothing is lost: outputs
  are complete files renamed into place before this point, and vdsotool
  registers no atexit handlers.
"""

import gc
import os
import sys


def main() -> None:
    from vdsotool.cli_build import fast_main, guarded

    argv = sys.argv[1:]
    gc.disable()
    status = guarded(lambda: fast_main(argv))
    if status is not None:
        leave(status)
    gc.enable()
    from vdsotool.cli import main as typer_main

    typer_main(argv)


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
