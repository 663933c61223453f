"""vdsotool dump: row tables equal GNU readelf's, expressions equal eu-readelf's ops,
hostile input never escapes as a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import need_tool, run_vdsotool
from vdsotool.abi.targets import PPC32, PPC64, PPC64LE
from vdsotool.errors import VdsoError
from vdsotool.elf import load
from vdsotool.inspect.dump import PART_NAMES, build_report, render_text

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "dump_kstyle.S"
TARGETS = [PPC32, PPC64, PPC64LE]


_KSTYLE: dict[str, Path] = {}


def kstyle_build(target, tmp_path_factory) -> Path:
    """The kernel-style CFI fixture linked as a shared object for ``target`` (once)."""
    if target.name not in _KSTYLE:
        work = tmp_path_factory.mktemp(f"kstyle-{target.name}")
        obj, so = work / "k.o", work / "k.so"
        subprocess.run([need_tool(target.gnu_tool("as")), *target.gnu_as_flags[:2], "-o", obj,
                        FIXTURE], check=True)
        subprocess.run([need_tool(target.gnu_tool("ld")), "-shared", "-o", so, obj],
                       check=True)
        _KSTYLE[target.name] = so
    return _KSTYLE[target.name]


@pytest.fixture(scope="session")
def kstyle_image(tmp_path_factory):
    return kstyle_build(PPC64, tmp_path_factory)


def readelf_rows(tool: str, image: Path) -> dict[int, list[tuple[int, str, dict]]]:
    """Parse ``readelf --debug-dump=frames-interp``: record offset -> rows."""
    text = subprocess.run([tool, "--debug-dump=frames-interp", str(image)], check=True,
                          capture_output=True, text=True).stdout
    records, current, cols = {}, None, []
    for line in text.splitlines():
        head = re.match(r"^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ (CIE|FDE)", line)
        if head:
            current = records.setdefault(int(head.group(1), 16), [])
        elif line.strip().startswith("LOC") and current is not None:
            cols = line.split()[2:]
        elif re.match(r"^[0-9a-f]{8,16} ", line) and "ZERO" not in line and current is not None:
            loc, cfa, *cells = line.split()
            current.append((int(loc, 16), cfa, dict(zip(cols, cells))))
    return records


def our_rows(image: Path) -> dict[int, list[tuple[int, str, dict]]]:
    report = build_report(load(str(image)), ("cfi",))
    return {rec["offset"]: [(r["loc"], r["cfa"], r["regs"]) for r in rec["rows"]]
            for rec in report["cfi"]["records"]}


def assert_same_rows(ours, theirs):
    assert ours.keys() == theirs.keys()
    for off, rows in theirs.items():
        mine = ours[off]
        if not rows:  # readelf prints no table for an FDE without rules
            continue
        assert [(loc, cfa) for loc, cfa, _ in mine] == [(loc, cfa) for loc, cfa, _ in rows]
        for (_, _, my_regs), (_, _, regs) in zip(mine, rows):
            for col in set(my_regs) | set(regs):
                assert my_regs.get(col, "u") == regs.get(col, "u"), (off, col)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_rows_equal_gnu_readelf_on_gnu_images(gnu_images, target):
    image = gnu_images[target.name]
    assert_same_rows(our_rows(image), readelf_rows(need_tool(target.gnu_tool("readelf")), image))


def test_rows_equal_readelf_on_kernel_style_cfi(kstyle_image):
    theirs = readelf_rows(need_tool("powerpc64-linux-gnu-readelf"), kstyle_image)
    ours = our_rows(kstyle_image)
    assert_same_rows(ours, theirs)
    assert any(cfa == "exp" for rows in ours.values() for _, cfa, _ in rows)


def test_expression_ops_equal_eu_readelf(kstyle_image):
    """Every op eu-readelf lists ([n] name operand) appears, in order, in our text."""
    text = subprocess.run([need_tool("eu-readelf"), "--debug-dump=frames", str(kstyle_image)],
                          check=True, capture_output=True, text=True).stdout
    theirs = [m.group(1) for m in re.finditer(r"^\s+\[\s*\d+\] ([a-z]\w*)", text, re.M)]
    report = build_report(load(str(kstyle_image)), ("cfi",))
    ours = [op.split()[0].removeprefix("DW_OP_")
            for rec in report["cfi"]["records"] for i in rec["instructions"]
            if "(" in i["text"] for op in i["text"].split("(", 1)[1].rstrip(")").split("; ")]
    assert ours == theirs
    # the backwards skip lands on v0's DW_OP_breg1, which lies outside its own expression
    skip = next(i for rec in report["cfi"]["records"] for i in rec["instructions"]
                if "skip" in i["text"])
    target = int(re.search(r"to (0x[0-9a-f]+)", skip["text"]).group(1), 16)
    v0 = next(i for rec in report["cfi"]["records"] for i in rec["instructions"]
              if i["text"].startswith("DW_CFA_expression v0 "))
    assert target == v0["offset"] + 3 and bytes.fromhex(v0["bytes"])[3] == 0x71


def test_json_has_format_version_and_all_parts(gnu_images):
    r = run_vdsotool(["dump", "--all", "--json", gnu_images["ppc64le"]])
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format_version"] == 1
    assert all(doc[p] is not None for p in PART_NAMES if p not in ("patches", "fixups"))
    assert "fixups" not in doc  # a 2.6.15 image has no feature-fixup tables
    names = {s["name"]: s["version"] for s in doc["symbols"]["dynsym"]}
    assert names["__kernel_gettimeofday"] == "LINUX_2.6.15"
    assert doc["cfi"]["eh_frame_hdr"]["problems"] == []




def _mutations():
    # (position seed, new byte, aim at .eh_frame?)
    return st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255), st.booleans()),
                    min_size=1, max_size=8)


def _eh_frame_span(data: bytes) -> tuple[int, int]:
    from vdsotool.elf import read

    sec = read(data, "base").section(".eh_frame")
    return (sec.offset, max(sec.size, 1)) if sec else (0, len(data))


def _fuzz_one(data: bytes, tmp: Path) -> None:
    path = tmp / "m.so"
    path.write_bytes(data)
    start = time.perf_counter()
    from vdsotool.inspect.check import check_image

    for stage in (lambda: render_text(build_report(load(str(path)), PART_NAMES)),
                  lambda: check_image(load(str(path)))):
        try:
            stage()
        except VdsoError:
            pass
    # a hang guard, not a speed target (make bench times dump): generous for a loaded machine
    assert time.perf_counter() - start < 10.0


def _run_fuzz(base: bytes, tmp: Path, cases: int) -> None:
    hot, hot_size = _eh_frame_span(base)

    @settings(max_examples=cases, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_mutations(), st.integers(64, len(base)) | st.just(len(base)))
    def run(muts, cut):
        data = bytearray(base)
        for seed, val, aim in muts:
            data[hot + seed % hot_size if aim else seed % len(data)] = val
        _fuzz_one(bytes(data[:cut]), tmp)

    run()


def test_fuzz_mutated_images(gnu_images, tmp_path):
    _run_fuzz(gnu_images["ppc64"].with_suffix(".so.dbg").read_bytes(), tmp_path, 300)


@pytest.mark.slow
def test_fuzz_mutated_images_slow(gnu_images, kstyle_image, tmp_path):
    for image in (gnu_images["ppc32"], gnu_images["ppc64le"], kstyle_image):
        _run_fuzz(image.read_bytes(), tmp_path, 2000)


# --- JSON schema (tiny validator for the subset docs/dump.schema.json uses) ---------------

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "dump.schema.json"
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _type_ok(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def schema_errors(value, schema: dict, where: str = "$") -> list[str]:
    errors = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, n) for n in names):
            return errors + [f"{where}: {type(value).__name__} is not {names}"]
    if isinstance(value, dict):
        errors += [f"{where}: missing {k}" for k in schema.get("required", ()) if k not in value]
        props = schema.get("properties", {})
        for key, item in value.items():
            sub = props.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                errors += schema_errors(item, sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    return errors


def test_schema_validator_rejects_wrong_documents():
    schema = json.loads(SCHEMA.read_text())
    assert schema_errors({"format_version": 2}, schema)
    good = {"format_version": 1, "image": "x", "class": "ELF32", "endian": "big",
            "machine": 20, "problems": []}
    assert schema_errors(good, schema) == []
    assert schema_errors({**good, "symbols": {"dynsym": [{"name": 1}]}}, schema)
    cpu = {"name": "601", "pvr_value": 0x10000, "pvr_mask": 0xFFFF0000, "features": [],
           "notes": [], "symbols": [{"symbol": "x", "index": 1, "action": "hide", "to": None,
                                     "fields": []}]}
    patches = {"page_size": 4096, "datapage": None, "cpus": [cpu]}
    assert schema_errors({**good, "patches": patches}, schema) == []
    cpu["symbols"][0]["action"] = "move"
    assert schema_errors({**good, "patches": patches}, schema)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_json_matches_schema(gnu_images, target):
    schema = json.loads(SCHEMA.read_text())
    report = json.loads(json.dumps(build_report(load(str(gnu_images[target.name])), PART_NAMES)))
    assert schema_errors(report, schema) == []


def test_kstyle_json_matches_schema(kstyle_image):
    report = json.loads(json.dumps(build_report(load(str(kstyle_image)), PART_NAMES)))
    assert schema_errors(report, json.loads(SCHEMA.read_text())) == []


# --- golden text -------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_golden_dump_of_gnu_image(gnu_images, target):
    from conftest import check_golden

    report = build_report(load(str(gnu_images[target.name])), PART_NAMES)
    report["image"] = target.image + ".so"  # the temp directory must not reach the golden
    check_golden(f"dump/{target.name}-gnu.txt", render_text(report))


def test_cli_survives_mutated_files(gnu_images, tmp_path):
    import random

    base = gnu_images["ppc32"].read_bytes()
    rng = random.Random(7)
    for case in range(12):
        data = bytearray(base[:rng.randrange(64, len(base))])
        for _ in range(4):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"m{case}.so"
        path.write_bytes(bytes(data))
        r = run_vdsotool(["dump", "--all", path], timeout=20)
        assert r.returncode in (0, 1), r.stderr
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_disasm_interleaves_rule_changes_and_dbg_symtab(gnu_images):
    dbg = gnu_images["ppc32"].with_suffix(".so.dbg")
    report = build_report(load(str(dbg)), PART_NAMES)
    lines = {line["addr"]: line for line in report["disasm"]["lines"]}
    for rec in report["cfi"]["records"]:
        if rec["kind"] == "FDE" and rec["pc_end"] > rec["pc_begin"]:
            assert lines[rec["pc_begin"]]["cfi"].startswith("CFA=")
            for before, row in zip(rec["rows"], rec["rows"][1:]):
                changed = [k for k, v in row["regs"].items() if before["regs"][k] != v]
                if changed:  # registers by their ABI names (readelf's ra -> lr)
                    assert all(f"{rec['column_names'][k]}={row['regs'][k]}"
                               in lines[row["loc"]]["cfi"].split() for k in changed)
    dynamic = {s["name"] for s in report["symbols"]["dynsym"]}
    local = {s["name"] for s in report["symbols"]["symtab"]}
    assert "__kernel_gettimeofday" in dynamic and "__kernel_gettimeofday" in local
    assert lines[next(s["value"] for s in report["symbols"]["dynsym"]
                      if s["name"] == "__kernel_gettimeofday")]["label"]


def test_row_table_size_is_bounded():
    """A hostile FDE (5000 registers x 5000 advances) is refused, not built."""
    from vdsotool.cfi import model as M
    from vdsotool.cfi.decode import Cie, DecodedInstr, Fde
    from vdsotool.inspect.cfi_rows import fde_rows

    cie = Cie(0, 0, "zR", 4, -8, 65, 0x1B, False)
    instrs = [DecodedInstr(0, b"", M.Offset(r, 8)) for r in range(5000)]
    instrs += [DecodedInstr(0, b"", M.AdvanceLoc(4))] * 5000
    with pytest.raises(VdsoError, match="larger than"):
        fde_rows(cie, Fde(0x40, 0, 0, 0, 100, instrs), "img")


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_rows_equal_gnu_readelf_on_vdsotool_images(target):
    from gnu import built_image

    image = built_image("vdsotool", target)
    assert_same_rows(our_rows(image), readelf_rows(need_tool(target.gnu_tool("readelf")), image))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_truncation_is_a_report_or_a_diagnostic(gnu_images, target, tmp_path):
    data = gnu_images[target.name].read_bytes()
    for cut in range(0, len(data), 29):
        _fuzz_one(data[:cut], tmp_path)


def test_foreign_elf_says_what_it_cannot_show():
    import sys

    host = Path(sys.executable).resolve()
    r = run_vdsotool(["dump", "--all", host])
    assert r.returncode == 0, r.stderr
    assert "not a PowerPC image" in r.stdout and "no PowerPC .text" in r.stdout


# --- patches -----------------------------------------------------------------------------

def _pyelftools_dynsym(data: bytes) -> dict:
    """name -> symbol entry, read by pyelftools (an oracle independent of our reader)."""
    import io

    from elftools.elf.elffile import ELFFile

    dynsym = ELFFile(io.BytesIO(data)).get_section_by_name(".dynsym")
    return {s.name: s.entry for s in dynsym.iter_symbols() if s.name}


def _apply(data: bytes, fields: list[dict], little: bool) -> bytes:
    out = bytearray(data)
    for f in fields:
        out[f["offset"]:f["offset"] + f["size"]] = f["new"].to_bytes(
            f["size"], "little" if little else "big")
    return bytes(out)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_patches_redirect_and_hide_as_pyelftools_sees_them(gnu_images, target):
    """Each CPU's changes, written at their offsets, make pyelftools see the kernel's
    patched .dynsym: sync_dicache takes _p5's value and size on coherent-icache CPUs,
    gettimeofday loses its name on the 601, nothing else changes."""
    from vdsotool.abi.cpus import default_table

    table = default_table()
    data = gnu_images[target.name].read_bytes()
    syms = _pyelftools_dynsym(data)
    part = build_report(load(str(gnu_images[target.name])), ("patches",))["patches"]
    cpus = {c["name"]: c for c in part["cpus"]}
    # the kernels mapping the image: ppc64le ones for an LE image, else any as wide
    if target.little:
        maps = [c.name for c in table.cpus if c.little_endian]
    else:
        maps = [c.name for c in table.cpus if target.bits <= c.bits]
    assert list(cpus) == maps
    p5, gen = syms["__kernel_sync_dicache_p5"], syms["__kernel_sync_dicache"]
    for name, cpu in cpus.items():
        patched = _pyelftools_dynsym(
            _apply(data, [f for s in cpu["symbols"] for f in s["fields"]], target.little))
        coherent = "COHERENT_ICACHE" in cpu["features"]
        want = p5 if coherent else gen
        assert (patched["__kernel_sync_dicache"]["st_value"],
                patched["__kernel_sync_dicache"]["st_size"]) == \
            (want["st_value"], want["st_size"]), name
        assert ("__kernel_gettimeofday" in patched) == ("USE_TB" in cpu["features"]), name
        actions = {s["symbol"]: (s["action"], s["to"]) for s in cpu["symbols"]}
        assert actions.get("__kernel_sync_dicache") == \
            (("redirect", "__kernel_sync_dicache_p5") if coherent else None)
        assert actions.get("__kernel_gettimeofday") == \
            (("hide", None) if name == "601" else None)
    word = syms["__kernel_datapage_offset"]["st_value"]
    pages = -(-len(data) // 4096)
    assert part["datapage"]["offset"] == word
    assert part["datapage"]["new"] == pages * 4096 - word  # distance to the data page


def test_patches_text_names_redirects_and_hidden_symbols(gnu_images):
    text = render_text(build_report(load(str(gnu_images["ppc32"])), ("patches",)))
    blocks = dict(re.findall(r"^  (\S+) +PVR .*\n((?:    .*\n)+)", text, re.M))
    assert blocks["601"].strip().startswith("__kernel_gettimeofday hidden: st_name 0x")
    assert re.match(r"__kernel_sync_dicache -> __kernel_sync_dicache_p5: "
                    r"st_value 0x[0-9a-f]+ -> 0x[0-9a-f]+", blocks["POWER7"].strip())
    assert blocks["POWER4"].strip() == "no change"
    assert "__kernel_datapage_offset (word at 0x" in text


def test_patches_of_kernel_style_image_note_missing_symbols(kstyle_image):
    report = build_report(load(str(kstyle_image)), PART_NAMES)
    assert report["problems"] == []
    notes = {n for c in report["patches"]["cpus"] for n in c["notes"]}
    assert notes == {"__kernel_sync_dicache not in the image: the kernel skips this patch"}
    assert all(c["symbols"] == [] for c in report["patches"]["cpus"])


def test_patches_of_malformed_dynsym_is_located_error(gnu_images, tmp_path):
    """A .dynsym name pointing past .dynstr: the other parts are shown, the patch part is a
    diagnostic at an image offset, exit 1."""
    from vdsotool.elf import read

    data = bytearray(gnu_images["ppc64"].read_bytes())
    dynsym = read(bytes(data), "x").section(".dynsym")
    data[dynsym.offset + 24:dynsym.offset + 28] = (0xFFF0).to_bytes(4, "big")
    bad = tmp_path / "bad.so"
    bad.write_bytes(bytes(data))
    r = run_vdsotool(["dump", "--headers", "--patches", bad])
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert re.search(r"bad\.so\+0x[0-9a-f]+: error: symbol name offset 0xfff0", r.stderr)
    assert "Program headers:" in r.stdout
    r = run_vdsotool(["dump", "--headers", bad])
    assert r.returncode == 0, r.stderr


def test_foreign_elf_has_no_patches(gnu_images):
    import sys

    report = build_report(load(str(Path(sys.executable).resolve())), ("patches",))
    assert report["patches"]["cpus"] == [] and "not a PowerPC" in report["patches"]["note"]


# --- vdsotool-built images ---------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_dump_of_vdsotool_image_equals_gnu_image(target):
    """vdsotool's image dumps exactly like GNU's (text and JSON, every part), .so and .dbg."""
    from gnu import built_image

    for suffix in ("", ".dbg"):
        texts = []
        for builder in ("gnu", "vdsotool"):
            image = Path(str(built_image(builder, target)) + suffix)
            report = build_report(load(str(image)), PART_NAMES)
            report["image"] = image.name
            texts.append((render_text(report), json.dumps(report)))
        assert texts[0] == texts[1]


def test_json_golden_of_vdsotool_image():
    """The JSON report of vdsotool's ppc64 image, every part but the disassembly (covered by
    the text goldens), checked against the schema and a golden file."""
    from gnu import built_image

    from conftest import check_golden

    image = built_image("vdsotool", PPC64)
    report = build_report(load(str(image)), tuple(p for p in PART_NAMES if p != "disasm"))
    report["image"] = image.name
    assert schema_errors(report, json.loads(SCHEMA.read_text())) == []
    check_golden("dump/ppc64-vdsotool.json", json.dumps(report, indent=2, sort_keys=True) + "\n")


# --- expressions op by op, operands included ------------------------------------------------

def eu_readelf_ops(image: Path) -> list[tuple[int, str, list[int]]]:
    """(position in its expression, name, operands) of every op eu-readelf lists."""
    text = subprocess.run([need_tool("eu-readelf"), "--debug-dump=frames", str(image)],
                          check=True, capture_output=True, text=True).stdout
    return [(int(pos), name, [int(v) for v in args.split()])
            for pos, name, args in re.findall(r"^\s+\[\s*(\d+)\] ([a-z]\w*)(.*)$", text, re.M)]


def our_ops(image: Path) -> list[tuple[str, list[int]]]:
    report = build_report(load(str(image)), ("cfi",))
    out = []
    for rec in report["cfi"]["records"]:
        for instr in rec["instructions"]:
            if "(DW_OP_" not in instr["text"]:
                continue
            body = instr["text"].split("(", 1)[1].removesuffix(")")
            for op in body.split("; "):
                name, *args = op.split()
                out.append((name.removeprefix("DW_OP_"),
                            [int(a) for a in args[:1 if name in _BRANCHES else None]]))
    return out


_BRANCHES = ("DW_OP_skip", "DW_OP_bra")


def test_expression_operands_equal_eu_readelf(gnu_images, kstyle_image):
    """Every op of every expression, with its operands, as eu-readelf decodes it; branch
    targets: eu-readelf prints the expression offset reached (unsigned), we the signed
    displacement from the next op (3 bytes after the branch)."""
    images = [gnu_images[t.name] for t in TARGETS] + [kstyle_image]
    for image in images:
        theirs, ours = eu_readelf_ops(image), our_ops(image)
        assert len(ours) == len(theirs) > 0, image
        for (pos, name, args), (my_name, my_args) in zip(theirs, ours):
            assert my_name == name, (image, pos, name)
            if name in ("skip", "bra"):
                assert (pos + 3 + my_args[0]) % (1 << 64) == args[0], (image, pos, name)
            else:
                assert my_args == args, (image, pos, name)


# --- headers against GNU readelf ------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_headers_agree_with_gnu_readelf(gnu_images, target):
    """Section W/A/X flags, dynamic tag names and note bytes as readelf -S / -d / -n show
    them; the note is the kernel-version note (LINUX_VERSION_CODE)."""
    image = gnu_images[target.name]
    readelf = need_tool(target.gnu_tool("readelf"))
    out = subprocess.run([readelf, "-W", "-S", "-d", "-n", str(image)], check=True,
                         capture_output=True, text=True).stdout
    h = build_report(load(str(image)), ("headers",))["headers"]
    flags = dict(re.findall(r"^\s+\[\s*\d+\] (\S+)\s+\S+\s+[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ "
                            r"[0-9a-f]+ +([A-Z]*) ", out, re.M))
    bits = {"W": 1, "A": 2, "X": 4}
    ours = {s["name"]: "".join(c for c, bit in bits.items() if s["flags"] & bit)
            for s in h["sections"]}
    assert flags and ours == flags
    tags = re.findall(r"^ 0x[0-9a-f]+ \((\w+)\)", out, re.M)
    assert [d["name"] for d in h["dynamic"]] == [t for t in tags if t != "NULL"]
    desc = re.search(r"description data: ([0-9a-f ]+)", out).group(1).replace(" ", "")
    assert [(n["name"], n["desc"]) for n in h["notes"]] == [("Linux", desc)]
    code = int.from_bytes(bytes.fromhex(desc), "little" if target.little else "big")
    assert h["notes"][0]["meaning"] == \
        f"LINUX_VERSION_CODE {code:#x} = {code >> 16}.{code >> 8 & 255}.{code & 255}"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_kernel_style_cfi_on_every_target(target, tmp_path_factory):
    """The kernel-style fixture (backwards DW_OP_skip) as a 32-bit, 64-bit and little-endian
    image: rows equal GNU readelf's, ops and operands equal eu-readelf's, every part is
    shown without a problem."""
    image = kstyle_build(target, tmp_path_factory)
    assert_same_rows(our_rows(image), readelf_rows(need_tool(target.gnu_tool("readelf")), image))
    theirs, ours = eu_readelf_ops(image), our_ops(image)
    assert [n for _, n, _ in theirs] == [n for n, _ in ours] and "skip" in [n for n, _ in ours]
    skip = next(i for i, (n, _) in enumerate(ours) if n == "skip")
    assert ours[skip][1] == [-14] and theirs[skip][2] == [(theirs[skip][0] + 3 - 14) % (1 << 64)]
    report = build_report(load(str(image)), PART_NAMES)
    assert report["problems"] == [] and report["class"] == f"ELF{target.bits}"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_fde_names_the_functions_it_covers(gnu_images, target):
    """Each exported function (per pyelftools) is named by the one FDE whose range holds
    its address; the signal trampoline's FDE starts at the nop before the symbol."""
    image = gnu_images[target.name]
    syms = _pyelftools_dynsym(image.read_bytes())
    tramp = "__kernel_sigtramp_rt64" if target.bits == 64 else "__kernel_sigtramp_rt32"
    # the code symbols: defined in a section (not the ABS version node), not the data word
    funcs = {n: e["st_value"] for n, e in syms.items()
             if e["st_shndx"] not in ("SHN_UNDEF", "SHN_ABS") and n != "__kernel_datapage_offset"}
    fdes = [r for r in build_report(load(str(image)), ("cfi",))["cfi"]["records"] if r["kind"] == "FDE"]
    for name, value in funcs.items():
        holders = [r for r in fdes if name in r["functions"]]
        assert len(holders) == 1, name
        assert holders[0]["pc_begin"] <= value < holders[0]["pc_end"]
    assert len(funcs) >= 5
    assert next(r for r in fdes if tramp in r["functions"])["pc_begin"] == funcs[tramp] - 4


