"""Validated configs kept between local commands, so that reading the same `.mlgate.yml` again skips pydantic.

pydantic's import and schema building cost more than all the rest of `mlgate diff` (DESIGN §11). What is kept,
and when it is used:

- Only a config file read from disk as it is: not a base branch's config read from git or the forge, not one
  with MLGATE_SECTION__KEY variables or flags on top. An entry holds nothing that is not already in the file
  (a secret given as MLGATE_TRAIN__ENV__API_KEY never reaches the disk).
- Never in CI (`CI`, `GITHUB_ACTIONS` or `GITLAB_CI` set): there a training command of a PR runs as the same
  user and could leave an entry for the next job on a persistent runner; one-shot jobs gain little anyway.
- An entry is JSON (never a pickle: a planted entry can at worst describe a config, and only one that the file
  beside it does not hold, which is checked): the config's bytes, its source name, a stamp of the code that
  validates (mlgate's version, the stat of the modules that parse and validate, pydantic's version file), and
  the validated shapes. It is used only when bytes, source and stamp are all the same again; its file name is
  a CRC of them (no hashlib: its OpenSSL start-up is felt here).
- It lives in `$MLGATE_CACHE_DIR/config`, else `$XDG_CACHE_HOME/mlgate/config` or `~/.cache/mlgate/config`,
  and is read only as a regular file owned by the user, from a directory the user owns, neither a symlink nor
  writable by anyone else. `MLGATE_NO_CACHE=1` turns it off.

A missing, unreadable or stale entry means validating again; a cache that cannot be written is left alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
import zlib
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlgate
from mlgate import config as shapes
from mlgate.model import Direction, Severity

if TYPE_CHECKING:
    from mlgate.configfile import LoadedConfig

MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 1 << 20
_CI = ("CI", "GITHUB_ACTIONS", "GITLAB_CI")
_CODE = ("config.py", "configfile.py", "configschema.py", "configcache.py", "yamlfile.py", "model.py")
_SHAPES = {
    name: cls for name, cls in vars(shapes).items() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}
_ENUMS: dict[str, type[Enum]] = {"Direction": Direction, "Severity": Severity}


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """Where entries live, from the environment Mapping; None when off, in CI, or with no home named."""
    if env.get("MLGATE_NO_CACHE") or any(env.get(name) for name in _CI):
        return None
    if env.get("MLGATE_CACHE_DIR"):
        return Path(env["MLGATE_CACHE_DIR"]) / "config"
    base = env.get("XDG_CACHE_HOME") or (env.get("HOME") and str(Path(env["HOME"]) / ".cache"))
    return Path(base) / "mlgate" / "config" if base else None


def load(directory: Path | None, raw: bytes, source: str) -> LoadedConfig | None:
    """The config validated from these bytes of `source` by this code, or None when there is none to trust."""
    if directory is None:
        return None
    stamp = _stamp()
    data = _read_private(directory, _file_name(raw, source, stamp))
    if data is None:
        return None
    try:
        entry = json.loads(data)
        if (entry["stamp"], entry["source"], entry["raw"]) != (stamp, source, _text(raw)):
            return None
        return _loaded_from(entry["loaded"])
    except Exception:  # NOTE: any damaged or outdated entry only costs a validation
        return None


def save(directory: Path | None, raw: bytes, source: str, loaded: LoadedConfig) -> None:
    """Keep `loaded` as validated from `raw` (atomically), and the newest MAX_ENTRIES entries; never fails."""
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _owned(os.lstat(directory), directory=True):
            return
        stamp = _stamp()
        name = _file_name(raw, source, stamp)
        entry = {"stamp": stamp, "source": source, "raw": _text(raw), "loaded": _loaded_data(loaded)}
        temporary = directory / f".{name}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entry, out)
        os.replace(temporary, directory / name)
        _prune(directory)
    except (OSError, TypeError, ValueError):
        return


def _read_private(directory: Path, name: str) -> bytes | None:
    """The entry's bytes, if it is a regular file and its directory a real one, both the user's alone."""
    try:
        folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if not _owned(os.fstat(folder), directory=True):
            return None
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
        with os.fdopen(fd, "rb") as entry:
            return entry.read(MAX_ENTRY_BYTES) if _owned(os.fstat(entry.fileno()), directory=False) else None
    except OSError:
        return None
    finally:
        os.close(folder)


def _owned(info: os.stat_result, *, directory: bool) -> bool:
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    return kind(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _stamp() -> str:
    """mlgate's version, the size and mtime of the modules that parse and validate, and of pydantic's version
    file: an edited or upgraded mlgate or pydantic validates again."""
    here = Path(__file__).parent
    files = [here / name for name in _CODE]
    files += [Path(entry or ".") / "pydantic" / "version.py" for entry in sys.path]
    parts = [mlgate.__version__]
    for path in files:
        try:
            info = path.stat()
        except OSError:  # NOTE: an install without sources (bytecode only) cannot be edited in place
            continue
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return " ".join(parts)


def _file_name(raw: bytes, source: str, stamp: str) -> str:
    crc = zlib.crc32(raw, zlib.crc32(f"{stamp}\0{source}\0".encode()))
    return f"{crc:08x}-{len(raw):x}.json"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-MAX_ENTRIES]:
        old.unlink(missing_ok=True)


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
