"""The compiled templates shipped in vdsotool/emit/templates/compiled/ are exactly what
jinja2 compiles the ``.j2`` sources to now, and they render as the sources do.
``make templates`` (or ``BLESS=1`` on this test) writes them again after a template changes."""

from __future__ import annotations

import os

from vdsotool.emit import templates


def test_shipped_compiled_templates_match_the_sources(tmp_path):
    fresh = tmp_path / "compiled"
    names = templates.compile_all(str(fresh))
    if os.environ.get("BLESS"):
        templates.compile_all()
    sources = sorted(n for n in os.listdir(templates.SOURCES) if n.endswith(".j2"))
    assert len(names) == len(sources) + 1, "one module per template, and __init__.py"
    shipped = sorted(n for n in os.listdir(templates.COMPILED) if n.endswith(".py"))
    assert shipped == names, "run `make templates`: templates were added or removed"
    for name in names:
        assert (fresh / name).read_bytes() == \
            open(os.path.join(templates.COMPILED, name), "rb").read(), \
            f"run `make templates`: compiled/{name} is stale"


def test_compiled_templates_render_as_the_sources(tmp_path):
    import jinja2

    values = {"stem": "vdso64", "target": "ppc64", "page_size": 65536, "prefix": "vdso64",
              "PREFIX": "VDSO64", "bits": 64}
    source = templates._environment(jinja2.FileSystemLoader(templates.SOURCES))
    expected = source.get_template("wrapper.S.j2").render(**values)
    assert templates.render("wrapper.S.j2", values) == expected
    assert ".balign 65536" in expected
