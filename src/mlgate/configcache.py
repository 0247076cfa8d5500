"""Validated configs kept between commands, so that reading the same `.mlgate.yml` again skips pydantic.

pydantic's import and schema building cost more than all the rest of `mlgate diff` (DESIGN §11). Only a
config read as it is, with no MLGATE_SECTION__KEY variable and no flag on top, is kept: an entry holds
nothing that is not already in the file (a secret given as MLGATE_TRAIN__ENV__API_KEY never reaches the
disk). An entry holds the config's bytes, its source name and a stamp of the code that validates (mlgate's
version and the stat of the config modules), and is used only when all three are the same again; its file
is named by a CRC of them (no hashlib: its OpenSSL start-up is felt here). It is a pickle of them and the
`LoadedConfig` under
`$MLGATE_CACHE_DIR/config`, else `$XDG_CACHE_HOME/mlgate/config` or `~/.cache/mlgate/config`, read only from
a directory that the user owns and nobody else may write; `MLGATE_NO_CACHE=1` turns it off. A missing,
unreadable or stale entry means validating again; a cache that cannot be written is left alone: it only
ever saves time.
"""

from __future__ import annotations

import os
import pickle
import stat
import zlib
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


def load(directory: Path | None, raw: bytes, source: str) -> LoadedConfig | None:
    """The config validated from these bytes of `source` by this code, or None when there is none to trust."""
    if directory is None or not _private(directory):
        return None
    stamp = _stamp()
    try:
        data = (directory / _file_name(raw, source, stamp)).read_bytes()
        entry = pickle.loads(data)  # NOTE: safe: the directory is the user's own (_private)
    except Exception:  # NOTE: any damaged or outdated entry only costs a validation
        return None
    from mlgate.configfile import LoadedConfig

    if not (isinstance(entry, tuple) and len(entry) == 4 and entry[:3] == (stamp, source, raw)):
        return None
    return entry[3] if isinstance(entry[3], LoadedConfig) else None


def save(directory: Path | None, raw: bytes, source: str, loaded: LoadedConfig) -> None:
    """Keep `loaded` as validated from `raw` (atomically), and the newest MAX_ENTRIES entries; never fails."""
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(directory):
            return
        stamp = _stamp()
        name = _file_name(raw, source, stamp)
        temporary = directory / f".{name}.{os.getpid()}.tmp"
        entry = (stamp, source, raw, loaded)
        temporary.write_bytes(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, directory / name)
        _prune(directory)
    except OSError:
        return


def _stamp() -> str:
    """mlgate's version and the size and mtime of the modules that validate: a new or edited mlgate."""
    here = Path(__file__).parent
    parts = [mlgate.__version__]
    for name in _CODE:
        try:
            info = (here / name).stat()
        except OSError:  # NOTE: an install without sources (bytecode only) cannot be edited in place
            continue
        parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return " ".join(parts)


def _file_name(raw: bytes, source: str, stamp: str) -> str:
    crc = zlib.crc32(raw, zlib.crc32(f"{stamp}\0{source}\0".encode()))
    return f"{crc:08x}-{len(raw):x}.pickle"


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
