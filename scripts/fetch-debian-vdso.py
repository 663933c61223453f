#!/usr/bin/env python3
"""Fetch Debian's ppc64el kernels and cut out their vDSO images, the test oracles for today's
ABI (docs/verify.md, "The Debian images").

    scripts/fetch-debian-vdso.py [--dest DIR] [--latest] [VERSION ...]

VERSION is one of 6.1, 6.12, 6.12-64k (default: all). For each, DIR (default
``$VDSOTOOL_TEST_IMAGES``, else ``$XDG_CACHE_HOME/vdsotool-test-images``, else
``~/.cache/vdsotool-test-images``) receives ``vdso64-VERSION.so`` (``vdso32-VERSION.so`` too
when the kernel embeds one) and ``vdso64-VERSION.json``, which says where it came from
(package, version, .deb size and sha256, the symbol and file offset it was cut at, the
image's sha256). Images already there whose sha256 matches their manifest are kept: a
second run needs no network. The images are never part of the repository.

How: a private apt configuration (its own sources list, indexes, cache and an empty dpkg
status, ``APT::Architecture=ppc64el``; no root, no ``dpkg --add-architecture``, nothing of
the system's apt state changes) pointing at the Debian mirror the machine's apt already uses
(``apt-get indextargets``; ``$VDSOTOOL_DEBIAN_MIRROR`` overrides), suites bookworm,
bookworm-updates, bookworm-security and bookworm-backports, checked against Debian's archive
keyring. ``apt-get download`` fetches the package (apt checks it against the signed
index), ``dpkg-deb --fsys-tarfile`` streams its data, and only ``boot/vmlinux-*`` is read
from it. The kernel embeds its unstripped vDSO between the symbols ``vdso64_start`` and
``vdso64_end`` (``vdso32_*`` for a compat one); the image's own length is where its section
header table ends (the rest up to ``vdso64_end`` is page padding). The .deb and vmlinux are
deleted afterwards.

Packages: ``linux-image-6.1.0-N-powerpc64le`` (bookworm) and
``linux-image-6.12.N+deb12-powerpc64le[-64k]`` (bookworm-backports, bookworm-security).
The versions described in docs/verify.md (6.1.0-50, 6.12.95) are preferred while the
archive has them, so every machine tests the same bytes; otherwise, or with ``--latest``,
the newest ABI the archive lists.

Exit status: 0 done; 3 cannot fetch here (no apt-get/dpkg-deb, mirror unreachable,
package not found), which tests treat as "skip" outside CI; 1 anything else (a package
whose vmlinux has no vDSO, a damaged image); 2 usage.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# version -> (package-name pattern with one group: the ABI/upstream number, preferred
# package, sha256 of the vdso64 image cut from the preferred package as docs/verify.md and
# ../shared/reference/modern-vdso-abi.md §9 record it: a second opinion on the cutting)
PACKAGES = {
    "6.1": (r"linux-image-6\.1\.0-(\d+)-powerpc64le", "linux-image-6.1.0-50-powerpc64le",
            "6b620f83c67e1409bd36e1eeacc4345b4227ef56a9add473ebfa7e4fc59c8d57"),
    "6.12": (r"linux-image-6\.12\.(\d+)\+deb12-powerpc64le",
             "linux-image-6.12.95+deb12-powerpc64le",
             "7e1e9f7e55a42cf64ca20794ab95d6a917fa596f3644595df70619efcf83a368"),
    "6.12-64k": (r"linux-image-6\.12\.(\d+)\+deb12-powerpc64le-64k",
                 "linux-image-6.12.95+deb12-powerpc64le-64k",
                 "7439a43dd31f5bcb9099ff866c988a3f826a51b84f1f8b891648d4cad5dd5e11"),
}
SUITE = "bookworm"  # the Debian release that carries both 6.1 and (backports, security) 6.12
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
MAX_VMLINUX = 512 << 20  # a ppc64el vmlinux is ~50 MB; refuse to unpack anything absurd
MAX_IMAGE = 1 << 20  # a vDSO is a few pages

EM_PPC, EM_PPC64, ET_DYN = 20, 21, 3


class CannotFetch(Exception):
    """The images cannot be fetched on this machine (exit 3)."""


class Broken(Exception):
    """Fetched, but not what we expect (exit 1)."""


def default_dest() -> Path:
    explicit = os.environ.get("VDSOTOOL_TEST_IMAGES")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vdsotool-test-images"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached(dest: Path, version: str) -> bool:
    """Whether every image of ``version`` is in ``dest`` with the sha256 its manifest says."""
    try:
        manifest = json.loads((dest / f"vdso64-{version}.json").read_text())
        return all(sha256_file(dest / img["file"]) == img["sha256"]
                   for img in manifest["images"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


# --- apt, privately ------------------------------------------------------------------------

def mirrors() -> tuple[str, str | None]:
    """The Debian archive and security sites the machine's apt is configured with
    (``$VDSOTOOL_DEBIAN_MIRROR``/``$VDSOTOOL_DEBIAN_SECURITY`` override them). No site is
    built in: a machine whose apt knows no Debian archive cannot fetch (exit 3); the
    security site is optional (the 6.12 packages are in backports too)."""
    mirror = os.environ.get("VDSOTOOL_DEBIAN_MIRROR")
    security = os.environ.get("VDSOTOOL_DEBIAN_SECURITY")
    try:
        out = subprocess.run(["apt-get", "indextargets", "--format", "$(SITE)|$(LABEL)"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for line in out.splitlines():
        site, _, label = line.partition("|")
        if label == "Debian" and mirror is None:
            mirror = site
        elif label == "Debian-Security" and security is None:
            security = site
    if not mirror:
        raise CannotFetch("apt is configured with no Debian archive "
                          "(set VDSOTOOL_DEBIAN_MIRROR to one)")
    return mirror.rstrip("/"), security.rstrip("/") if security else None


class Apt:
    """apt-get/apt-cache with their own configuration and state under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        for d in ("lists/partial", "cache/archives/partial", "parts", "prefs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "status").touch()
        mirror, security = mirrors()
        signed = f" signed-by={KEYRING}" if os.path.exists(KEYRING) else ""
        opts = f"[arch=ppc64el{signed}]"
        (root / "sources.list").write_text(
            f"deb {opts} {mirror} {SUITE} main\n"
            f"deb {opts} {mirror} {SUITE}-updates main\n"
            f"deb {opts} {mirror} {SUITE}-backports main\n"
            + (f"deb {opts} {security} {SUITE}-security main\n" if security else ""))
        # Read after the system's configuration: the machine's proxies and the like still
        # apply, its hooks (e.g. a Post-Invoke that cleans /var/cache/apt) do not.
        (root / "apt.conf").write_text(f"""\
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Pre-Invoke;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
Dir::Etc::SourceList "{root}/sources.list";
Dir::Etc::SourceParts "{root}/parts";
Dir::Etc::Preferences "{root}/prefs/none";
Dir::Etc::PreferencesParts "{root}/prefs";
Dir::State::Lists "{root}/lists";
Dir::State::status "{root}/status";
Dir::Cache "{root}/cache";
APT::Architecture "ppc64el";
APT::Architectures {{ "ppc64el"; }};
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::Retries "2";
Debug::NoLocking "true";
""")
        self.env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")

    def run(self, tool: str, *args: str, cwd: Path | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([tool, "-c", str(self.root / "apt.conf"), *args], cwd=cwd,
                                  env=self.env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CannotFetch(f"{tool} {' '.join(args)}: no answer in {timeout:.0f} s") from None

    def update(self) -> None:
        proc = self.run("apt-get", "update")
        # apt-get update exits 0 even when a source failed; "Err:"/"W: Failed" say it did
        failed = [l for l in proc.stdout.splitlines() + proc.stderr.splitlines()
                  if l.startswith(("Err:", "E:", "W: Failed", "W: Some index"))]
        if proc.returncode != 0 or failed:
            raise CannotFetch("apt-get update of the ppc64el indexes failed:\n  " +
                              "\n  ".join(failed or proc.stderr.splitlines()[-3:]))

    def package_names(self) -> list[str]:
        proc = self.run("apt-cache", "pkgnames", "linux-image-6.")
        return proc.stdout.split()

    def download(self, name: str, into: Path) -> Path:
        proc = self.run("apt-get", "download", name, cwd=into)
        debs = sorted(into.glob(f"{name}_*_ppc64el.deb"))
        if proc.returncode != 0 or len(debs) != 1:
            raise CannotFetch(f"apt-get download {name} failed:\n  " +
                              "\n  ".join(proc.stderr.strip().splitlines()[-3:]))
        return debs[0]

    def show(self, name: str) -> dict[str, str]:
        proc = self.run("apt-cache", "show", "--no-all-versions", name)
        fields = {}
        for line in proc.stdout.splitlines():
            key, sep, value = line.partition(": ")
            if sep and not line.startswith(" "):
                fields.setdefault(key, value)
        return fields


def choose(names: list[str], version: str, latest: bool) -> str:
    pattern, preferred, _ = PACKAGES[version]
    found = {n: int(m.group(1)) for n in names if (m := re.fullmatch(pattern, n))}
    if not found:
        raise CannotFetch(f"the archive lists no package like {pattern}")
    if preferred in found and not latest:
        return preferred
    return max(found, key=found.get)


# --- vmlinux --------------------------------------------------------------------------------

def extract_vmlinux(deb: Path, out: Path) -> str:
    """Write the package's ``boot/vmlinux-*`` to ``out``; its name in the package."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    name = None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|*") as tar:
            for member in tar:
                if re.fullmatch(r"(\./)?boot/vmlinux-[^/]+", member.name) and member.isreg():
                    if member.size > MAX_VMLINUX:
                        raise Broken(f"{member.name}: {member.size} bytes, more than expected")
                    src = tar.extractfile(member)
                    with open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    name = member.name
                    break
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
    if name is None:
        raise Broken(f"{deb.name} has no boot/vmlinux-*")
    return name


class Elf:
    """Just enough of an ELF file to find symbols and map addresses to file offsets."""

    def __init__(self, data: bytes, what: str):
        if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
            raise Broken(f"{what}: not an ELF file")
        self.data, self.what = data, what
        self.is64 = data[4] == 2
        self.order = "<" if data[5] == 1 else ">"
        if self.is64:
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, _) = self.unpack("HHIQQQIHHHHHH", 16)
        else:
            (self.type, self.machine, _, _, self.phoff, self.shoff, _, _, self.phentsize,
             self.phnum, self.shentsize, self.shnum, _) = self.unpack("HHIIIIIHHHHHH", 16)

    def unpack(self, fmt: str, at: int) -> tuple:
        fmt = self.order + fmt
        if at < 0 or at + struct.calcsize(fmt) > len(self.data):
            raise Broken(f"{self.what}: truncated at {at:#x}")
        return struct.unpack_from(fmt, self.data, at)

    def sections(self) -> list[tuple]:
        """(type, addr, offset, size, link, entsize) of each section."""
        fmt = "IIQQQQIIQQ" if self.is64 else "IIIIIIIIII"
        out = []
        for i in range(self.shnum):
            _, typ, _, addr, off, size, link, _, _, ent = self.unpack(fmt, self.shoff + i * self.shentsize)
            out.append((typ, addr, off, size, link, ent))
        return out

    def loads(self) -> list[tuple[int, int, int]]:
        """(vaddr, offset, filesz) of each PT_LOAD."""
        out = []
        for i in range(self.phnum):
            at = self.phoff + i * self.phentsize
            if self.is64:
                typ, _, off, vaddr, _, filesz, _, _ = self.unpack("IIQQQQQQ", at)
            else:
                typ, off, vaddr, _, filesz, _, _, _ = self.unpack("IIIIIIII", at)
            if typ == 1:
                out.append((vaddr, off, filesz))
        return out

    def symbols(self, wanted: set[str]) -> dict[str, int]:
        secs = self.sections()
        found = {}
        for typ, _, off, size, link, ent in secs:
            if typ != 2 or not ent or link >= len(secs):  # SHT_SYMTAB
                continue
            stroff, strsize = secs[link][2], secs[link][3]
            for at in range(off, off + size - ent + 1, ent):
                if self.is64:
                    name, _, _, _, value, _ = self.unpack("IBBHQQ", at)
                else:
                    name, value, _, _, _, _ = self.unpack("IIIBBH", at)
                if name >= strsize:
                    continue
                end = self.data.find(b"\0", stroff + name, stroff + strsize)
                sym = self.data[stroff + name:end].decode("latin-1")
                if sym in wanted:
                    found[sym] = value
        return found

    def file_offset(self, vaddr: int) -> int:
        for start, off, filesz in self.loads():
            if start <= vaddr < start + filesz:
                return off + vaddr - start
        raise Broken(f"{self.what}: address {vaddr:#x} is in no PT_LOAD's file image")

    def own_length(self) -> int:
        """Where this file's contents end: the furthest of its headers, section header table
        and sections."""
        end = max(self.shoff + self.shnum * self.shentsize, self.phoff + self.phnum * self.phentsize)
        for typ, _, off, size, _, _ in self.sections():
            if typ != 8:  # SHT_NOBITS
                end = max(end, off + size)
        return end


def cut_vdsos(vmlinux: Path) -> dict[int, tuple[bytes, dict]]:
    """bits -> (image, facts) of each vDSO embedded in ``vmlinux``."""
    kernel = Elf(vmlinux.read_bytes(), vmlinux.name)
    names = {f"vdso{b}_{e}" for b in (32, 64) for e in ("start", "end")}
    syms = kernel.symbols(names)
    out = {}
    for bits, machine in ((64, EM_PPC64), (32, EM_PPC)):
        start, end = syms.get(f"vdso{bits}_start"), syms.get(f"vdso{bits}_end")
        if start is None or end is None:
            continue
        if not 0 < end - start <= MAX_IMAGE:
            raise Broken(f"vdso{bits}_start..end is {end - start:#x} bytes")
        at = kernel.file_offset(start)
        region = kernel.data[at:at + end - start]
        image = Elf(region, f"vdso{bits} in {vmlinux.name}")
        if image.type != ET_DYN or image.machine != machine or image.is64 != (bits == 64):
            raise Broken(f"vdso{bits}_start is not an ELF{bits} shared object of machine {machine}")
        length = image.own_length()
        if length > len(region) or any(region[length:]):
            raise Broken(f"vdso{bits}: {length:#x} bytes of image and non-zero padding after")
        out[bits] = (region[:length], {"symbol": f"vdso{bits}_start", "address": hex(start),
                                       "vmlinux_offset": hex(at)})
    if 64 not in out:
        raise Broken(f"{vmlinux.name} has no vdso64_start/vdso64_end symbols")
    return out


# --- one version ----------------------------------------------------------------------------

def fetch(apt: Apt, names: list[str], version: str, dest: Path, work: Path,
          latest: bool) -> dict:
    name = choose(names, version, latest)
    info = apt.show(name)
    deb = apt.download(name, work)
    manifest = {"version": version, "package": name, "package_version": info.get("Version"),
                "deb": deb.name, "deb_size": deb.stat().st_size,
                "deb_sha256": sha256_file(deb), "images": []}
    vmlinux = work / "vmlinux"
    manifest["vmlinux"] = extract_vmlinux(deb, vmlinux)
    deb.unlink()
    images = cut_vdsos(vmlinux)
    _, preferred, known = PACKAGES[version]
    if name == preferred and hashlib.sha256(images[64][0]).hexdigest() != known:
        raise Broken(f"the vdso64 image cut from {name} is not the one documented "
                     f"(sha256 {known})")
    for bits, (image, facts) in sorted(images.items()):
        file = f"vdso{bits}-{version}.so"
        tmp = dest / f".{file}.tmp"
        tmp.write_bytes(image)
        os.replace(tmp, dest / file)
        manifest["images"].append({"file": file, "bits": bits, "size": len(image),
                                   "sha256": hashlib.sha256(image).hexdigest(), **facts})
    vmlinux.unlink()
    tmp = dest / f".vdso64-{version}.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, dest / f"vdso64-{version}.json")  # last: the manifest says "complete"
    return manifest


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="*", metavar="VERSION",
                        help=f"one of {', '.join(PACKAGES)} (default: all)")
    parser.add_argument("--dest", type=Path, default=None, help="where the images go")
    parser.add_argument("--latest", action="store_true",
                        help="the newest packages, not the versions docs/verify.md describes")
    args = parser.parse_args(argv)
    versions = args.versions or list(PACKAGES)
    for v in versions:
        if v not in PACKAGES:
            parser.error(f"unknown version {v!r} (one of {', '.join(PACKAGES)})")
    dest = args.dest or default_dest()
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test workers: one fetches, others wait
        todo = [v for v in versions if args.latest or not cached(dest, v)]
        if not todo:
            return 0
        for tool in ("apt-get", "apt-cache", "dpkg-deb"):
            if shutil.which(tool) is None:
                raise CannotFetch(f"{tool} not found (the images come from Debian's archive)")
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest))
        try:
            apt = Apt(work / "apt")
            apt.update()
            names = apt.package_names()
            for version in todo:
                m = fetch(apt, names, version, dest, work, args.latest)
                for img in m["images"]:
                    print(f"{dest / img['file']}: {img['size']} bytes from {m['package']} "
                          f"{m['package_version']} ({m['deb_size']} bytes)", file=sys.stderr)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CannotFetch as err:
        print(f"fetch-debian-vdso: cannot fetch: {err}", file=sys.stderr)
        sys.exit(3)
    except (Broken, OSError) as err:
        print(f"fetch-debian-vdso: error: {err}", file=sys.stderr)
        sys.exit(1)
