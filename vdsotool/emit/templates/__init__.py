"""The kernel outputs' text templates: jinja2 sources (``*.j2`` here) and their compiled
form (``compiled/``), which is what a build runs.

jinja2 turns a template into Python code before it can render it; doing that on every
run would cost more than rendering. So the templates ship compiled by jinja2 itself
(``Environment.compile_templates``) and are loaded with jinja2's ``ModuleLoader``: a build
imports them like any module, from their ``.pyc``. ``make templates`` (:func:`compile_all`)
compiles them again after a ``.j2`` changes, and
tests/unit/test_templates.py fails while the compiled form differs from what the sources
compile to now, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from functools import lru_cache

SOURCES = os.path.dirname(os.path.realpath(__file__))
COMPILED = os.path.join(SOURCES, "compiled")
# C and assembler text: nothing is escaped, a missing value is an error, a block tag's own
# line and indentation leave no trace, and the file keeps its final newline.
OPTIONS = dict(keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
               autoescape=False)
COMPILED_INIT = '"""jinja2\'s compiled form of the templates in ..: written by ' \
                '``make templates``, never edited."""\n'


def _environment(loader: object) -> object:
    import jinja2

    return jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, **OPTIONS)


@lru_cache(maxsize=1)
def _compiled() -> object:
    import jinja2

    return _environment(jinja2.ModuleLoader(COMPILED))


def render(name: str, values: dict) -> str:
    """The template ``name`` (e.g. ``blob.c.j2``) rendered with ``values``."""
    return _compiled().get_template(name).render(**values)


def compile_all(target: str = COMPILED) -> list[str]:
    """Compile every ``*.j2`` of :data:`SOURCES` into ``target`` (replacing what is there);
    returns the file names written."""
    import jinja2

    env = _environment(jinja2.FileSystemLoader(SOURCES))
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(target):
        if name.endswith(".py"):
            os.unlink(os.path.join(target, name))
    with open(os.path.join(target, "__init__.py"), "w", encoding="utf-8") as f:
        f.write(COMPILED_INIT)
    env.compile_templates(target, extensions=["j2"], zip=None, ignore_errors=False,
                          log_function=lambda message: None)
    return sorted(os.listdir(target))

