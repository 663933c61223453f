"""``vdsotool build --linux-version``: the Linux version note's LINUX_VERSION_CODE."""

from __future__ import annotations

from conftest import run_vdsotool


def test_linux_version_sets_the_version_note(tmp_path):
    """--linux-version X.Y.Z is KERNEL_VERSION(X, Y, Z) (the sublevel capped at 255, as the
    kernel caps it) in the note; it overrides -D LINUX_VERSION_CODE."""
    from vdsotool.elf.constants import NT_LINUX_VERSION

    def note_word(out):
        from elftools.elf.elffile import ELFFile

        with open(out / "vdso32.so", "rb") as f:
            note = next(ELFFile(f).get_section_by_name(".note").iter_notes())
        assert note["n_name"] == "Linux" and note["n_type"] == NT_LINUX_VERSION
        return int.from_bytes(note["n_descdata"], "big")  # ppc32 is big-endian

    for version, code in (("6.1.158", 6 << 16 | 1 << 8 | 158), ("5.4.300", 5 << 16 | 4 << 8 | 255),
                          ("4.19", 4 << 16 | 19 << 8)):
        out = tmp_path / version
        res = run_vdsotool(["build", "--bits", "32", "--emit", "none", "--linux-version", version,
                            "-D", "LINUX_VERSION_CODE=7", "--out", out], cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert note_word(out) == code
