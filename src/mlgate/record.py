"""`Record`: a frozen dataclass that Python 3.11 makes in half the time of `@dataclass(frozen=True)`.

On Python 3.11 and 3.12, `@dataclass(frozen=True)` writes six methods of each class as source text and
compiles each one on its own (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`):
about 1.3 ms a class on a slow core, and mlgate's records were a third of `mlgate diff`'s imports (DESIGN
§11). A subclass of `Record` is still made by `dataclasses`, for its fields, defaults and `__match_args__`
(so `fields`, `replace`, `asdict` and pydantic see a dataclass), but compiles no method there; `Record`
compiles the `__init__` alone and shares the other five, which read the class's fields as the generated ones
do. Python 3.13 compiles a dataclass's methods in one go; then plain dataclasses can take this one's place.

    class Interval(Record):
        low: float
        high: float = 1.0

is `@dataclass(frozen=True) class Interval: ...` in every way a caller sees: the signature, the `repr`,
equality and hash over the fields (those with `compare`/`hash`/`repr` set to False left out), and
`FrozenInstanceError` on assignment. `class Predictions(Record, eq=False)` keeps identity equality and hash.
tests/unit/test_record.py holds each of mlgate's records to the dataclass it stands for.
"""

from __future__ import annotations

import dataclasses
import inspect
import reprlib
from dataclasses import MISSING, FrozenInstanceError, field
from typing import Any, ClassVar, dataclass_transform


class _Factory:
    """The default of an `__init__` argument whose field has a default_factory; reads as in dataclasses."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """The base of mlgate's frozen records; see the module's docstring."""

    __slots__ = ()
    _compare_fields: ClassVar[tuple[str, ...]] = ()
    _hash_fields: ClassVar[tuple[str, ...]] = ()
    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, eq: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        documented = "__doc__" in cls.__dict__ and cls.__doc__ is not None
        dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        cls.__init__ = _init_for(cls, fields)  # type: ignore[method-assign]
        cls._repr_fields = tuple(f.name for f in fields if f.repr)
        cls._compare_fields = tuple(f.name for f in fields if f.compare)
        cls._hash_fields = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        if not eq:
            cls.__eq__ = object.__eq__  # type: ignore[method-assign]
            cls.__hash__ = object.__hash__  # type: ignore[method-assign]
        if not documented:  # as dataclasses writes it: the class's name and signature
            cls.__doc__ = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = self._compare_fields
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self._hash_fields))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._repr_fields)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


def _init_for(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Any:
    """`cls.__init__` as dataclasses writes it for a frozen class, compiled once."""
    names: dict[str, Any] = {"__set": object.__setattr__, "__factory": _FACTORY}
    arguments, body = ["self"], []
    for f in fields:
        if f.init:
            if f.default is not MISSING:
                names[f"__default_{f.name}"] = f.default
                arguments.append(f"{f.name}=__default_{f.name}")
            elif f.default_factory is not MISSING:
                arguments.append(f"{f.name}=__factory")
            else:
                arguments.append(f.name)
        if f.default_factory is not MISSING:
            names[f"__make_{f.name}"] = f.default_factory
            value = (
                f"__make_{f.name}() if {f.name} is __factory else {f.name}"
                if f.init
                else f"__make_{f.name}()"
            )
        elif f.init:
            value = f.name
        else:
            continue  # as in dataclasses: the class attribute holds its default, or __post_init__ sets it
        body.append(f"__set(self, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__({', '.join(arguments)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, names)
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
    return init


__all__ = ["Record"]
