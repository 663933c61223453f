"""Driving the 6.1 execution harness (``harness/harness61.c``) under qemu-user.

Compiled and kept like the 2005 harness (vdsotool.verify.harness.compile_harness), with
the 6.1 data-page offsets it needs passed as ``-D`` values from vdsotool/abi/datapage61.py.
The harness maps two vvar pages of the image's page size before its text; commands go in
on stdin, one result line of ``key=value`` words comes back per call.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from vdsotool.abi import datapage61
from vdsotool.abi.targets import Target
from vdsotool.verify.harness import HarnessError, compile_harness, parse_line

SOURCE = Path(__file__).resolve().parent / "harness" / "harness61.c"


def harness_defines(target: Target) -> dict[str, int]:
    """The data-page offsets the harness writes to, from the one table."""
    return {"VDSO_DATA": datapage61.layout_for(target).data_offset,
            "VD_SIZE": datapage61.VDSO_DATA_SIZE}


def run(target: Target, image: str | Path, page_size: int, commands: list[str],
        timeout: float = 120, qemu_args: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Run ``commands`` against ``image``; one parsed result per call command.
    ``qemu_args`` go to qemu-user before the program (``make bench`` traces with them)."""
    from vdsotool.verify.private import fd_path

    binary = compile_harness(target, SOURCE, harness_defines(target))
    try:
        proc = subprocess.run([target.qemu, *qemu_args, fd_path(binary), str(image),
                               str(page_size)],
                              pass_fds=(binary,), input="\n".join(commands) + "\n",
                              capture_output=True, text=True, timeout=timeout)
    finally:
        os.close(binary)
    results = [parse_line(line) for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0:
        raise HarnessError(f"harness61 exited with {proc.returncode}: {proc.stderr.strip()} "
                           f"(after {len(results)} results)")
    return results


def vvar_commands(raw: bytes, page_size: int) -> list[str]:
    """Commands loading two vvar pages (``raw``: 2 * page_size bytes, e.g. model61.vvar);
    an all-zero page 1 stays unreadable, as outside a time namespace."""
    page0, page1 = raw[:page_size], raw[page_size:2 * page_size]
    commands = ["vvar0 " + page0.rstrip(b"\0").hex()]
    commands.append("vvar1 " + page1.rstrip(b"\0").hex() if page1.strip(b"\0") else "nopage1")
    return commands
