"""The command line's one declaration (vdsotool/cli.py), read two ways: the plain parser
and the typer application generated from it. Where the plain parser accepts a line, typer
reads the same values from it; what it refuses, typer parses and explains. Every command
starts without typer and imports only what it uses."""

from __future__ import annotations

import pytest
from conftest import copy_sources, imported_modules, output_files, run_vdsotool
from hypothesis import given, settings
from hypothesis import strategies as st

from vdsotool import cli


def typer_values(argv: list[str]) -> tuple[int, dict | None]:
    """(exit status, the values typer hands the command) for ``argv``."""
    from typer.testing import CliRunner

    seen = {}

    def record(cmd, args):
        seen.update(vars(args))
        return 0

    result = CliRunner().invoke(cli.typer_app(call=record), argv)
    return result.exit_code, seen or None


ODD = ["0x40", "1_0", "-1", "", "a=b", "-", "--all", "\u0663", " 7"]
PLAIN = {"int": ["64", "32", "4096"], "str": ["big", "out", "all", "power4"],
         "list": ["X=1", "inc"], "argument": ["out/vdso64.so"], "arguments": ["a.S"]}


def words(option: cli.Option) -> st.SearchStrategy:
    """The option (or argument) in one of its spellings, a plain value mostly."""
    values = st.sampled_from(PLAIN.get(option.kind, ["x"]) * 4 + ODD)
    if not option.flags:
        return values.map(lambda v: [v])
    flag = st.sampled_from(option.flags)
    if option.kind == "flag":
        return st.one_of(flag.map(lambda f: [f]), flag.map(lambda f: [f + "=1"]))
    return st.one_of(st.tuples(flag, values).map(list),
                     st.tuples(flag, values).map(lambda t: [f"{t[0]}={t[1]}"]))


@st.composite
def command_lines(draw) -> list[str]:
    """A command with its required options and some others, in any order, now and then
    with something only typer reads."""
    cmd = draw(st.sampled_from(sorted(cli.COMMANDS)))
    options = cli.COMMANDS[cmd].options
    required = [o for o in options if o.default is cli.REQUIRED]
    chosen = required + draw(st.lists(st.sampled_from(options), max_size=4))
    parts = draw(st.permutations([draw(words(o)) for o in chosen]))
    extra = draw(st.sampled_from([[]] * 10 + [["--help"], ["--"], ["-Ifoo"], ["--bit"]]))
    return [cmd, *(w for part in parts for w in part), *extra]


@settings(max_examples=300, deadline=None)
@given(command_lines())
def test_what_the_plain_parser_accepts_typer_reads_alike(argv):
    parsed = cli.parse(argv)
    if parsed is not None:
        status, values = typer_values(argv)
        assert (status, values) == (0, vars(parsed[1])), argv


def test_every_declared_option_reaches_typer():
    app = cli.typer_app()
    import typer.main

    group = typer.main.get_command(app)
    for name, cmd in cli.COMMANDS.items():
        params = {p.name: p for p in group.commands[name].params}
        assert set(params) == {o.dest for o in cmd.options}, name
        for o in cmd.options:
            assert tuple(params[o.dest].opts) == (o.flags or (o.dest,)), (name, o.dest)
            assert params[o.dest].required == (o.default is cli.REQUIRED), (name, o.dest)


@pytest.fixture
def tree(tmp_path):
    return copy_sources(tmp_path / "tree")


def test_a_plain_build_runs_without_typer(tmp_path, tree):
    res = run_vdsotool(["build", "--bits", "64", "--src", tree, "--out", "out"], tmp_path,
                       importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    names = imported_modules(res.stderr)
    assert "vdsotool.pipeline" in names and "typer" not in names
    assert "vdso64-blob.c" in output_files(tmp_path / "out")


@pytest.mark.parametrize("args, hint", [
    (["--bits", "128"], "--bits"),
    (["--bits", "64", "--endian", "middle"], "--endian"),
    (["--bits", "64", "--emit", "c,blob"], "--emit"),
    (["--bits", "64", "--page-size", "1000"], "--page-size"),
    (["--bits", "64", "-D", "1X=2"], "-D"),
    (["--bits", "sixty-four"], "--bits"),
    (["--bits", "64", "--bogus"], "--bogus"),
    (["--bits", "64", "--linux-version", "6.x"], "--linux-version"),
    (["--bits", "64", "--linux-version", "256.1"], "--linux-version"),
    (["--bits", "64", "--abi", "5.4"], "--abi"),
    (["--bits", "64", "--abi", "6.1", "--page-size", "16384"], "--abi"),
])
def test_usage_errors_come_from_typer(args, hint, tmp_path, tree):
    res = run_vdsotool(["build", *args, "--src", tree, "--out", "out"], tmp_path)
    assert res.returncode == 2 and "Usage:" in res.stderr and hint in res.stderr, res.stderr
    assert not (tmp_path / "out").exists()


def test_help_tells_every_option(tmp_path):
    for name, cmd in cli.COMMANDS.items():
        res = run_vdsotool([name, "--help"], tmp_path)
        assert res.returncode == 0
        for o in cmd.options:
            assert all(flag in res.stdout for flag in o.flags), (name, o.flags)


@pytest.mark.parametrize("command", [["check"], ["dump"], ["dump", "--all"], ["patch"]])
def test_inspecting_commands_start_without_typer_and_the_build(command, tmp_path, tree):
    """check, dump and patch import neither typer nor the build's assembler, keystone or
    jinja2: their start-up is Python's plus what they use."""
    assert run_vdsotool(["build", "--bits", "32", "--src", tree, "--out", "out", "--emit",
                         "none"], tmp_path).returncode == 0
    args = [*command, "out/vdso32.so"]
    if command == ["patch"]:
        args += ["--cpu", "power4", "-o", "patched.so"]
    res = run_vdsotool(args, tmp_path, importtime=True)
    assert res.returncode == 0, res.stderr[-2000:]
    names = imported_modules(res.stderr)
    for heavy in ("typer", "click", "jinja2", "vdsotool.assemble", "vdsotool.pipeline"):
        assert heavy not in names, (command, heavy)
