"""Running the vDSO functions under qemu-user and comparing them with the reference model
(vdsotool/verify/model.py) and with the numbers of the reference facts (§11).

Images come from both builders (tests/gnu.py: GNU as+ld from the same sources, and
vdsotool's own pipeline once it exists). "Test" images are assembled with
VDSO_TEST_TIMEBASE, so gettimeofday reads its timebase from the data page and the result
is exact; the shipped (mftb) image is checked within two timebase reads.
"""

from __future__ import annotations

import random

import pytest
from conftest import need_tool
from gnu import BUILDERS, built_image

from vdsotool.abi import datapage
from vdsotool.abi.targets import TARGETS, Target
from vdsotool.util.records import replace
from vdsotool.verify import harness, model

TARGET_NAMES = list(TARGETS)

# Reference §11.4: tps 512 000 000, stamp 1 100 000 000 s, orig 0x1234567890.
TPS = 512_000_000
TB_TO_XS = 0x008637BD05AF6C69
STAMP = 1_153_433_600_000_000
ORIG = 0x1234567890
VECTORS = [  # ticks, xsec, tv_sec, tv_usec (from the reference table)
    (0, 1_153_433_600_000_000, 1_100_000_000, 0),
    (1, 1_153_433_600_000_000, 1_100_000_000, 0),
    (768_000_000, 1_153_433_601_572_863, 1_100_000_001, 499_999),
    (1_792_000_000, 1_153_433_603_670_015, 1_100_000_003, 499_999),
    (0xFFFFFFFF, 1_153_433_608_796_093, 1_100_000_008, 388_607),
    # xsec from the reference's carry discriminator; usec = (25 351 * 10^6) >> 20
    (12_378_418, 1_153_433_600_025_351, 1_100_000_000, 24_176),
    (0x100000000, 1_153_433_608_796_093, 1_100_000_008, 388_607),
]
G5 = (33_333_250, 0x080D96E69788D047, 2 * 33_333_250 + 3_333_325,
      1_153_433_602_202_009, 1_100_000_002, 99_999)


def image(builder: str, target: Target, test_timebase: bool = True):
    return built_image(builder, target, test_timebase)


def run(target: Target, path, commands):
    need_tool(target.gnu_tool("gcc"))
    need_tool(target.qemu)
    return harness.run(target, path, commands)


def gtod_commands(target: Target, state: model.TimeState, count: int = 0) -> list[str]:
    return [harness.page_command(target, state.page_values(count)), "gtod"]


def check_gtod(target: Target, state: model.TimeState, line: dict[str, str]) -> None:
    assert (line["rc"], line["so"]) == ("0", "0"), line
    if model.uses_syscall(target, state):
        # the real syscall: host time now, not the data page's 2004 time
        assert abs(int(line["sec"]) - int(line["now"])) <= 2, line
        return
    want = model.timeval(target, state)
    assert (int(line["sec"]), int(line["usec"])) == (want.sec, want.usec), (state, line)
    assert int(line["minw"]) == state.tz_minuteswest  # printed as a signed int
    assert int(line["dst"]) == state.tz_dsttime


# --- the model against the reference numbers (no qemu needed) ------------------------------

def test_model_matches_reference_vectors():
    assert model.tb_to_xs(TPS) == TB_TO_XS
    assert model.tb_to_xs(33_333_250) == G5[1]
    for t, xsec, sec, usec in VECTORS:
        state = model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG + t)
        assert model.xsec(state) == xsec
        assert model.timeval(TARGETS["ppc64"], state) == model.Timeval(sec, usec)
        assert model.uses_syscall(TARGETS["ppc32"], state) == (t >> 32 != 0)
        if t >> 32 == 0:
            assert model.xsec_32bit_words(state) == xsec
    tps, tbxs, t, xsec, sec, usec = G5
    state = model.TimeState(ORIG, tbxs, STAMP, ORIG + t)
    assert model.xsec(state) == xsec == model.xsec_32bit_words(state)
    assert model.timeval(TARGETS["ppc32"], state) == model.Timeval(sec, usec)


def test_model_carry_discriminators():
    """The 2.6.12 carry bug would give one xsec less on exactly these vectors."""
    for t in (12_378_418, 0xFFFFFFFF):
        state = model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG + t)
        hi = TB_TO_XS >> 32
        without_carry = STAMP + ((t * hi) >> 32)
        assert model.xsec_32bit_words(state) == without_carry + 1
    for t in (1000, 12_345, 512_000_000, 768_000_000, 1_792_000_000, 1 << 31):
        state = model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG + t)
        assert model.xsec_32bit_words(state) == STAMP + ((t * (TB_TO_XS >> 32)) >> 32)


def test_model_flushed_lines():
    assert model.flushed_lines(0x1000, 0x1000) == []
    assert model.flushed_lines(0x1005, 0x1000) == []
    assert model.flushed_lines(0x1003, 0x1005) == [0x1000]
    assert model.flushed_lines(0x107F, 0x1081) == [0x1000, 0x1080]
    assert model.flushed_lines(0x1000, 0x1100) == [0x1000, 0x1080]


