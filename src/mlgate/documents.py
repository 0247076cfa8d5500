"""The documents of metrics and params files: JSON, YAML and TOML parsed strictly, with line numbers.

JSON allows NaN and Infinity (DVC and most trainers write them) but refuses duplicate keys, naming the key
path and its line; TOML and YAML errors name line and column. metrics.py flattens what these return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mlgate import surrogates
from mlgate.errors import MetricsError
from mlgate.yamlfile import load_yaml

MAX_DEPTH = 64
Lines = Mapping[Any, int]
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_document(text: str, path: str) -> tuple[Any, Lines]:
    """JSON, YAML or TOML by extension; another extension is JSON when it starts with `{` or `[`."""
    lower = path.lower()
    if lower.endswith(".toml"):
        return _parse_toml(text, path), {}
    if lower.endswith(".json") or (not lower.endswith((".yml", ".yaml")) and text.lstrip()[:1] in "{["):
        data = parse_json(text, path)
        if surrogates.may_hold(text):
            return surrogates.mend(
                data, {}, path, MetricsError, too_deep=f"nested more than {MAX_DEPTH} levels deep"
            )
        return data, {}
    return load_yaml(text, path, MetricsError)


class _DuplicateKeyError(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKeyError
    return out


def parse_json(text: str, path: str) -> Any:
    """JSON with NaN/Infinity allowed; syntax errors name line and column, duplicate keys are errors."""
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise MetricsError(f"{path}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise MetricsError(path, f"nested more than {MAX_DEPTH} levels deep") from None
    except _DuplicateKeyError:
        key, line = _find_duplicate(text)
        raise MetricsError(f"{path}:{line}", f"duplicate key {key!r}") from None


def _find_duplicate(text: str) -> tuple[str, int]:
    """The dotted path and line of the first repeated key of a JSON object (the text is valid JSON)."""
    frames: list[list[Any]] = []  # [seen keys (None for a list), current key or index]
    last = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            frames.append([set() if token == "{" else None, 0])
        elif token in "}]":
            frames.pop()
        elif token == "," and frames[-1][0] is None:
            frames[-1][1] += 1
        elif token == ":":
            key = json.loads(last)
            if key in frames[-1][0]:
                dotted = ".".join(str(frame[1]) for frame in frames[:-1])
                return f"{dotted}.{key}" if dotted else key, text.count("\n", 0, match.start()) + 1
            frames[-1][0].add(key)
            frames[-1][1] = key
        elif token.startswith('"'):
            last = token
    return "?", 1


def _parse_toml(text: str, path: str) -> Any:
    import tomllib  # rare; kept off the import path of `mlgate diff`

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        where = f"{path}:{found[1]}:{found[2]}" if found else path
        raise MetricsError(where, f"invalid TOML: {_TOML_POSITION.sub('', message)}") from None


__all__ = ["MAX_DEPTH", "parse_document", "parse_json"]
