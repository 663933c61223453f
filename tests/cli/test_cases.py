"""Command-line cases, one file each: ``tests/cli/cases/<name>.case`` holds a command, its
input files and what it must print and return; this one runner runs them all.

A case file::

    # Why the case exists (at least one comment line).
    $ vdsotool asm bad.S --bits 32
    <<< bad.S
      lwzz r3,0(r4)
    >>> exit 1
    >>> stdout
    >>> stderr
    bad.S:1:3: error: unknown or unsupported instruction 'lwzz'
    ...

The part up to the first ``>>>`` line is written by hand: comments, the ``$ vdsotool ...``
line (split like a shell would, without expansion) and the inputs: ``<<< NAME`` writes the
lines up to the next marker to the file NAME of the case's own empty directory (the run's
working directory), ``<<< stdin`` gives them to the command's standard input. In the
command, ``{root}`` is the repository and ``{image:ppc64}`` (likewise ppc32, ppc64le) is
vdsotool's build of that shipped image (read-only: a case that writes a file writes it in
its own directory).

The ``>>>`` part is what the run gave: its exit status, stdout, stderr, and ``files``, the
files it left in its directory besides the inputs (the section is absent when there are
none). A section whose text does not end with a newline says ``(no newline at end)``. In
the output the paths above are written back as ``{root}``, ``{image:NAME}``, and the
directory as ``{tmp}``. ``BLESS=1`` (``make bless``) rewrites the ``>>>`` part from the
run; a new case is its hand-written part alone, blessed once and reviewed.

Whatever a case expects, no run may end in a traceback or with a status other than 0, 1
(bad input) or 2 (usage): those fail even when blessing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import BLESS, ROOT, run_vdsotool

CASES = Path(__file__).resolve().parent / "cases"
NO_EOL = " (no newline at end)"
# click formats help and usage errors to the terminal's width: one width for every run
ENV = {"COLUMNS": "80", "NO_COLOR": "1"}


@dataclass
class Case:
    path: Path
    head: str                       # the hand-written part, verbatim
    args: list[str]
    inputs: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None


def sections(lines: list[str], marker: str) -> list[tuple[str, str]]:
    """(rest of the marker line, text up to the next ``<<<``/``>>>`` line) for each
    ``marker`` line; the text of a ``(no newline at end)`` section loses its last newline."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith(("<<< ", ">>> ")):
            out.append((line[4:].rstrip("\n"), []) if line.startswith(marker) else ("", None))
        elif out and out[-1][1] is not None:
            out[-1][1].append(line)
    result = []
    for name, body in out:
        if body is None:
            continue
        text = "".join(body)
        if name.endswith(NO_EOL):
            name, text = name[:-len(NO_EOL)], text[:-1]
        result.append((name, text))
    return result


def read_case(path: Path) -> Case:
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    cut = next((i for i, line in enumerate(lines) if line.startswith(">>> ")), len(lines))
    head = lines[:cut]
    commands = [line for line in head if line.startswith("$ ")]
    first_input = next((i for i, l in enumerate(head) if l.startswith("<<< ")), len(head))
    assert any(line.startswith("#") for line in head[:first_input]), \
        f"{path.name}: say in a comment line why the case exists"
    assert len(commands) == 1, f"{path.name}: one '$ vdsotool ...' line"
    words = shlex.split(commands[0][2:])
    assert words[0] == "vdsotool", f"{path.name}: the command is vdsotool"
    case = Case(path, "".join(head), words[1:])
    for name, body in sections(head, "<<< "):
        if name == "stdin":
            case.stdin = body
        else:
            case.inputs[name] = body
    return case


def image_paths() -> dict[str, Path]:
    from gnu import built_image

    from vdsotool.abi.targets import TARGETS

    return {name: built_image("vdsotool", TARGETS[name]) for name in TARGETS}


def expand(word: str, images) -> str:
    word = word.replace("{root}", str(ROOT))
    if "{image:" in word:
        for name, path in images().items():
            word = word.replace(f"{{image:{name}}}", str(path))
    return word


def render(case: Case, exit_code: int, stdout: str, stderr: str, files: list[str]) -> str:
    def section(name: str, text: str) -> str:
        if text and not text.endswith("\n"):
            return f">>> {name}{NO_EOL}\n{text}\n"
        return f">>> {name}\n{text}"

    out = [case.head, f">>> exit {exit_code}\n", section("stdout", stdout),
           section("stderr", stderr)]
    if files:
        out.append(section("files", "".join(f"{name}\n" for name in files)))
    return "".join(out)


@pytest.mark.parametrize("path", sorted(CASES.glob("*.case")), ids=lambda p: p.stem)
def test_case(path: Path, tmp_path: Path):
    case = read_case(path)
    images: dict[str, Path] = {}

    def built():
        if not images:
            images.update(image_paths())
        return images

    for name, body in case.inputs.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    args = [expand(word, built) for word in case.args]
    res = run_vdsotool(args, cwd=tmp_path, input=case.stdin, extra_env=ENV, timeout=60)
    assert "Traceback" not in res.stderr and res.returncode in (0, 1, 2), res.stderr

    def tidy(text: str) -> str:
        for name, image in images.items():
            text = text.replace(str(image), f"{{image:{name}}}")
        return text.replace(str(tmp_path), "{tmp}").replace(str(ROOT), "{root}")

    stdout, stderr = tidy(res.stdout), tidy(res.stderr)
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        assert not any(line.startswith(("<<< ", ">>> ")) for line in text.splitlines()), \
            f"{path.name}: a line of {name} starts like a case marker; this format cannot hold it"
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                   if p.is_file() and str(p.relative_to(tmp_path)) not in case.inputs)
    actual = render(case, res.returncode, stdout, stderr, files)
    if BLESS:
        path.write_text(actual)
        return
    expected = path.read_text()
    assert actual == expected, f"{path.relative_to(ROOT)} differs from the run (BLESS=1 to update)"
