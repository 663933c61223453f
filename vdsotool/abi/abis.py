"""The kernel ABIs an image can be built for, as data: ``--abi 2.6.15`` (default) or ``6.1``.

Everything that differs between them is a field here, so the build, the GNU reference build
and verify choose by ABI without ``if abi == ...`` branches:

| field          | 2.6.15                              | 6.1                                   |
|----------------|-------------------------------------|---------------------------------------|
| sources        | ``asm/`` (+ its images.toml)        | ``asm/linux-6.1/``                    |
| linker script  | ``linker_scripts/vdsoNN.lds``       | ``linker_scripts/linux-6.1/vdsoNN.lds`` |
| data page      | vdsotool/abi/datapage.py, after the text | vdsotool/abi/datapage61.py, vvar pages before the text |
| symbol types   | 64-bit exports NOTYPE               | every export STT_FUNC                 |
| version note   | LINUX_VERSION_CODE 2.6.15           | 6.1.0                                 |
| exports        | vdsotool/abi/exports.py EXPORTS_2_6_15 | EXPORTS_6_1                        |
| build id       | none                                | NT_GNU_BUILD_ID, SHA-1 of the image   |

``vvar_pages`` is the number of data pages the kernel maps before the text (0: the 2005
page follows the text). A 6.1 image is page-size specific (the vvar size and the
time-namespace shift depend on it), so its includes and link take the kernel's page size.
"""

from __future__ import annotations

import os

from vdsotool.abi import exports
from vdsotool.abi.targets import Target
from vdsotool.util.records import record


@record(frozen=True)
class Abi:
    name: str  # as --abi spells it
    summary: str
    asm_dir: str  # sources, their images.toml and hand-written includes, under the root
    script_dir: str  # linker scripts, under the root
    vvar_pages: int  # data pages mapped before the text (0: one page after it)
    function_type_64: bool  # 64-bit exports typed STT_FUNC (32-bit ones always are)
    version_code: int  # the "Linux" note's default LINUX_VERSION_CODE (--linux-version: another)
    exports: tuple[exports.Export, ...]
    page_sizes: tuple[int, ...] = ()  # kernel page sizes the image can be built for (): any
    build_id: str = ""  # hash of the image's NT_GNU_BUILD_ID note, as ld --build-id= ("": none)

    def sources_toml(self, root: str | os.PathLike) -> str:
        return os.path.join(root, self.asm_dir, "images.toml")

    def linker_script(self, root: str | os.PathLike, target: Target) -> str:
        return os.path.join(root, self.script_dir, target.linker_script)

    def exports_for(self, target: Target) -> tuple[exports.Export, ...]:
        return exports.for_bits(self.exports, target.bits)

    def c_header(self) -> str:
        """The C header of this ABI's data page (static asserts per field offset)."""
        if self.vvar_pages:
            from vdsotool.abi import datapage61

            return datapage61.c_header()
        from vdsotool.abi import datapage

        return datapage.c_header()

    def link_symbols(self, page_size: int) -> dict[str, int]:
        """Symbols the link defines besides the script (GNU ld ``--defsym``): the vvar size
        the script places ``_vdso_datapage`` with (not a ``VDSO_`` name, which the kernel's
        offsets header would take for an offset)."""
        return {"_vdso_vvar_size": self.vvar_pages * page_size} if self.vvar_pages else {}


ABI_2_6_15 = Abi("2.6.15", "the 2005 design: data page after the text, patched offset word",
                 "asm", "linker_scripts", 0, False, 0x02060F, exports.EXPORTS_2_6_15)
ABI_6_1 = Abi("6.1", "Linux 5.13-6.12: vvar pages before the text, generic vdso_data clocks",
              "asm/linux-6.1", "linker_scripts/linux-6.1", 2, True, 0x060100,
              exports.EXPORTS_6_1, (4096, 65536), "sha1")

ABIS: dict[str, Abi] = {a.name: a for a in (ABI_2_6_15, ABI_6_1)}
DEFAULT = ABI_2_6_15


def abi_named(name: str) -> Abi:
    """The ABI ``--abi NAME`` selects; raises ValueError naming the choices."""
    try:
        return ABIS[name]
    except KeyError:
        raise ValueError(f"unknown ABI {name!r} (choose from {', '.join(ABIS)})") from None