@pytest.mark.parametrize("page_size", [4096, 65536])
def test_patches_show_the_data_page_word_for_the_page_size_asked(gnu_images, tmp_path, page_size):
    """dump --patches --page-size N shows the word a kernel with N-byte pages stores: on an
    image that vdsotool patch wrote for N, the stored word is already that value; for the
    other page size it is not."""
    patched = tmp_path / "patched.so"
    proc = run_vdsotool(["patch", gnu_images["ppc32"], "--cpu", "601", "-o", patched,
                         "--page-size", page_size])
    assert proc.returncode == 0, proc.stderr
    for asked in (4096, 65536):
        proc = run_vdsotool(["dump", "--patches", "--json", "--page-size", asked, patched])
        assert proc.returncode == 0, proc.stderr
        part = json.loads(proc.stdout)["patches"]
        assert part["page_size"] == asked
        fix = part["datapage"]
        assert (fix["old"] == fix["new"]) == (asked == page_size), (asked, fix)
    proc = run_vdsotool(["dump", "--patches", "--page-size", "1000", patched])
    assert proc.returncode == 2 and "--page-size" in proc.stderr


@pytest.mark.parametrize("version", ["6.1", "6.12"])
def test_notes_of_todays_images_are_decoded_and_the_machine_named(version, debian_vdso):
    """Debian's vDSOs carry a build-id, the version and the build salt: the dump decodes
    each (the build-id as readelf -n reads it, the salt as the string the bytes hold), names
    the machine, and writes no empty part in parentheses anywhere."""
    image = debian_vdso(version)
    proc = run_vdsotool(["dump", "--all", "--json", image])
    assert proc.returncode == 0, proc.stderr
    notes = {(n["name"], n["type"]): n for n in json.loads(proc.stdout)["headers"]["notes"]}
    readelf = subprocess.run(["readelf", "-n", str(image)], capture_output=True, text=True,
                             check=True).stdout
    build_id = re.search(r"Build ID: ([0-9a-f]+)", readelf)[1]
    assert notes[("GNU", 3)]["desc"] == build_id and notes[("GNU", 3)]["meaning"] == "build-id"
    salt = bytes.fromhex(notes[("Linux", 256)]["desc"]).rstrip(b"\0").decode()
    assert salt.startswith(version) and notes[("Linux", 256)]["meaning"] == f"build-salt {salt!r}"
    assert notes[("Linux", 0)]["meaning"].startswith("LINUX_VERSION_CODE 0x")
    text = run_vdsotool(["dump", "--all", image]).stdout
    assert "machine EM_PPC64 (21)" in text.splitlines()[0]
    assert not re.search(r"\(\s*\)|, \)", text)
