"""`Record` against `@dataclass(frozen=True)`: every record of mlgate, and each feature on its own."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlgate
from mlgate.record import Record


def all_records() -> list[type[Record]]:
    """Every subclass of Record in mlgate, once each of its modules is imported."""
    for info in pkgutil.walk_packages(mlgate.__path__, "mlgate."):
        if info.name not in ("mlgate.__main__",):
            importlib.import_module(info.name)

    def below(cls: type[Record]) -> Iterator[type[Record]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted(
        {c for c in below(Record) if c.__module__.startswith("mlgate.")}, key=lambda c: c.__qualname__
    )


_REFERENCES: dict[type[Any], type[Any]] = {}


def as_dataclass(cls: type[Any]) -> type[Any]:
    """The `@dataclass(frozen=True)` class that `cls` stands for: the same fields, written the usual way."""
    if cls not in _REFERENCES:
        _REFERENCES[cls] = _written_as_dataclass(cls)
    return _REFERENCES[cls]


def _written_as_dataclass(cls: type[Any]) -> type[Any]:
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": {},
    }
    doc = cls.__dict__.get("__doc__")
    if doc is not None and not doc.startswith(cls.__name__ + "("):
        namespace["__doc__"] = doc
    for f in dataclasses.fields(cls):
        namespace["__annotations__"][f.name] = f.type
        namespace[f.name] = field(
            default=f.default,
            default_factory=f.default_factory,
            init=f.init,
            repr=f.repr,
            hash=f.hash,
            compare=f.compare,
        )
    post_init = getattr(cls, "__post_init__", None)
    if post_init is not None:
        namespace["__post_init__"] = post_init
    eq = vars(cls).get("__eq__") is not object.__eq__
    return dataclasses.dataclass(frozen=True, eq=eq)(type(cls.__name__, (), namespace))


RECORDS = all_records()


def test_mlgate_has_its_records_and_no_frozen_dataclass_left() -> None:
    names = {c.__qualname__ for c in RECORDS}
    assert {"Metric", "MetricSet", "GateResult", "Config", "RayConfig", "GitRepo", "Predictions"} <= names
    assert len(RECORDS) > 70
    for info in pkgutil.walk_packages(mlgate.__path__, "mlgate."):
        module = importlib.import_module(info.name) if info.name != "mlgate.__main__" else None
        for value in vars(module).values() if module else ():
            if isinstance(value, type) and value.__module__ == info.name and dataclasses.is_dataclass(value):
                params = value.__dataclass_params__  # type: ignore[attr-defined]
                assert not params.frozen, f"{value.__qualname__}: a frozen dataclass, make it a Record"


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__qualname__)
def test_each_record_looks_like_its_frozen_dataclass(cls: type[Any]) -> None:
    reference = as_dataclass(cls)
    assert cls.__match_args__ == reference.__match_args__
    assert dataclasses.is_dataclass(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(reference))
    assert cls.__doc__ == reference.__doc__
    assert (cls.__hash__ is None) == (reference.__hash__ is None)
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def defaults_only() -> list[type[Any]]:
    return [
        c
        for c in RECORDS
        if all(p.default is not p.empty for p in list(inspect.signature(c).parameters.values()))
        and getattr(c, "__post_init__", None) is None
    ]


@pytest.mark.parametrize("cls", defaults_only(), ids=lambda c: c.__qualname__)
def test_a_record_made_from_its_defaults_matches_its_dataclass(cls: type[Any]) -> None:
    ours, theirs = cls(), as_dataclass(cls)()
    assert repr(ours) == repr(theirs)
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert ours == cls()
    assert ours != theirs
    try:
        expected: object = hash(theirs)
    except TypeError as exc:  # a list or dict among the fields
        expected = type(exc)
        with pytest.raises(TypeError):
            hash(ours)
    else:
        assert hash(ours) == expected
    assert dataclasses.replace(ours) == ours


class Point(Record):
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)
    cached: int = field(default=7, init=False)
    seen: list[int] = field(default_factory=lambda: [1], init=False, repr=False, compare=False)
    weight: float = field(default=1.0, hash=False)


class Point3(Point):
    z: int = 0


class Checked(Record):
    """Fails on a negative value, as __post_init__ says."""

    value: int
    double: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")
        object.__setattr__(self, "double", 2 * self.value)


class Opaque(Record, eq=False):
    """Compared by identity."""

    data: list[int]


class Undocumented(Record):
    a: int
    b: str = "b"


class Node(Record):
    """Holds a list that may hold the node itself."""

    children: list[Any] = field(default_factory=list)


def pair(cls: type[Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    return cls(*args, **kwargs), as_dataclass(cls)(*args, **kwargs)


@given(
    x=st.integers(),
    y=st.integers(),
    tags=st.lists(st.text(max_size=5), max_size=3).map(tuple),
    note=st.text(max_size=5),
    secret=st.text(max_size=5),
    weight=st.floats(allow_nan=False),
)
def test_fields_behave_as_in_a_frozen_dataclass(
    x: int, y: int, tags: tuple[str, ...], note: str, secret: str, weight: float
) -> None:
    ours, theirs = pair(Point, x, y, tags, note=note, secret=secret, weight=weight)
    assert repr(ours) == repr(theirs)
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert (ours.cached, ours.seen) == (theirs.cached, theirs.seen) == (7, [1])
    assert hash(ours) == hash(theirs)
    other, other_theirs = pair(Point, x, y, tags, note=note + "!", secret=secret, weight=weight * 2 + 1)
    assert (ours == other) == (theirs == other_theirs)  # weight is compared
    same, same_theirs = pair(Point, x, y, tags, note=note + "!", secret=secret, weight=weight)
    assert ours == same
    assert theirs == same_theirs
    assert hash(ours) == hash(other)
    assert hash(theirs) == hash(other_theirs)


def test_defaults_and_factories_are_fresh_per_instance() -> None:
    first, second = Point(1), Point(1)
    assert first.tags == ()
    assert first.seen == [1]
    assert first.seen is not second.seen
    assert Point(1, tags=("a",)).tags == ("a",)


def test_assignment_and_deletion_raise_as_in_a_frozen_dataclass() -> None:
    ours, theirs = pair(Point, 1)
    for target in (ours, theirs):
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
            target.x = 2
        with pytest.raises(FrozenInstanceError, match="cannot delete field 'y'"):
            del target.y
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'other'"):
            target.other = 1


def test_argument_errors_read_as_in_a_dataclass() -> None:
    for cls in (Point, as_dataclass(Point)):
        with pytest.raises(TypeError, match=r"__init__\(\) missing 1 required positional argument: 'x'"):
            cls()  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="unexpected keyword argument 'cached'"):
            cls(1, cached=3)  # type: ignore[call-arg]


def test_subclass_adds_its_fields_after_the_base_fields() -> None:
    ours, theirs = pair(Point3, 1, 2, z=3)
    assert repr(ours) == repr(theirs)
    assert ours.z == 3
    assert ours == Point3(1, 2, z=3)
    assert ours != Point(1, 2)
    assert Point3.__match_args__ == ("x", "y", "tags", "note", "secret", "weight", "z")


def test_post_init_runs_after_the_fields_are_set() -> None:
    assert Checked(4).double == 8
    assert repr(Checked(4)) == repr(as_dataclass(Checked)(4)) == "Checked(value=4)"
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_eq_false_keeps_identity_equality_and_hash() -> None:
    one = Opaque([1])
    assert one == one
    assert one != Opaque([1])
    assert hash(one) == object.__hash__(one)
    assert Opaque.__eq__ is object.__eq__


def test_an_undocumented_record_gets_the_dataclass_docstring() -> None:
    expected = "Undocumented(a: 'int', b: 'str' = 'b')"
    assert Undocumented.__doc__ == as_dataclass(Undocumented).__doc__ == expected


def test_a_record_that_holds_itself_reprs_like_a_dataclass() -> None:
    ours, theirs = pair(Node)
    ours.children.append(ours)
    theirs.children.append(theirs)
    assert repr(ours) == repr(theirs) == "Node(children=[...])"


def test_comparing_with_another_type_is_not_implemented() -> None:
    assert Point(1).__eq__((1, 0)) is NotImplemented
    assert Point(1) != as_dataclass(Point)(1)


def test_records_copy_pickle_and_replace() -> None:
    point = Point(1, 2, ("a",), note="n")
    assert pickle.loads(pickle.dumps(point)) == point
    assert copy.deepcopy(point) == point
    assert copy.copy(point) == point
    moved = dataclasses.replace(point, y=5)
    assert (moved.y, moved.tags, moved.cached) == (5, ("a",), 7)
    with pytest.raises(ValueError, match="init=False"):
        dataclasses.replace(point, cached=1)
