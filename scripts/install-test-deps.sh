#!/usr/bin/env bash
# Install the real oracles the tests use (Debian cross binutils/gcc for powerpc, powerpc64,
# powerpc64le with their C libraries, the host gcc, qemu-user, elfutils) when they are missing and
# we can (root + apt-get), and fetch Debian's kernel vDSO images. Without them the tests that need
# them skip, except under CI=true, where they fail.
# The cross C libraries are named here because gcc-<triplet> only *recommends* them, and
# --no-install-recommends would leave a cross gcc that cannot compile <stdint.h> (the harness and
# the probes are static C programs).
set -u
pkgs=(binutils-powerpc-linux-gnu binutils-powerpc64-linux-gnu binutils-powerpc64le-linux-gnu
      gcc-powerpc-linux-gnu gcc-powerpc64-linux-gnu gcc-powerpc64le-linux-gnu
      libc6-dev-powerpc-cross libc6-dev-ppc64-cross libc6-dev-ppc64el-cross
      gcc libc6-dev qemu-user elfutils)  # gcc: the host compiler, for the natively run C-blob checks
tools=(powerpc-linux-gnu-as powerpc64-linux-gnu-ld powerpc64le-linux-gnu-gcc
       powerpc-linux-gnu-gcc powerpc64-linux-gnu-gcc qemu-ppc qemu-ppc64 qemu-ppc64le eu-readelf gcc)
# a header and the static C library of each cross libc, and the host's
files=(/usr/powerpc-linux-gnu/include/stdint.h /usr/powerpc-linux-gnu/lib/libc.a
       /usr/powerpc64-linux-gnu/include/stdint.h /usr/powerpc64-linux-gnu/lib/libc.a
       /usr/powerpc64le-linux-gnu/include/stdint.h /usr/powerpc64le-linux-gnu/lib/libc.a
       /usr/include/stdint.h)

# Debian's kernel vDSO images (the oracles for today's ABI) are fetched into a cache outside
# the checkout (scripts/fetch-debian-vdso.py; no root needed, nothing when already there).
# Exit 3 means "no network or apt here": the tests that need them then skip, except in CI.
fetch_images() {
    local dir rc
    dir=$(dirname "$0")
    python3 "$dir/fetch-debian-vdso.py"
    rc=$?
    if [ "$rc" = 3 ] && ! [[ "${CI:-}" =~ ^(1|true|yes)$ ]]; then rc=0; fi
    [ "$rc" = 0 ] || echo "install-test-deps: fetching the Debian vDSO images failed" >&2
    return "$rc"
}

missing=0
for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || missing=1; done
for f in "${files[@]}"; do [ -e "$f" ] || missing=1; done
if [ "$missing" = 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "install-test-deps: some oracles are missing and this is not root with apt-get;" >&2
        echo "install-test-deps: install: ${pkgs[*]}" >&2
    else
        echo "install-test-deps: installing ${pkgs[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
            || { echo "install-test-deps: apt-get failed" >&2; exit 1; }
    fi
fi
fetch_images
