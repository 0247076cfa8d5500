"""Validated configs kept between local commands, so that reading the same `.mlgate.yml` again skips pydantic.

pydantic's import and schema building cost more than all the rest of `mlgate diff` (DESIGN §11). The store
and its rules (never in CI, `MLGATE_NO_CACHE`, private JSON files) are localcache.py's; on top of them:

- Only a config file read from disk as it is: not a base branch's config read from git or the forge, not one
  with MLGATE_SECTION__KEY variables or flags on top. An entry holds nothing that is not already in the file
  (a secret given as MLGATE_TRAIN__ENV__API_KEY never reaches the disk).
- An entry holds the config's bytes, its source name, a stamp of the code that validates (mlgate's version,
  the stat of the modules that parse and validate, pydantic's version file), and the validated shapes. It is
  used only when bytes, source and stamp are all the same again. A planted entry can at worst describe a
  config, and only one that the file beside it does not hold, which is checked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import config as shapes
from mlgate import localcache
from mlgate.model import Direction, Severity

if TYPE_CHECKING:
    from mlgate.configfile import LoadedConfig

_CODE = ("config.py", "configfile.py", "configschema.py", "configcache.py", "yamlfile.py", "model.py")
_SHAPES = {
    name: cls for name, cls in vars(shapes).items() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}
_ENUMS: dict[str, type[Enum]] = {"Direction": Direction, "Severity": Severity}


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """Where entries live, from the environment Mapping; None when off, in CI, or with no home named."""
    return localcache.cache_dir(env, "config")


def load(directory: Path | None, raw: bytes, source: str) -> LoadedConfig | None:
    """The config validated from these bytes of `source` by this code, or None when there is none to trust."""
    if directory is None:
        return None
    stamp = _stamp()
    data = localcache.read(directory, localcache.entry_name(raw, stamp, source))
    if data is None:
        return None
    try:
        entry = json.loads(data)
        if (entry["stamp"], entry["source"], entry["raw"]) != (stamp, source, localcache.text_of(raw)):
            return None
        return _loaded_from(entry["loaded"])
    except Exception:  # NOTE: any damaged or outdated entry only costs a validation
        return None


def save(directory: Path | None, raw: bytes, source: str, loaded: LoadedConfig) -> None:
    """Keep `loaded` as validated from `raw`; never fails."""
    if directory is None:
        return
    stamp = _stamp()
    try:
        entry = {
            "stamp": stamp,
            "source": source,
            "raw": localcache.text_of(raw),
            "loaded": _loaded_data(loaded),
        }
        text = json.dumps(entry)
    except (TypeError, ValueError):
        return
    localcache.write(directory, localcache.entry_name(raw, stamp, source), text)


def _stamp() -> str:
    return localcache.stamp(_CODE, ["pydantic/version.py"])


# The entry's shapes as tagged JSON: {"shape": name, "fields": …}, {"enum": name, "value": …},
# {"list": […]}, {"dict": {…}}; scalars as themselves. Only config.py's dataclasses and the two enums decode.


def _loaded_data(loaded: LoadedConfig) -> dict[str, Any]:
    path = None if loaded.path is None else str(loaded.path)
    return {"config": _encode(loaded.config), "path": path, "sources": dict(loaded.sources)}


def _loaded_from(data: dict[str, Any]) -> LoadedConfig | None:
    from mlgate.configfile import LoadedConfig

    config = _decode(data["config"])
    if not isinstance(config, shapes.Config):
        return None
    path = None if data["path"] is None else Path(data["path"])
    sources = {str(key): str(value) for key, value in data["sources"].items()}
    return LoadedConfig(config=config, path=path, sources=sources)


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"enum": type(value).__name__, "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"shape": type(value).__name__, "fields": fields}
    if isinstance(value, list):
        return {"list": [_encode(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": {str(key): _encode(item) for key, item in value.items()}}
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in the config cache")


def _decode(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    if "shape" in data:
        fields = {name: _decode(value) for name, value in data["fields"].items()}
        return _SHAPES[data["shape"]](**fields)
    if "enum" in data:
        return _ENUMS[data["enum"]](data["value"])
    if "list" in data:
        return [_decode(item) for item in data["list"]]
    return {key: _decode(value) for key, value in data["dict"].items()}
