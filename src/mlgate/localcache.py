"""The private store behind the caches of local commands: validated configs and parsed YAML documents.

Both keep work that the next local command would redo with the same result, and both follow one set of rules:

- Never in CI (`CI`, `GITHUB_ACTIONS` or `GITLAB_CI` set): there a training command of a PR runs as the same
  user and could leave an entry for the next job on a persistent runner; one-shot jobs gain little anyway.
  `MLGATE_NO_CACHE=1` turns them off anywhere.
- Entries live in `$MLGATE_CACHE_DIR/<kind>`, else `$XDG_CACHE_HOME/mlgate/<kind>` or
  `~/.cache/mlgate/<kind>`. An entry is JSON (never a pickle), written atomically, and read only as a
  regular file owned by the user, from a directory the user owns, neither a symlink nor writable by others.
- An entry holds the bytes it was made from and is used only when they are the same again, with the same
  stamp of the code that made it; its file name is a CRC of them (no hashlib: its OpenSSL start-up is felt).

A missing, unreadable or stale entry means doing the work again; a store that cannot be written is left alone.
"""

from __future__ import annotations

import os
import stat
import sys
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import mlgate

MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 1 << 20
_CI = ("CI", "GITHUB_ACTIONS", "GITLAB_CI")


def cache_dir(env: Mapping[str, str], kind: str) -> Path | None:
    """Where entries of `kind` live, from the environment Mapping; None when off, in CI, or with no home."""
    if env.get("MLGATE_NO_CACHE") or any(env.get(name) for name in _CI):
        return None
    if env.get("MLGATE_CACHE_DIR"):
        return Path(env["MLGATE_CACHE_DIR"]) / kind
    base = env.get("XDG_CACHE_HOME") or (env.get("HOME") and str(Path(env["HOME"]) / ".cache"))
    return Path(base) / "mlgate" / kind if base else None


def read(directory: Path, name: str) -> bytes | None:
    """Entry `name`'s bytes, if it is a regular file and its directory a real one, both the user's alone."""
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


def write(directory: Path, name: str, text: str) -> None:
    """Store entry `name` atomically and keep only the newest MAX_ENTRIES; never fails."""
    if len(text) > MAX_ENTRY_BYTES:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _owned(os.lstat(directory), directory=True):
            return
        temporary = directory / f".{name}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, directory / name)
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        return


def stamp(here: Iterable[str], installed: Iterable[str] = ()) -> str:
    """mlgate's version, and the size and mtime of mlgate's modules `here` and of the files `installed`
    (relative to a sys.path entry, e.g. `pydantic/version.py`): edited or upgraded code starts afresh."""
    package = Path(mlgate.__file__).parent
    files = [package / name for name in here]
    files += [Path(entry or ".") / name for name in installed for entry in sys.path]
    parts = [mlgate.__version__]
    for path in files:
        try:
            info = path.stat()
        except OSError:  # NOTE: an install without sources (bytecode only) cannot be edited in place
            continue
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return " ".join(parts)


def entry_name(raw: bytes, *salt: str) -> str:
    crc = zlib.crc32(raw, zlib.crc32("\0".join(salt).encode()))
    return f"{crc:08x}-{len(raw):x}.json"


def text_of(raw: bytes) -> str:
    """`raw` as it is kept in an entry (JSON text): UTF-8, any other byte kept as a surrogate."""
    return raw.decode("utf-8", "surrogateescape")


def _owned(info: os.stat_result, *, directory: bool) -> bool:
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    return kind(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022