# --- gettimeofday, exact --------------------------------------------------------------------

@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_gettimeofday_reference_vectors(builder, name):
    target = TARGETS[name]
    path = image(builder, target)
    states = [model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG + t, -60, 1) for t, *_ in VECTORS]
    tps, tbxs, t, *_ = G5
    states.append(model.TimeState(ORIG, tbxs, STAMP, ORIG + t))
    commands = [c for s in states for c in gtod_commands(target, s)]
    out = run(target, path, commands)
    assert len(out) == len(states)
    for state, line in zip(states, out):
        check_gtod(target, state, line)
    fallback = out[len(VECTORS) - 1]  # t = 2^32
    if target.bits == 32:
        assert int(fallback["sec"]) != 1_100_000_008, "32-bit path must not compute t >= 2^32"
    else:
        assert (int(fallback["sec"]), int(fallback["usec"])) == (1_100_000_008, 388_607)


def random_states(target: Target, rng: random.Random, n: int) -> list[model.TimeState]:
    states = []
    for _ in range(n):
        orig = rng.getrandbits(64)
        if target.bits == 32 and rng.random() < 0.97:
            t = rng.getrandbits(rng.choice((8, 20, 31, 32)))  # the kernel keeps t < 2^31
        else:
            t = rng.getrandbits(rng.choice((32, 40, 64)))
        tbxs = model.tb_to_xs(rng.randrange(1_000_000, 4_000_000_000))
        stamp = rng.getrandbits(rng.choice((52, 60, 64)))
        states.append(model.TimeState(orig, tbxs, stamp, (orig + t) % 2**64,
                                      rng.randrange(-720, 721), rng.randrange(0, 2)))
    return states


def check_random_states(builder: str, name: str, n: int, seed: str) -> None:
    target = TARGETS[name]
    path = image(builder, target)
    rng = random.Random(seed)
    states = random_states(target, rng, n)
    commands = []
    for s in states:
        commands += gtod_commands(target, s, count=2 * rng.randrange(1 << 20))
    out = run(target, path, commands)
    assert len(out) == len(states)
    for state, line in zip(states, out):
        check_gtod(target, state, line)
    if target.bits == 32:
        assert any(model.uses_syscall(target, s) for s in states)


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_gettimeofday_random_states(builder, name):
    """1000 random data-page states per target, in one harness run."""
    check_random_states(builder, name, 1000, f"gtod-{name}")


@pytest.mark.slow
@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_gettimeofday_random_states_full(builder, name):
    """The full-size run: 50 000 states per target."""
    check_random_states(builder, name, 50_000, f"gtod-full-{name}")


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_gettimeofday_null_arguments(builder, name):
    target = TARGETS[name]
    state = model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG + 768_000_000, 300, 1)
    out = run(target, image(builder, target),
              [harness.page_command(target, state.page_values()), "gtod_nulltz", "gtod_nulltv"])
    nulltz, nulltv = out
    assert (nulltz["rc"], nulltz["so"], nulltz["sec"], nulltz["usec"]) == \
        ("0", "0", "1100000001", "499999")
    assert int(nulltz["minw"]) == 0x5A5A5A5A, "tz NULL must not be written"
    assert (nulltv["rc"], nulltv["so"], nulltv["minw"], nulltv["dst"]) == ("0", "0", "300", "1")
    assert int(nulltv["sec"]) == 2**target.bits - 1, "tv NULL must not be written"


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_shipped_gettimeofday_within_timebase_window(builder, name):
    """The mftb build: the result lies between the model at the timebase read just before
    and the one just after the call."""
    target = TARGETS[name]
    page = {"tb_to_xs": TB_TO_XS, "stamp_xsec": STAMP}
    out = run(target, image(builder, target, test_timebase=False),
              [harness.page_command(target, page)] + ["gtodw 1000"] * 20)
    for line in out:
        assert (line["rc"], line["so"]) == ("0", "0")
        lo, hi = (model.timeval(target, model.TimeState(int(line["orig"]), TB_TO_XS, STAMP,
                                                        int(line[k]))) for k in ("tb0", "tb1"))
        got = model.Timeval(int(line["sec"]), int(line["usec"]))
        assert (lo.sec, lo.usec) <= (got.sec, got.usec) <= (hi.sec, hi.usec), line
    if target.bits == 32:  # and the real fallback with a far-away stamp
        fb = run(target, image(builder, target, test_timebase=False),
                 [harness.page_command(target, page), f"gtodw {(1 << 32) + 5}"])[0]
        assert abs(int(fb["sec"]) - int(fb["now"])) <= 2


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_gettimeofday_continuous_across_rebases(builder, name):
    """Reference 10.1: the kernel rebases (stamp and stamp_xsec move to now, the rate may
    change); the image must read the new state so that time neither jumps nor goes back.
    Around each rebase at T: old state at T-1 and T, new state at T, T+1 and later."""
    target = TARGETS[name]
    state = model.TimeState(ORIG, TB_TO_XS, STAMP, ORIG)
    rng = random.Random(f"rebase-{name}")
    calls, rebase_at = [], []
    for _ in range(12):
        t = state.tb_orig_stamp + rng.randrange(1, 1 << 30)
        rate = model.tb_to_xs(rng.choice((TPS, TPS + 1, 33_333_250, 1_000_000_000)))
        new = model.rebase(state, t, rate)
        rebase_at.append(len(calls) + 1)  # old@T and new@T are calls 1 and 2 of the group
        for s, tb in ((state, t - 1), (state, t), (new, t), (new, t + 1), (new, t + 977)):
            calls.append(replace(s, timebase=tb))
        state = new
    out = run(target, image(builder, target),
              [c for s in calls for c in gtod_commands(target, s)])
    got = [(int(line["sec"]), int(line["usec"])) for line in out]
    for s, line in zip(calls, out):
        check_gtod(target, s, line)
    assert got == sorted(got), "time went back across a rebase"
    assert all(got[i] == got[i + 1] for i in rebase_at), "time jumped at a rebase"


