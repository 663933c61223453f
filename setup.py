"""Build hook: the wheel carries the vDSO sources, derived from the checkout's own.

``asm/`` and ``linker_scripts/`` stay at the top of the checkout (vdsotool, the GNU
reference build and the tests read them there). ``build_py`` copies them into the built
package as ``vdsotool/sources/asm`` and ``vdsotool/sources/linker_scripts``, so an
installed vdsotool builds the shipped images from any directory
(vdsotool.pipeline.find_source_root). The copy exists only in the build tree and the
wheel, never in the checkout: there is one hand-edited copy of each source. The sdist
carries the top-level directories (MANIFEST.in), and a wheel built from it copies them
the same way. Everything else is declared in pyproject.toml.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE_TREES = ("asm", "linker_scripts")


class build_py_with_sources(build_py):
    def run(self):
        super().run()
        here = os.path.dirname(os.path.abspath(__file__))
        dest = os.path.join(self.build_lib, "vdsotool", "sources")
        for part in SOURCE_TREES:
            target = os.path.join(dest, part)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(os.path.join(here, part), target)


setup(cmdclass={"build_py": build_py_with_sources})
