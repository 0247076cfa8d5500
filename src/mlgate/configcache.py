"""Validated configs kept between commands, so that reading the same `.mlgate.yml` again skips pydantic.

pydantic's import and schema building cost more than all the rest of `mlgate diff` (DESIGN §11). Only a
config read as it is, with no MLGATE_SECTION__KEY variable and no flag on top, is kept: an entry holds
nothing that is not already in the file (a secret given as MLGATE_TRAIN__ENV__API_KEY never reaches the
disk). An entry is keyed by a hash of the config's bytes, its source name, and the code that validates
(mlgate's version and the stat of the config modules). It is a pickle of the `LoadedConfig` under
`$MLGATE_CACHE_DIR/config`, else `$XDG_CACHE_HOME/mlgate/config` or `~/.cache/mlgate/config`, read only from
a directory that the user owns and nobody else may write; `MLGATE_NO_CACHE=1` turns it off. A missing,
unreadable or stale entry means validating again; a cache that cannot be written is left alone: it only
ever saves time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import mlgate

if TYPE_CHECKING:
    from mlgate.configfile import LoadedConfig

MAX_ENTRIES = 64
_CODE = ("config.py", "configfile.py", "configschema.py", "configcache.py")


def cache_dir(env: Mapping[str, str]) -> Path | None:
    """Where entries live, from the environment Mapping; None when it names no home."""
    if env.get("MLGATE_NO_CACHE"):
        return None
    if env.get("MLGATE_CACHE_DIR"):
        return Path(env["MLGATE_CACHE_DIR"]) / "config"
    base = env.get("XDG_CACHE_HOME") or (env.get("HOME") and str(Path(env["HOME"]) / ".cache"))
    return Path(base) / "mlgate" / "config" if base else None


def entry_key(raw: bytes, source: str) -> str:
    """A hash of the config's bytes, its name and the validating code."""
    digest = hashlib.sha256(mlgate.__version__.encode())
    here = Path(__file__).parent
    for name in _CODE:
        info = (here / name).stat()
        digest.update(f"{name}:{info.st_size}:{info.st_mtime_ns}".encode())
    digest.update(b"\0" + source.encode() + b"\0" + raw)
    return digest.hexdigest()


def load(directory: Path | None, key: str) -> LoadedConfig | None:
    """The entry for `key`, or None when there is none that can be trusted and read."""
    if directory is None or not _private(directory):
        return None
    try:
        data = (directory / f"{key}.pickle").read_bytes()
        loaded = pickle.loads(data)  # NOTE: safe: the directory is the user's own (_private)
    except Exception:  # NOTE: any damaged or outdated entry only costs a validation
        return None
    from mlgate.configfile import LoadedConfig

    return loaded if isinstance(loaded, LoadedConfig) else None


def save(directory: Path | None, key: str, loaded: LoadedConfig) -> None:
    """Keep `loaded` under `key` (atomically), and the newest MAX_ENTRIES entries; never fails."""
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(directory):
            return
        temporary = directory / f".{key}.{os.getpid()}.tmp"
        temporary.write_bytes(pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, directory / f"{key}.pickle")
        _prune(directory)
    except OSError:
        return


def _private(directory: Path) -> bool:
    """The user's own directory, which no one else may write to."""
    try:
        info = directory.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-MAX_ENTRIES]:
        old.unlink(missing_ok=True)
