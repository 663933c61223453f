"""The only caller of keystone (through keystone_lib.py, lazily): it only ever hands it ONE
vetted instruction.

Keystone's lexer radix is uninitialised unless ``ks_option`` is called (and forced to 16 if it
is), so every number it sees is ``0x`` hex; we never call ``ks_option`` nor install a symbol
resolver. Callers vet the mnemonic against :data:`vdsotool.assemble.isa.KEYSTONE_MNEMONICS`
and pass only integers.

Results are cached per (target, normalised text): in memory for the process, and — inside
``with encoding_cache(directory):`` — in a persistent table per target and keystone build
(vdsotool/util/cache.py), so an instruction encoded once never reaches keystone again and a
build whose instructions are all known does not even load keystone. Only successful encodings
of printable-ASCII texts are stored. A table's first line names its target and keystone
identity; a table that fails its checksum, names another key, or holds anything but
``text<TAB>8 lowercase hex digits`` lines is ignored as a whole (a cache can make a build
faster, never different).
"""

from __future__ import annotations

import os
import re

from vdsotool.abi.targets import Target

_engines: dict[str, object] = {}
_cache: dict[tuple[str, str], bytes | str] = {}


class _PersistentTables:
    """The on-disk encoding tables of one cache directory, loaded on first use per target."""

    def __init__(self, directory: str | os.PathLike) -> None:
        from vdsotool.util.cache import FORMAT, keystone_identity

        self.directory = os.path.join(directory, f"v{FORMAT}", "encodings")
        self.keystone = keystone_identity()
        self.tables: dict[str, dict[str, bytes]] = {}
        self.dirty: dict[str, Target] = {}  # the targets whose tables gained entries

    def path(self, target: Target) -> str:
        return os.path.join(self.directory, f"{target.name}-{self.keystone}.tsv")

    def header(self, target: Target) -> str:
        return f"vdsotool-encodings {target.name} {self.keystone}"

    def table(self, target: Target) -> dict[str, bytes]:
        if target.name not in self.tables:
            self.tables[target.name] = load_table(self.path(target), self.header(target))
        return self.tables[target.name]

    def add(self, target: Target, text: str, encoding: bytes) -> None:
        self.table(target)[text] = encoding
        self.dirty[target.name] = target

    def flush(self) -> None:
        """Write the tables that gained entries, merged with what other builds stored since."""
        from vdsotool.util.cache import write_entry

        for name, target in sorted(self.dirty.items()):
            path, header = self.path(target), self.header(target)
            merged = load_table(path, header) | self.tables[name]
            write_entry(path, format_table(header, merged))
        self.dirty.clear()


_TEXT = re.compile(r"[\x20-\x7e]+")  # what may be stored: one line, no tab, no surprises
_ENTRY = re.compile(r"([\x20-\x7e]+)\t([0-9a-f]{8})")
_persistent: _PersistentTables | None = None


def load_table(path: str, header: str) -> dict[str, bytes]:
    """The entries of a table file; empty when missing, corrupt, made for another key
    (``header``) or malformed anywhere."""
    from vdsotool.util.cache import read_entry

    body = read_entry(path)
    if body is None:
        return {}
    table = {}
    try:
        first, *lines = body.decode("ascii").split("\n")
    except UnicodeDecodeError:
        return {}
    if first != header or lines[-1:] != [""]:
        return {}  # another key's table, or not ending as format_table ends it
    for line in lines[:-1]:
        m = _ENTRY.fullmatch(line)
        if m is None:
            return {}  # one bad line and the whole table is suspect
        table[m.group(1)] = bytes.fromhex(m.group(2))
    return table


def format_table(header: str, table: dict[str, bytes]) -> bytes:
    lines = [header] + [f"{text}\t{enc.hex()}" for text, enc in sorted(table.items())]
    return ("\n".join(lines) + "\n").encode("ascii")


class encoding_cache:
    """``with encoding_cache(directory):`` consults and extends the persistent tables under
    ``directory`` (None: memory only) and writes them back on leaving."""

    def __init__(self, directory: str | os.PathLike | None) -> None:
        self.directory = directory

    def __enter__(self) -> None:
        global _persistent
        self.outer = _persistent
        _persistent = _PersistentTables(self.directory) if self.directory else None

    def __exit__(self, *exc) -> None:
        global _persistent
        if _persistent is not None:
            _persistent.flush()
        _persistent = self.outer


def _engine(target: Target):
    if target.name not in _engines:
        from vdsotool.assemble import keystone_lib as ks  # loads keystone: only when needed

        mode = ks.MODE_PPC64 if target.bits == 64 else ks.MODE_PPC32
        mode |= ks.MODE_LITTLE_ENDIAN if target.little else ks.MODE_BIG_ENDIAN
        _engines[target.name] = ks.Engine(ks.ARCH_PPC, mode)
    return _engines[target.name]


def hexnum(n: int) -> str:
    return f"-0x{-n:x}" if n < 0 else f"0x{n:x}"


def encode(target: Target, mnemonic: str, operands: list[str]) -> bytes | str:
    """Encode one instruction whose operands are already ``0x`` numbers; bytes or an error text."""
    text = f"{mnemonic} {', '.join(operands)}".strip()
    key = (target.name, text)
    if key not in _cache:
        _cache[key] = _encode_persistent(target, text)
    return _cache[key]


def _encode_persistent(target: Target, text: str) -> bytes | str:
    if _persistent is None or not _TEXT.fullmatch(text):
        return _encode_uncached(target, text)
    known = _persistent.table(target).get(text)
    if known is not None:
        return known
    result = _encode_uncached(target, text)
    if isinstance(result, bytes):
        _persistent.add(target, text, result)
    return result


def _encode_uncached(target: Target, text: str) -> bytes | str:
    from vdsotool.assemble.keystone_lib import KeystoneError

    try:
        encoding, count = _engine(target).assemble(text)
    except KeystoneError as err:
        return f"cannot encode '{text}': {err}"
    if count != 1 or len(encoding) != 4:
        return f"cannot encode '{text}'"
    return encoding
