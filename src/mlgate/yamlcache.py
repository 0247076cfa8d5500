"""Parsed YAML documents kept between local commands, so that reading the same `params.yaml` or `dvc.yaml`
again needs no PyYAML.

PyYAML compiles its regular expressions at import: about a sixth of `mlgate diff` in a project whose params
are YAML, as most DVC projects' are. The store and its rules (never in CI, `MLGATE_NO_CACHE`, private JSON
files) are localcache.py's. An entry holds the document's text, a stamp of the code that parses it (mlgate's
version, the stat of yamlfile.py, this module and PyYAML's `__init__.py`), the data and the line of every key,
and is used only when text and stamp are the same again.

Only documents that JSON keeps exactly are kept: mappings with string keys, lists, strings, integers, floats
(NaN and the infinities too), booleans and null. A date, a set, binary data or a key that is not a string is
parsed each time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgate import localcache
from mlgate.yamlfile import Path_

_CODE = ("yamlfile.py", "yamlcache.py")


def load(directory: Path, text: str) -> tuple[Any, dict[Path_, int]] | None:
    """The data and key lines parsed from `text` by this code before, or None."""
    raw = _raw(text)
    stamp = _stamp()
    data = localcache.read(directory, localcache.entry_name(raw, stamp))
    if data is None:
        return None
    try:
        entry = json.loads(data)
        if (entry["stamp"], entry["text"]) != (stamp, text):
            return None
        lines = {tuple(path): int(line) for path, line in entry["lines"]}
        return entry["data"], lines
    except Exception:  # NOTE: any damaged or outdated entry only costs a parse
        return None


def save(directory: Path, text: str, data: Any, lines: dict[Path_, int]) -> None:
    """Keep what `text` parsed to, when JSON holds it exactly; never fails."""
    if not _plain(data):
        return
    stamp = _stamp()
    try:
        keys = [[list(path), line] for path, line in lines.items()]
        serialised = json.dumps({"stamp": stamp, "text": text, "data": data, "lines": keys})
    except (TypeError, ValueError, RecursionError):
        return
    localcache.write(directory, localcache.entry_name(_raw(text), stamp), serialised)


def _plain(data: Any) -> bool:
    """True when `json.loads(json.dumps(data))` gives `data` back, types included."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                return False
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is not None and type(value) not in (str, int, float, bool):
            return False
    return True


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _stamp() -> str:
    return localcache.stamp(_CODE, ["yaml/__init__.py"])
