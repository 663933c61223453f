"""The build driver behind ``vdsotool build``: sources -> objects -> image -> checks -> files.

For a target and a kernel ABI (vdsotool.abi.abis: 2.6.15 by default, or 6.1) it reads the
ABI's ``images.toml`` (``asm/`` or ``asm/linux-6.1/``: ordered sources), assembles each
source with the ABI's generated includes (vdsotool.assemble.includes) and ``-D`` defines,
links them with the ABI's ``linker_scripts/.../<target.linker_script>`` and link symbols
(vdsotool.link.driver), runs the image checks (vdsotool.inspect.check) and only then writes
``<out>/<image>.so`` and its debug twin ``<out>/<image>.so.dbg`` (the same plus ``.symtab``,
like GNU ld's unstripped output) atomically. Everything is computed in memory first, so a failing build leaves old outputs
untouched. Progress goes to a callback as Kbuild-style quiet lines
(``  VDSO64A asm/sigtramp64.S``).

Kernel outputs: ``emit`` names the kinds to produce (``c``, ``offsets``, ``patches``,
``incbin``; see vdsotool.emit); ``vdsotool.emit.kernel_outputs(img, dbg, target, out_dir,
page_size, kinds)`` computes them and they are written together with the image (``dbg``:
the debug twin's bytes, whose symbols give the offsets header as ``nm vdsoNN.so.dbg`` does
in the kernel).

Paths are plain strings joined with ``os.path``: ``pathlib`` would be one more import on
every build's start-up for what ``os.path.join`` does.

``build_image(target)`` is the same build without files: the image bytes, as the tests and
the benchmark use them; ``build_debug_image(target)`` gives the debug twin's.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from vdsotool.abi.targets import Target
from vdsotool.errors import SourceLoc, VdsoError


def find_source_root(src: str | os.PathLike | None = None) -> str:
    """The directory holding ``asm/`` and ``linker_scripts/``: ``src``, else the current
    directory, else the sources vdsotool ships (:func:`shipped_source_root`)."""
    candidates = [os.fspath(src)] if src else [os.getcwd(), shipped_source_root()]
    for root in candidates:
        toml, scripts = os.path.join(root, "asm", "images.toml"), os.path.join(root, "linker_scripts")
        if os.path.isfile(toml) and os.path.isdir(scripts):
            return root
    where = ", ".join(str(c) for c in candidates)
    raise VdsoError.at(None, f"no asm/images.toml and linker_scripts/ found (looked in {where}); "
                             "use --src DIR")


def shipped_source_root() -> str:
    """Where vdsotool's own ``asm/`` and ``linker_scripts/`` are: ``vdsotool/sources/`` in
    an installed wheel (setup.py copies them there at build time), else the checkout this
    package lives in (a source tree or an editable install)."""
    package = os.path.dirname(os.path.realpath(__file__))
    bundled = os.path.join(package, "sources")
    return bundled if os.path.isdir(bundled) else os.path.dirname(package)


def image_sources(root: str | os.PathLike, target: Target, abi=None) -> list[str]:
    """The sources of ``target``'s image in link order for ``abi`` (vdsotool.abi.abis;
    default the 2005 design): ``<asm dir>/images.toml``'s ``[<target>] sources`` list, each
    joined with the ABI's sources folder (``asm/``, ``asm/linux-6.1/``)."""
    import tomllib

    from vdsotool.abi.abis import DEFAULT

    asm_dir = os.path.join(root, (abi or DEFAULT).asm_dir)
    toml = os.path.join(asm_dir, "images.toml")
    try:
        with open(toml, "rb") as f:
            sources = tomllib.load(f).get(target.name, {}).get("sources")
    except OSError as e:
        raise VdsoError.at(SourceLoc(toml, 0), f"cannot read: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError) as e:
        raise VdsoError.at(SourceLoc(toml, 0), f"not a table of source lists: {e}") from None
    if not isinstance(sources, list) or not sources or \
            not all(isinstance(name, str) and name for name in sources):
        raise VdsoError.at(SourceLoc(toml, 0),
                           f"no source list for {target.name} (want [{target.name}] "
                           'sources = ["file.S", ...])')
    return [os.path.join(asm_dir, name) for name in sources]


def build_outputs(target: Target, root: str | os.PathLike, out_dir: str | os.PathLike,
                  defines: dict[str, int] | None,
                  log: Callable[[str], None] = lambda line: None,
                  emit: frozenset[str] = frozenset(), page_size: int = 4096,
                  inputs: list[str] | None = None, cpus=None, abi=None) -> dict[str, bytes]:
    """Every output file of the build, in memory, by path (``out_dir`` joined with the file
    name); raises VdsoError with all diagnostics. ``inputs``, when given, receives the path of
    every input file the build read: ``asm/images.toml``, each source and the files it
    included, the linker script. ``cpus``: the CPU table of the kernel outputs (a
    :class:`vdsotool.abi.cpus.CpuTable`; default: the packaged one). ``abi``
    (vdsotool.abi.abis, default the 2005 design) chooses the sources, the generated includes,
    the linker script and the symbols the link defines (GNU ld's ``--defsym``)."""
    from vdsotool.abi.abis import DEFAULT
    from vdsotool.assemble import assemble_file
    from vdsotool.assemble.includes import asm_includes
    from vdsotool.errors import DiagnosticSink
    from vdsotool.elf import read
    from vdsotool.inspect.check import check_image
    from vdsotool.link.driver import link_image
    from vdsotool.link.script import Assignment, read_script

    abi = abi or DEFAULT
    tag = f"VDSO{target.bits}"
    includes = asm_includes(target, abi, page_size)
    sink, objects = DiagnosticSink(), []
    if inputs is not None:
        inputs.append(abi.sources_toml(root))
    for path in image_sources(root, target, abi):
        log(f"  {tag}A {os.path.relpath(path, root)}")
        try:
            objects.append(assemble_file(path, target,
                                         include_dirs=[os.path.join(root, abi.asm_dir)],
                                         virtual_includes=includes, defines=defines or {}))
        except VdsoError as err:
            sink.extend(err)
    sink.raise_if_failed()
    script_path = abi.linker_script(root, target)
    if inputs is not None:
        inputs += [p for obj in objects for p in obj.inputs] + [script_path]
    script = read_script(script_path)
    script.sections[:0] = [Assignment(name, ("num", value), False, SourceLoc(script_path, 0))
                           for name, value in abi.link_symbols(page_size).items()]
    log(f"  {tag}L {image_path(out_dir, target)}")
    linked = link_image(objects, script, target, debug=True, build_id=abi.build_id)
    image, dbg = linked.image, linked.dbg
    img = read(image, image_path(out_dir, target))  # parsed once, for the checks and outputs
    defects = check_image(img)
    if defects:
        raise VdsoError(defects)
    outputs = {image_path(out_dir, target): image, debug_path(out_dir, target): dbg}
    if emit:
        from vdsotool.emit import kernel_outputs

        dbg_img = read(dbg, debug_path(out_dir, target)) if "offsets" in emit else None
        outputs |= kernel_outputs(img, dbg_img, target, out_dir, page_size, emit, cpus)
    return outputs


def image_path(out_dir: str | os.PathLike, target: Target) -> str:
    return os.path.join(out_dir, f"{target.image}.so")


def debug_path(out_dir: str | os.PathLike, target: Target) -> str:
    return os.path.join(out_dir, f"{target.image}.so.dbg")


def build_image(target: Target, src: str | os.PathLike | None = None,
                defines: dict[str, int] | None = None) -> bytes:
    """The shipped image of ``target`` built from ``src`` (default: this checkout), in memory."""
    root = find_source_root(src)
    return build_outputs(target, root, ".", defines)[image_path(".", target)]


def build_debug_image(target: Target, src: str | os.PathLike | None = None,
                      defines: dict[str, int] | None = None) -> bytes:
    """The debug twin (``<image>.so.dbg``) of ``target``'s image, in memory."""
    root = find_source_root(src)
    return build_outputs(target, root, ".", defines)[debug_path(".", target)]


def build(target: Target, src: str | os.PathLike | None, out_dir: str | os.PathLike,
          defines: dict[str, int] | None = None, log: Callable[[str], None] = lambda l: None,
          emit: frozenset[str] = frozenset(), page_size: int = 4096,
          depfile: str | os.PathLike | None = None,
          cpu_files: tuple[str | os.PathLike, ...] = (), abi=None) -> list[str]:
    """Build and write every output, all visible together; returns the paths written (those
    whose content changed, and the depfile). ``depfile``: also write a make depfile there
    (:func:`make_depfile`), on every build: it is the build's time stamp for make.
    ``cpu_files``: ``--cpus`` files read over the packaged CPU table (inputs too); ``abi``:
    the kernel ABI (vdsotool.abi.abis; default 2.6.15)."""
    from vdsotool.util.atomic import write_outputs

    cpus = None
    if cpu_files:
        from vdsotool.abi.cpus import load_table

        cpus = load_table(cpu_files)  # checked even when no kernel output uses it
    root = find_source_root(src)
    inputs: list[str] = [os.fspath(f) for f in cpu_files]
    outputs = build_outputs(target, root, out_dir, defines, log, emit, page_size, inputs,
                            cpus, abi)
    if depfile is None:
        return write_outputs(outputs)
    depfile = os.fspath(depfile)
    outputs[depfile] = make_depfile([depfile, *outputs], inputs + tool_files())
    return write_outputs(outputs, always=(depfile,))


def tool_files() -> list[str]:
    """Every file of vdsotool's own package (its modules, compiled templates and data; not
    bytecode), sorted: a build's outputs depend on the tool as much as on the sources."""
    files = []
    for directory, subdirectories, names in os.walk(os.path.dirname(os.path.abspath(__file__))):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        files += [os.path.join(directory, n) for n in names if not n.endswith(".pyc")]
    return sorted(files)


def make_depfile(targets: list[str], inputs: list[str]) -> str:
    """A make rule: ``targets`` depend on ``inputs`` (each named once, in order), and an
    empty rule per input, so that make rebuilds, rather than fails, once one is deleted
    (gcc -MP). Spaces, ``#`` and ``$`` are escaped for make."""
    def word(path: str) -> str:
        return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")

    inputs = [word(p) for p in dict.fromkeys(inputs)]
    head = " ".join(word(t) for t in targets) + ":"
    return " \\\n  ".join([head, *inputs]) + "\n" + "".join(f"\n{p}:\n" for p in inputs)
