"""Frozen records: what ``@dataclass(frozen=True)`` gives, for a fraction of its import time.

``dataclasses`` writes each class's methods as source text and compiles it
(about 0.6 ms a class); the command line defines some twenty records before
it prints anything. :func:`record` builds the same methods from closures
instead: typed constructors (through :func:`typing.dataclass_transform`),
``__post_init__``, equality and hashing by field values, the dataclass
``repr``, and immutability. :func:`fields` and :func:`replace` stand in for
their ``dataclasses`` namesakes.

>>> @record
... class Point:
...     x: int
...     y: int = 0
...     label: str = field(default="", repr=False)
>>> Point(1), Point(1) == Point(x=1, y=0), hash(Point(1)) == hash(Point(1))
(Point(x=1, y=0), True, True)
>>> replace(Point(1, 2), y=5)
Point(x=1, y=5)
>>> [f.name for f in fields(Point)]
['x', 'y', 'label']

A record's fields are its own annotations (records do not inherit fields),
and a default must be immutable: it is shared by every instance.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from operator import itemgetter
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: the decorator only informs type checkers

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


__all__ = ["MISSING", "Field", "FrozenRecordError", "field", "fields", "record", "replace"]

R = TypeVar("R")
_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: The ``default`` of a field that has none.
MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """Assigning to a record's field (records are immutable)."""


class Field:
    """One field of a record: its name, default (:data:`MISSING` if none) and flags."""

    __slots__ = ("default", "init", "name", "repr")

    def __init__(self, name: str, default: Any = MISSING, init: bool = True, repr: bool = True) -> None:
        self.name = name
        self.default = default
        self.init = init
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r}, default={self.default!r})"


class _Spec:
    """What :func:`field` returns: read by :func:`record`, never left on the class."""

    __slots__ = ("default", "init", "repr")

    def __init__(self, default: Any, init: bool, repr: bool) -> None:
        self.default = default
        self.init = init
        self.repr = repr


def field(*, default: _T, init: bool = True, repr: bool = True) -> _T:
    """A field with ``default``, left out of ``__init__`` (``init=False``) or of the repr."""
    return _Spec(default, init, repr)  # type: ignore[return-value]


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[R], /) -> type[R]:
    """Make ``cls`` a frozen record of its annotated fields.

    A class built by the hundred thousand (``result.Tensor`` in batch mode) writes its own
    ``__init__``, storing every field through ``self.__dict__``; it is kept, and is about
    twice as fast per instance as the generic one.
    """
    return _build(cls)


def _build(cls: type[R]) -> type[R]:
    own = cls.__dict__
    found = []
    for name in own.get("__annotations__", {}):
        value = own.get(name, MISSING)
        if isinstance(value, _Spec):
            found.append(Field(name, value.default, value.init, value.repr))
        else:
            found.append(Field(name, value))
        if name in own:
            delattr(cls, name)  # the instance holds every value; a default lives in its Field
    layout = _Layout(cls.__name__, tuple(found), "__post_init__" in own)
    methods = _methods(layout)
    if "__init__" not in own:
        methods["__init__"] = _generic_init(layout)
    for name, method in methods.items():
        if name not in own:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    cls.__record_fields__ = layout.fields  # type: ignore[attr-defined]
    cls.__record_init__ = frozenset(layout.init_names)  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", layout.init_names)  # noqa: B010 - mypy refuses the plain assignment
    return cls


class _Layout:
    """A record class's fields, as its methods read them."""

    def __init__(self, name: str, all_fields: tuple[Field, ...], post_init: bool) -> None:
        self.name = name
        self.fields = all_fields
        self.names = tuple(f.name for f in all_fields)
        self.init_names = tuple(f.name for f in all_fields if f.init)
        self.defaults = {f.name: f.default for f in all_fields if f.default is not MISSING}
        self.post_init = post_init


def _methods(layout: _Layout) -> dict[str, Callable[..., Any]]:
    """``__repr__``, ``__eq__``, ``__hash__`` and the frozen ``__setattr__``/``__delattr__``."""
    names = layout.names
    values = itemgetter(*names) if len(names) > 1 else lambda got: (got[names[0]],)
    shown = [f.name for f in layout.fields if f.repr]

    def text(self: Any) -> str:
        got = self.__dict__
        return f"{type(self).__qualname__}(" + ", ".join(f"{n}={got[n]!r}" for n in shown) + ")"

    def equal(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return values(self.__dict__) == values(other.__dict__)
        return NotImplemented

    def hashed(self: Any) -> int:
        return hash(values(self.__dict__))

    def assign(self: Any, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def delete(self: Any, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    return {
        "__repr__": text,
        "__eq__": equal,
        "__hash__": hashed,
        "__setattr__": assign,
        "__delattr__": delete,
    }


def _generic_init(layout: _Layout) -> Callable[..., None]:
    """An ``__init__`` for any fields: about as fast as the one dataclasses compiles."""
    name, count, defaults, post_init = layout.name, len(layout.fields), layout.defaults, layout.post_init
    init_names = layout.init_names
    accepted = frozenset(init_names)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        got = self.__dict__
        got.update(defaults)
        if args:
            if len(args) > len(init_names):
                raise TypeError(f"{name}() takes {len(init_names)} arguments, got {len(args)}")
            if kwargs and not kwargs.keys().isdisjoint(init_names[: len(args)]):
                twice = sorted(kwargs.keys() & set(init_names[: len(args)]))
                raise TypeError(f"{name}() got multiple values for {', '.join(twice)}")
            got.update(zip(init_names, args, strict=False))
        if kwargs:
            if not kwargs.keys() <= accepted:
                raise TypeError(f"{name}() got unexpected arguments {sorted(kwargs.keys() - accepted)}")
            got.update(kwargs)
        if len(got) != count:
            missing = [field for field in init_names if field not in got]
            raise TypeError(f"{name}() missing arguments: {', '.join(missing)}")
        if post_init:
            self.__post_init__()

    return init


def fields(record_or_class: object) -> tuple[Field, ...]:
    """The fields of a record (or record class), in declaration order."""
    found: tuple[Field, ...] = getattr(record_or_class, "__record_fields__")  # noqa: B009
    return found


def replace(obj: R, /, **changes: Any) -> R:
    """A copy of the record ``obj`` with ``changes``; ``__post_init__`` checks it again."""
    cls = type(obj)
    known: frozenset[str] = getattr(cls, "__record_init__")  # noqa: B009
    if not changes.keys() <= known:
        raise TypeError(f"{cls.__name__} has no field {sorted(changes.keys() - known)[0]!r} to replace")
    new = object.__new__(cls)
    values = new.__dict__
    values.update(obj.__dict__)
    values.update(changes)
    post_init = getattr(new, "__post_init__", None)
    if post_init is not None:
        post_init()
    return new