# --- the update-count protocol ---------------------------------------------------------------

@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_update_count_protocol_concurrent(builder, name):
    """A writer publishes at least 20 000 states with the kernel protocol while two readers
    call gettimeofday (each at least 2000 times); a torn read (fields of two states) would
    give another value."""
    target = TARGETS[name]
    out = run(target, image(builder, target),
              [harness.page_command(target, {"tb_to_xs": TB_TO_XS}), "race 20000 2"])[0]
    want = model.timeval(target, model.TimeState(0, TB_TO_XS, 1000 << 20, 768_000_000))
    assert (int(out["first_sec"]), int(out["usec"])) == (want.sec, want.usec)
    assert int(out["reads"]) >= 4000 and int(out["states"]) >= 20000
    assert out["bad"] == "0", out


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_odd_count_makes_readers_wait(builder, name):
    target = TARGETS[name]
    out = run(target, image(builder, target),
              [harness.page_command(target, {"tb_to_xs": TB_TO_XS}), "oddwait 300"])[0]
    assert out["blocked"] == "1", "a reader returned while the count was odd"
    assert out["done"] == "1" and out["sec"] == "4243", out


# --- sync_dicache, get_syscall_map, the datapage word, symbol lookup --------------------------

@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
@pytest.mark.parametrize("fn", ["__kernel_sync_dicache", "__kernel_sync_dicache_p5"])
def test_sync_dicache_self_modifying_code(builder, name, fn):
    target = TARGETS[name]
    out = run(target, image(builder, target, test_timebase=False), [f"icache {fn}"])[0]
    assert (out["first"], out["second"]) == ("111", "222")
    assert out["rc"] == "0,0,0" and out["so"] == "0,0,0", "aligned, unaligned, empty ranges"


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_get_syscall_map(builder, name):
    target = TARGETS[name]
    map64, map32 = [0, 1, 78, 119, 172, 272], [5, 6, 100]
    page = {"syscall_map_64": datapage.syscall_map(map64),
            "syscall_map_32": datapage.syscall_map(map32)}
    full, null = run(target, image(builder, target, test_timebase=False),
                     [harness.page_command(target, page), "map", "map_null"])
    want_off = 0x70 if target.bits == 64 else 0x94  # reference §2.1
    assert int(full["off"]) == int(null["off"]) == want_off
    assert int(full["count"]) == 273 and full["so"] == "0"
    assert int(null["count"]) == 0xDEADBEEF
    words = [int(w, 16) for w in full["words"].split(",")]
    calls = map64 if target.bits == 64 else map32
    assert [n for n in range(273) if model.syscall_bit(words, n)] == calls


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("name", TARGET_NAMES)
def test_datapage_word_and_lookup(builder, name):
    """The harness patches the word as the kernel does, and finds every export by name
    and version through both hash tables at its .dynsym value."""
    from vdsotool.elf import load
    from vdsotool.verify.run import defined_dynsyms, exports

    target = TARGETS[name]
    path = image(builder, target, test_timebase=False)
    names = list(exports(target)) + ["__get_datapage", "no_such_symbol"]
    out = run(target, path, ["info"] + [f"lookup {n}" for n in names])
    info, lookups = out[0], out[1:]
    symbols = defined_dynsyms(load(str(path)))
    s = symbols["__kernel_datapage_offset"]
    assert int(info["word_at"]) == s and int(info["word"]) == 4096 * int(info["pages"]) - s
    for n, line in zip(names, lookups):
        want = symbols.get(n, -1) if n.startswith("__kernel") else -1
        assert int(line["gnu"]) == int(line["sysv"]) == want, line


def test_syscall_map_bits_reference():
    """Reference §11.5: word index and MSB-first mask."""
    for n, word, mask in [(0, 0, 0x80000000), (1, 0, 0x40000000), (78, 2, 0x00020000),
                          (119, 3, 0x00000100), (172, 5, 0x00080000), (272, 8, 0x00008000)]:
        words = datapage.syscall_map([n])
        assert words[word] == mask and sum(1 for w in words if w) == 1
        assert model.syscall_bit(words, n)
