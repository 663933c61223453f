"""``vdsotool --version`` prints the package's version. (The rest of the command line as a
user meets it, usage errors and diagnostics included: tests/cli/cases/.)"""

from conftest import run_vdsotool

from vdsotool import __version__


def test_version():
    r = run_vdsotool(["--version"])
    assert r.returncode == 0
    assert r.stdout.strip() == f"vdsotool {__version__}"
