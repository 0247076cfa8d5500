"""pydantic's side of config.py's shapes: validating a parsed `.mlgate.yml`, its JSON Schema, and dumping.

The only module that imports pydantic; configfile.py comes here only for a config that the cache has not
seen validated (configcache.py), and `mlgate schema` / `mlgate config` always do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mlgate.config import Check, Config

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter
    from pydantic_core import CoreSchema

Shape = TypeVar("Shape")


_ADAPTERS: dict[type, Any] = {}  # NOTE: a schema is built once per shape and process


def _adapter(shape: type[Shape]) -> TypeAdapter[Shape]:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Shape] = _ADAPTERS.get(shape) or _ADAPTERS.setdefault(shape, TypeAdapter(shape))
    return adapter


class Invalid(ValueError):
    """What pydantic found wrong, as its plain error dicts (`type`, `loc`, `msg`, `input`), first first."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{error['loc']}: {error['msg']}" for error in errors))
        self.errors = errors


def validate(data: Any) -> Config:
    """`data` (a parsed `.mlgate.yml`) as a `Config`; raises `Invalid`."""
    return validate_section(Config, data)


def validate_section(shape: type[Shape], data: Any) -> Shape:
    """`data` as one section (`TrainConfig`, `PredictionsConfig`, …), for code building part of a config."""
    from pydantic import ValidationError

    try:
        return _adapter(shape).validate_python(data)
    except ValidationError as exc:
        raise Invalid([dict(error) for error in exc.errors()]) from None


def dump(config: Config) -> dict[str, Any]:
    """`config` as plain JSON-ready data (enums as their values), as `mlgate config` prints it."""
    data: dict[str, Any] = _adapter(Config).dump_python(config, mode="json")
    return data


def check_schema(check: Check, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
    """What `Check` in an annotation means to pydantic: `Field` constraints, then before/after functions."""
    from pydantic import AfterValidator, BeforeValidator, Field

    metadata: list[Any] = [Field(**check.constraints)] if check.constraints else []
    if check.before is not None:
        metadata.append(BeforeValidator(check.before))
    if check.after is not None:
        metadata.append(AfterValidator(check.after))
    return handler(Annotated[(source, *metadata)]) if metadata else handler(source)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `.mlgate.yml`, as `mlgate schema` prints it."""
    schema: dict[str, Any] = _one_line_descriptions(_adapter(Config).json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlgate configuration (.mlgate.yml)"
    return schema


def _one_line_descriptions(node: Any) -> Any:
    """A field docstring that wraps in config.py is one line in the schema, as editors show it."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _one_line_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_line_descriptions(item) for item in node]
    return node
