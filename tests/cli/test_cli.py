"""The command line as a user meets it: version, usage errors, no tracebacks."""

from conftest import run_vdsotool

from vdsotool import __version__


def test_version():
    r = run_vdsotool(["--version"])
    assert r.returncode == 0
    assert r.stdout.strip() == f"vdsotool {__version__}"


def test_no_command_is_usage_error():
    r = run_vdsotool([])
    assert r.returncode == 2
    assert "Usage" in r.stdout + r.stderr


def test_unknown_command_is_usage_error():
    r = run_vdsotool(["frobnicate"])
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
