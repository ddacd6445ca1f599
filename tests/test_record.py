"""``shapecalc.record``: what the engine's records rely on, with the generic ``__init__`` and
with one a hot class writes itself."""

from __future__ import annotations

import pickle

import pytest

from shapecalc.record import MISSING, FrozenRecordError, field, fields, record, replace


@record
class Plain:
    name: str
    size: int = 1
    tags: tuple[str, ...] = field(default=(), repr=False)
    kind: str = field(default="plain", init=False)


@record
class OwnInit:
    """A record with its own ``__init__``, as ``result.Tensor`` has."""

    name: str
    size: int = 1
    tags: tuple[str, ...] = field(default=(), repr=False)
    kind: str = field(default="plain", init=False)

    def __init__(self, name: str, size: int = 1, tags: tuple[str, ...] = ()) -> None:
        self.__dict__.update(name=name, size=size, tags=tags, kind="plain")


@record
class Checked:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low > high")


@pytest.mark.parametrize("cls", [Plain, OwnInit])
def test_construction_repr_equality_hash(cls: type[Plain]) -> None:
    one = cls("a", 2, ("x",))
    assert one == cls(name="a", size=2, tags=("x",)) == cls("a", tags=("x",), size=2)
    assert one != cls("a", 3, ("x",)) and one != ("a", 2, ("x",))
    assert hash(one) == hash(cls("a", 2, ("x",)))
    assert repr(one) == f"{cls.__name__}(name='a', size=2, kind='plain')"
    assert cls("b").size == 1 and cls("b").kind == "plain"
    assert pickle.loads(pickle.dumps(one)) == one


@pytest.mark.parametrize("cls", [Plain, OwnInit])
def test_wrong_arguments_are_type_errors(cls: type[Plain]) -> None:
    for args, kwargs in [((), {}), (("a",), {"name": "b"}), (("a",), {"colour": 1}), (("a", 1, (), 4), {})]:
        with pytest.raises(TypeError):
            cls(*args, **kwargs)
    with pytest.raises(TypeError):
        cls("a", kind="other")  # type: ignore[call-arg]


def test_records_are_frozen() -> None:
    one = Plain("a")
    with pytest.raises(FrozenRecordError):
        one.size = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del one.name  # type: ignore[misc]


def test_fields_and_replace() -> None:
    assert [(f.name, f.default, f.init) for f in fields(Plain)] == [
        ("name", MISSING, True),
        ("size", 1, True),
        ("tags", (), True),
        ("kind", "plain", False),
    ]
    assert fields(Plain("a")) == fields(Plain)
    assert replace(Plain("a"), size=5) == Plain("a", 5)
    with pytest.raises(TypeError):
        replace(Plain("a"), kind="other")
    assert replace(Checked(1, 2), high=5) == Checked(1, 5)
    with pytest.raises(ValueError, match="low > high"):
        replace(Checked(1, 2), low=3)
    with pytest.raises(ValueError, match="low > high"):
        Checked(3, 2)
