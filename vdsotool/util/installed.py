"""Installed packages found without importing them: what the build key and the keystone
binding need to know about keystone-engine, jinja2 and markupsafe.

``importlib.util.find_spec`` answers the same question for these plain installs, but
importing ``importlib.util`` costs ~3 ms of every build, cached or not (docs/performance.md);
the import system's own rule for a regular package is short enough to state here.
"""

from __future__ import annotations

import os
import sys


def package_directory(name: str) -> str | None:
    """The directory of the regular package ``name`` where ``import name`` would find it:
    the first ``sys.path`` entry holding ``name/__init__.py`` (None: not installed)."""
    for entry in sys.path:
        directory = os.path.join(entry or ".", name)  # "" on sys.path is the working directory
        if os.path.isfile(os.path.join(directory, "__init__.py")):
            return directory
    return None
