"""``@record``: dataclass-style value classes, without dataclasses' cost at start-up.

Every stage models its data as small declarative classes (a CFI instruction, a symbol, a
section); a build creates ~70 of them before doing any work. Importing ``dataclasses``
(it imports ``inspect``) and creating those classes with it costs about half of a whole
build; ``record`` costs a tenth of that (docs/performance.md). It compiles one
``__init__`` per class from its text, as dataclasses do, and shares ``__repr__``,
``__eq__``, ``__hash__`` and the frozen guards as plain functions reading the class's
field list.

Supported, with dataclasses' meaning: fields from annotations in order, inherited fields
first; plain defaults and ``field(default=..., default_factory=...)``; ``frozen=True``
(assignment raises :class:`FrozenInstanceError`, an ``AttributeError``); ``eq=False`` (identity
equality and hash); ``__post_init__``; ``__match_args__`` for ``match`` statements;
:func:`replace`, :func:`fields` and :func:`asdict`. The generated ``__init__``, ``__repr__``,
``__eq__`` and ``__hash__`` behave as dataclasses' do (tests/unit/test_records.py compares them on
the same declarations). Annotations are never evaluated; one whose text starts with
``ClassVar`` is not a field.
"""

from __future__ import annotations

__all__ = ["FrozenInstanceError", "asdict", "field", "fields", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: object = _Missing()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    """One field: its name and its default or default factory (MISSING if none)."""

    __slots__ = ("name", "default", "default_factory")

    def __init__(self, default: object = MISSING, default_factory: object = MISSING) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory

    def named(self, name: str) -> Field:
        copy = Field(self.default, self.default_factory)
        copy.name = name
        return copy

    @property
    def required(self) -> bool:
        return self.default is MISSING and self.default_factory is MISSING

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, " \
               f"default_factory={self.default_factory!r})"


def field(*, default: object = MISSING, default_factory: object = MISSING) -> object:
    """A field's default (``default``) or a callable making a fresh one per instance."""
    return Field(default, default_factory)


_RESERVED = "_record_"  # the generated __init__'s own names start so; no field's may
_DICT = "_record_instance_dict_"


def _make_init(cls: type, fields_: tuple[Field, ...], frozen: bool) -> object:
    """``__init__`` compiled from its text, as dataclasses make it. A frozen record's
    writes its fields straight into the instance dict: the frozen ``__setattr__`` refuses,
    and calling ``object.__setattr__`` per field takes twice as long."""
    names = tuple(f.name for f in fields_)
    for name in names:
        if name.startswith(_RESERVED):
            raise TypeError(f"{cls.__qualname__}: {name!r}: names starting {_RESERVED!r} "
                            "are reserved by @record")
    body = [f"{_DICT} = self.__dict__"] if frozen and names else []
    namespace: dict[str, object] = {"_record_missing_": MISSING}
    for f in fields_:
        value = f.name
        if f.default_factory is not MISSING:
            namespace[f"_record_factory_{f.name}"] = f.default_factory
            value = f"_record_factory_{f.name}() if {f.name} is _record_missing_ else {f.name}"
        body.append(f"{_DICT}[{f.name!r}] = {value}" if frozen else f"self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    text = f"def __init__({', '.join(('self',) + names)}):\n    " + \
        "\n    ".join(body or ["pass"]) + "\n"
    exec(text, namespace)  # noqa: S102 - our own text: field names are identifiers
    init = namespace["__init__"]
    init.__defaults__ = tuple(f.default for f in fields_ if not f.required) or None
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _values(self: object) -> tuple:
    return tuple([getattr(self, name) for name in self.__record_names__])


def _repr(self: object) -> str:
    inner = ", ".join([f"{name}={getattr(self, name)!r}" for name in self.__record_names__])
    return f"{type(self).__qualname__}({inner})"


def _eq(self: object, other: object) -> object:
    if other.__class__ is self.__class__:
        return _values(self) == _values(other)
    return NotImplemented


def _hash(self: object) -> int:
    return hash(_values(self))


def _frozen_setattr(self: object, name: str, value: object) -> None:
    if type(self) is self.__record_class__ or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: object, name: str) -> None:
    if type(self) is self.__record_class__ or name in self.__record_names__:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _own_fields(cls: type) -> list[Field]:
    own = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        declared = value if isinstance(value, Field) else Field(default=value)
        own.append(declared.named(name))
        if isinstance(value, Field):  # as dataclasses: the class keeps a plain default only
            if value.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
    return own


def _collect_fields(cls: type) -> tuple[Field, ...]:
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__record_fields__", ()):
            by_name[f.name] = f
    for f in _own_fields(cls):
        by_name[f.name] = f  # a redeclared field keeps its inherited place, as in dataclasses
    fields_ = tuple(by_name.values())
    seen_default = False
    for f in fields_:
        if f.required and seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or not f.required
    return fields_


def _process(cls: type, frozen: bool, eq: bool) -> type:
    fields_ = _collect_fields(cls)
    cls.__record_fields__ = fields_
    cls.__record_names__ = tuple(f.name for f in fields_)
    cls.__record_class__ = cls
    cls.__match_args__ = cls.__record_names__
    cls.__init__ = _make_init(cls, fields_, frozen)
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr
    if eq:
        if "__eq__" not in cls.__dict__:
            cls.__eq__ = _eq
        if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    return cls


def record(cls: type | None = None, /, *, frozen: bool = False, eq: bool = True) -> object:
    """Make ``cls`` a value class: ``@record`` or ``@record(frozen=True, eq=...)``."""
    def wrap(cls: type) -> type:
        return _process(cls, frozen, eq)
    return wrap if cls is None else wrap(cls)


def is_record(obj: object) -> bool:
    return hasattr(obj, "__record_fields__")


def fields(obj: object) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order."""
    if not is_record(obj):
        raise TypeError("fields() needs a record class or instance")
    return obj.__record_fields__


def replace(obj: object, /, **changes: object) -> object:
    """A copy of record ``obj`` with ``changes`` applied (through ``__init__``)."""
    for name in changes:
        if name not in obj.__record_names__:
            raise TypeError(f"{type(obj).__qualname__} has no field {name!r}")
    values = {name: getattr(obj, name) for name in obj.__record_names__}
    return type(obj)(**(values | changes))


def asdict(obj: object) -> object:
    """``obj`` as plain data: records become dicts, recursively through lists, tuples, dicts."""
    if is_record(obj) and not isinstance(obj, type):
        return {name: asdict(getattr(obj, name)) for name in obj.__record_names__}
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj
