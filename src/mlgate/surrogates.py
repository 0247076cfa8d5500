"""Lone surrogates: `"\\ud800"` escaped in JSON or YAML is no character and cannot be written as UTF-8.

Both parsers return it as is, and the first report written with it would fail; it is read as U+FFFD `�`.
A paired escape (`"\\ud83d\\ude00"`) is one character already and stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from mlgate.errors import MlgateError

_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE = re.compile("[\ud800-\udfff]")

Path_ = tuple[Any, ...]


def may_hold(text: str) -> bool:
    """Whether the document `text` escapes a surrogate (cheap: most files have no `\\u` at all)."""
    return ("\\u" in text or "\\U" in text) and _ESCAPE.search(text) is not None


def mend(
    data: Any,
    lines: Mapping[Path_, int],
    source: str,
    error: Callable[[str, str], MlgateError],
    *,
    too_deep: str,
) -> tuple[Any, dict[Path_, int]]:
    """`data` and its key lines with each lone surrogate as U+FFFD, in keys and values; two keys that become
    one are a duplicate key, as they would be if written so."""

    def text(value: str) -> str:
        return _LONE.sub("\ufffd", value)

    def fixed(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                name = fixed(key)
                if name in out:
                    raise error(source, f"duplicate key {name!r} once lone surrogates are read as U+FFFD")
                out[name] = fixed(item)
            return out
        if isinstance(value, list):
            return [fixed(item) for item in value]
        return value

    try:
        mended = fixed(data)
    except RecursionError:
        raise error(source, too_deep) from None
    return mended, {tuple(text(p) if isinstance(p, str) else p for p in path): n for path, n in lines.items()}
