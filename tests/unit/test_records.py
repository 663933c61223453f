"""vdsotool.util.records behaves as dataclasses does on the declarations the project uses.

Each case declares the same class twice, once with ``dataclasses.dataclass`` and once with
``records.record``, and compares what a user of the class can observe: construction
(positional, keyword, defaults, fresh factory values), repr, equality, hashing, frozen
guards, ``match`` patterns, replace/asdict, inheritance and __post_init__.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import ClassVar

import pytest

from vdsotool.util import records
from vdsotool.util.records import FrozenInstanceError, field, record


def twins(frozen: bool = False, eq: bool = True):
    """(dataclass version, record version) of one declaration, as a decorator factory."""
    def declare(make):
        return (make(dataclasses.dataclass(frozen=frozen, eq=eq), dataclasses.field),
                make(record(frozen=frozen, eq=eq), field))
    return declare


@twins(frozen=True)
def Point(deco, fld):
    @deco
    class Point:
        x: int
        y: int = 7
        tags: tuple = fld(default_factory=tuple)

        def norm(self) -> int:
            return abs(self.x) + abs(self.y)
    return Point


@twins()
def Box(deco, fld):
    @deco
    class Box:
        items: list = fld(default_factory=list)
        label: str = fld(default="box")
    return Box


@twins(eq=False)
def Image(deco, fld):
    @deco
    class Image:
        data: bytes
    return Image


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, 2), {}), ((), {"x": 3, "tags": (1,)}),
                                          ((-4,), {"y": -5})])
def test_construction_repr_eq_hash_agree(args, kwargs):
    dc, rc = Point
    a, b = dc(*args, **kwargs), rc(*args, **kwargs)
    assert repr(a) == repr(b).replace(rc.__qualname__, dc.__qualname__)
    assert (a.x, a.y, a.tags, a.norm()) == (b.x, b.y, b.tags, b.norm())
    assert b == rc(*args, **kwargs) and b != rc(99)
    assert hash(b) == hash(rc(*args, **kwargs)) == hash((b.x, b.y, b.tags)) == hash(a)


def test_missing_and_unknown_arguments_fail_alike():
    for cls in Point:
        with pytest.raises(TypeError):
            cls()
        with pytest.raises(TypeError):
            cls(1, z=2)
        with pytest.raises(TypeError):
            cls(1, 2, [], 4)


def test_factories_give_fresh_values_and_plain_defaults_stay_on_the_class():
    for cls in Box:
        a, b = cls(), cls()
        a.items.append(1)
        assert b.items == [] and a.label == "box" and cls.label == "box"
        assert not hasattr(cls, "items")


def test_frozen_guards_assignment_and_deletion():
    _, rc = Point
    p = rc(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2
    with pytest.raises(AttributeError):
        del p.y
    assert p.x == 1 and issubclass(FrozenInstanceError, AttributeError)


def test_mutable_records_assign_and_are_unhashable_as_dataclasses():
    dc, rc = Box
    b = rc()
    b.label = "crate"
    assert b == rc([], "crate") and b != rc()
    assert dc.__hash__ is None and rc.__hash__ is None


def test_eq_false_keeps_identity():
    dc, rc = Image
    a, b = rc(b"x"), rc(b"x")
    assert a != b and a == a and len({a, b}) == 2
    assert (dc(b"x") == dc(b"x")) is False


def test_equality_needs_the_same_class():
    @record(frozen=True)
    class A:
        v: int

    @record(frozen=True)
    class B:
        v: int

    assert A(1) != B(1) and A(1) == A(1) and (A(1) == (1,)) is False


def test_match_args_and_class_patterns():
    _, rc = Point
    match rc(5, 6):
        case rc(x, y):
            assert (x, y) == (5, 6)
        case _:
            pytest.fail("positional class pattern did not match")
    assert rc.__match_args__ == Point[0].__match_args__ == ("x", "y", "tags")


def test_inheritance_appends_fields_and_shares_methods():
    for deco in (dataclasses.dataclass(frozen=True), record(frozen=True)):
        @deco
        class Base:
            reg: int

            def describe(self) -> str:
                return f"{type(self).__name__} r{self.reg}"

        @deco
        class WithOffset(Base):
            offset: int = 0

        w = WithOffset(3, 8)
        assert (w.reg, w.offset, w.describe()) == (3, 8, "WithOffset r3")
        assert WithOffset.__match_args__ == ("reg", "offset")
        assert w != Base(3)


def test_each_class_gets_its_own_parameter_names_and_defaults():
    """Classes with the same shape of field list still take their own keyword names and
    defaults, even a field named like a generated helper."""
    from vdsotool.util import records

    @record(frozen=True)
    class One:
        n: int = 1

    @record(frozen=True)
    class Two:
        size: int = 2

    @record(frozen=True)
    class Three:
        _MISSING: str  # a name like the records module's own

    @record
    class Four:
        items: list = field(default_factory=list)
        other: int = 4

    assert (One().n, Two().size, Three("x")._MISSING, Four(other=5).other) == (1, 2, "x", 5)
    assert Four().items == [] and Four().items is not Four().items
    with pytest.raises(TypeError):
        Two(n=3)  # the parameter is the field's name, not another class's
    with pytest.raises(records.FrozenInstanceError):
        Two().size = 3


def test_post_init_runs_after_fields_are_set():
    seen = []

    @record
    class Checked:
        n: int

        def __post_init__(self) -> None:
            seen.append(self.n)
            if self.n < 0:
                raise ValueError("negative")

    Checked(4)
    with pytest.raises(ValueError):
        Checked(-1)
    assert seen == [4, -1]


def test_an_exception_record_keeps_its_str():
    @record
    class Oops(Exception):
        notes: list = field(default_factory=list)

        def __str__(self) -> str:
            return "; ".join(self.notes)

    with pytest.raises(Oops, match="a; b"):
        raise Oops(["a", "b"])


def test_replace_fields_asdict():
    _, rc = Point
    p = rc(1, 2, ("t",))
    q = records.replace(p, y=5)
    assert (q.x, q.y, q.tags) == (1, 5, ("t",)) and p.y == 2
    with pytest.raises(TypeError):
        records.replace(p, z=1)
    assert [f.name for f in records.fields(rc)] == ["x", "y", "tags"]
    assert records.asdict({"k": [p]}) == {"k": [{"x": 1, "y": 2, "tags": ("t",)}]}
    assert records.asdict(p) == dataclasses.asdict(Point[0](1, 2, ("t",)))


def test_classvar_annotations_are_not_fields():
    @record(frozen=True)
    class Tabled:
        TABLE: ClassVar[dict] = {}
        v: int = 0

    assert records.fields(Tabled)[0].name == "v" and Tabled.TABLE == {}


def test_required_after_default_is_refused_as_dataclasses_refuse_it():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int


def test_importing_records_imports_neither_dataclasses_nor_typing():
    code = ("import sys; import vdsotool.util.records; "
            "print(sorted(m for m in ('dataclasses', 'typing', 'inspect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         check=True, cwd=__import__("pathlib").Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"


def test_a_frozen_record_writes_its_fields_past_its_own_guard():
    """The frozen __init__ fills the instance dict directly; assignment afterwards is still
    refused, and the one name its __init__ uses for itself is refused as a field."""
    from vdsotool.util import records

    @record(frozen=True)
    class Point:
        x: int
        y: int = 2

    p = Point(1)
    assert vars(p) == {"x": 1, "y": 2}
    with pytest.raises(records.FrozenInstanceError):
        p.x = 5
    with pytest.raises(TypeError, match="reserved"):
        @record(frozen=True)
        class Clash:
            _record_instance_dict_: int
