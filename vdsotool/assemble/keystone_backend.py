"""The only caller of keystone (through keystone_lib.py, lazily): it only ever hands it ONE
vetted instruction.

Keystone's lexer radix is uninitialised unless ``ks_option`` is called (and forced to 16 if it
is), so every number it sees is ``0x`` hex; we never call ``ks_option`` nor install a symbol
resolver. Callers vet the mnemonic and every operand against
:data:`vdsotool.assemble.isa.KEYSTONE_FORMS` and pass only integers.

Encodings are memoised per (target, text) for the life of the process: keystone is a pure
function of them, and the sources of one build repeat many instructions. Nothing is kept
between processes.
"""

from __future__ import annotations

from vdsotool.abi.targets import Target

_engines: dict[str, object] = {}
_cache: dict[tuple[str, str], bytes | str] = {}


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
        _cache[key] = _encode_uncached(target, text)
    return _cache[key]


def _encode_uncached(target: Target, text: str) -> bytes | str:
    from vdsotool.assemble.keystone_lib import KeystoneError

    try:
        encoding, count = _engine(target).assemble(text)
    except KeystoneError as err:
        return f"cannot encode '{text}': {err}"
    if count != 1 or len(encoding) != 4:
        return f"cannot encode '{text}'"
    return encoding
