"""The ``vdsotool asm`` stage: assemble files (errors of all files collected) and print."""

from __future__ import annotations

import json

import typer

from vdsotool.errors import VdsoError


def parse_defines(defines: list[str]) -> dict[str, int]:
    out = {}
    for d in defines:
        name, eq, value = d.partition("=")
        try:
            out[name] = int(value, 0) if eq else 1
        except ValueError:
            raise typer.BadParameter(f"'{d}' is not NAME=INTEGER", param_hint="-D") from None
        if not name.isidentifier():
            raise typer.BadParameter(f"bad name in '{d}'", param_hint="-D")
    return out


def run_asm(files, target, include_dirs, defines: list[str], as_json: bool) -> str:
    from vdsotool.abi.generated import asm_includes
    from vdsotool.assemble import assemble_with_listing, read_source
    from vdsotool.assemble.listing import listing_json, listing_text

    values = parse_defines(defines)
    includes = asm_includes(target)
    errors, outputs = [], []
    for path in files:
        try:
            obj, listing = assemble_with_listing(read_source(path), str(path), target,
                                                 include_dirs=include_dirs,
                                                 virtual_includes=includes, defines=values)
        except VdsoError as err:
            errors.extend(err.diagnostics)
            continue
        outputs.append(listing_json(obj) if as_json else listing_text(obj, listing))
    if errors:
        raise VdsoError(errors)
    return json.dumps(outputs, indent=2) + "\n" if as_json else "".join(outputs)
