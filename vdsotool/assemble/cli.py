"""The ``vdsotool asm`` stage: assemble files (errors of all files collected) and print."""

from __future__ import annotations

import json

from vdsotool.errors import VdsoError


def run_asm(files, target, include_dirs, defines: dict[str, int], as_json: bool) -> str:
    from vdsotool.assemble.assembler import assemble_text
    from vdsotool.assemble.includes import asm_includes
    from vdsotool.assemble.listing import listing_json, listing_text
    from vdsotool.assemble.source import read_source

    includes = asm_includes(target)
    errors, outputs = [], []
    for path in files:
        try:
            obj, listing = assemble_text(read_source(path), str(path), target, include_dirs,
                                         includes, defines)
        except VdsoError as err:
            errors.extend(err.diagnostics)
            continue
        outputs.append(listing_json(obj) if as_json else listing_text(obj, listing))
    if errors:
        raise VdsoError(errors)
    return json.dumps(outputs, indent=2) + "\n" if as_json else "".join(outputs)
