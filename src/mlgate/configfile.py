"""Loading `.mlgate.yml`: finding it, parsing it, MLGATE_* env and flag overrides, and one-line errors.

`load_config` layers file < MLGATE_SECTION__KEY env < flags into a `Config` (config.py) and says where each
overridden key came from. With `ci/`, the only module that reads the environment; it is handed a Mapping,
never `os.environ` itself. A validation error names the file, the line and the key path. Bytes validated
before come from configcache.py, and a config with nothing set is `Config()`: neither imports pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from mlgate import configcache
from mlgate.config import Config
from mlgate.errors import ConfigError
from mlgate.record import Record
from mlgate.yamlfile import Path_, format_path, load_value, load_yaml

CONFIG_NAMES = (".mlgate.yml", ".mlgate.yaml")
ENV_PREFIX = "MLGATE_"
# NOTE: tokens are read by ci/ from these variables and are never part of the config.


class LoadedConfig(Record):
    """The effective config, where it was read from, and the source of each overridden key."""

    config: Config
    path: Path | None
    sources: dict[str, str] = field(default_factory=dict)


def find_config(root: Path) -> Path | None:
    """The config file in `root`, if there is one."""
    return next((root / name for name in CONFIG_NAMES if (root / name).is_file()), None)


def load_config(
    path: Path | None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Read `path` (None: defaults only), apply `MLGATE_SECTION__KEY` variables, then flag overrides.

    `overrides` maps dotted key paths (`train.command`) to values; flags win over the environment.
    """
    if path is None:
        return _loaded(None, "(defaults)", None, env, overrides)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    return _loaded(raw, str(path), path, env, overrides)


def load_config_bytes(
    raw: bytes,
    source: str,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """A config file's content read elsewhere (the base branch's, from git or the forge API); errors name
    `source` (`main:.mlgate.yml`)."""
    return _loaded(raw, source, None, env, overrides)


def _loaded(
    raw: bytes | None,
    source: str,
    path: Path | None,
    env: Mapping[str, str] | None,
    overrides: Mapping[str, Any] | None,
) -> LoadedConfig:
    """The validated config of `raw` (None: no file); from the cache when `raw` is the file at `path` and it
    has validated these bytes before with nothing on top (configcache.py says when it is used)."""
    env = env or {}
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    if raw is None:
        return _validated({}, {}, source, path, env, given)
    plain = path is not None and not given and not any(_is_override(name) for name in env)
    directory = configcache.cache_dir(env) if plain else None
    cached = configcache.load(directory, raw, source)
    if cached is not None:
        return cached
    data, lines = _parse(raw, source)
    loaded = _validated(data, lines, source, path, env, given)
    configcache.save(directory, raw, source, loaded)
    return loaded


def _is_override(name: str) -> bool:
    return name.startswith(ENV_PREFIX) and "__" in name  # NOTE: MLGATE_TOKEN and MLGATE_ARGS have none


def _validated(
    data: dict[str, Any],
    lines: dict[Path_, int],
    source: str,
    path: Path | None,
    env: Mapping[str, str],
    overrides: Mapping[str, Any],
) -> LoadedConfig:
    sources = dict.fromkeys(data, source)
    for key, (value, name) in _env_overrides(env).items():
        origin = f"env {name}"
        _set_path(data, key, value, source=origin)
        sources[key] = origin
    for key, value in overrides.items():
        _set_path(data, key, value, source="flag")
        sources[key] = "flag"
    if not data:  # NOTE: the defaults are valid; pydantic is not needed to know it
        return LoadedConfig(config=Config(), path=path, sources=sources)
    from mlgate.configschema import Invalid, validate

    try:
        config = validate(data)
    except Invalid as exc:
        raise _config_error(exc.errors, source, lines, sources) from None
    return LoadedConfig(config=config, path=path, sources=sources)


def _parse(raw: bytes, source: str) -> tuple[dict[str, Any], dict[Path_, int]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(source, "not UTF-8 text") from None
    data, lines = load_yaml(text, source, ConfigError)
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(source, f"must be a mapping of sections, got {type(data).__name__}")
    return data, lines


def _env_overrides(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """`MLGATE_TRAIN__COMMAND=python t.py` → {"train.command": ("python t.py", "MLGATE_TRAIN__COMMAND")}, the
    value read as YAML and the variable's own name; tokens are skipped."""
    out: dict[str, tuple[Any, str]] = {}
    for name, value in sorted(env.items()):
        if not _is_override(name):
            continue
        out[_env_key(name[len(ENV_PREFIX) :])] = (load_value(value), name)  # NOTE: PyYAML only with one
    return out


# Mappings whose keys are data, not config keys: an environment variable's name keeps its case.
_DATA_KEYED = ("train.env", "train.ray.resources")


def _env_key(name: str) -> str:
    """`TRAIN__ENV__HF_HOME` → `train.env.HF_HOME`: config keys lower-cased, data keys as written."""
    parts = name.split("__")
    for depth in range(len(parts), 0, -1):
        if ".".join(parts[:depth]).lower() in _DATA_KEYED:
            return ".".join([*(p.lower() for p in parts[:depth]), *parts[depth:]])
    return ".".join(p.lower() for p in parts)


def _set_path(data: dict[str, Any], dotted: str, value: Any, *, source: str) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(source, f"{dotted}: {part} is not a section")
        node = child
    node[leaf] = value


_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")  # STYLE: say what came


def _config_error(
    errors: list[dict[str, Any]], source: str, lines: dict[Path_, int], sources: Mapping[str, str]
) -> ConfigError:
    """The first problem, named where its value came from: the file and line, or the variable or flag."""
    first = errors[0]
    loc = _without_union_tags(tuple(first["loc"]))
    key = format_path(loc) or "(top level)"
    line = _nearest_line(loc, lines)
    where = f"{source}:{line}" if line else source
    dotted = ".".join(str(part) for part in loc)
    given = [k for k in sources if sources[k] != source and (dotted == k or dotted.startswith(k + "."))]
    if given:
        where = sources[max(given, key=len)]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        message = "unknown key"
    elif first["type"] == "literal_error" or first["type"] in _BOUND_ERRORS:
        message = f"{message}, got {first.get('input')!r}"
    extra = len(errors) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return ConfigError(where, f"{key}: {message}{more}", hint="`mlgate schema` prints every key and type")


def _without_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic names the member of `plots[i]` it tried (`plots, 0, curve, path`); the key is `plots[0].path`.

    Only the part right after a plot's index is such a tag: `train.image` keeps its `image`.
    """
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (i == 2 and loc[0] == "plots" and isinstance(loc[1], int) and part in _PLOT_KINDS)
    )


_PLOT_KINDS = ("curve", "confusion", "roc", "pr", "bars", "image")


def _nearest_line(loc: Sequence[Any], lines: dict[Path_, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
