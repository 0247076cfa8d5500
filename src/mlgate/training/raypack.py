"""The working-directory package for a Ray job: which files go, its content hash, and the zip itself.

What goes: every file under `train.ray.working_dir` except version-control and virtual-env folders, caches,
mlgate's own output (`DEFAULT_EXCLUDES`), the user's `train.ray.excludes`, and files over the large-file
threshold (left out, each printed with its size). The total is checked against the package limit *before*
anything is hashed, zipped or uploaded. The hash covers paths, executable bits and contents, so an unchanged
tree maps to the same `gcs://_ray_pkg_<hash>.zip` and is not uploaded again. The zip is byte-for-byte
deterministic (sorted entries, fixed timestamps) and holds the files at its top level, as Ray's own packager
does for `gcs://` working dirs (`ray._private.runtime_env.packaging`, `remove_top_level_directory=False`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import field, replace
from pathlib import Path

from mlgate.errors import ConfigError, TrainingError
from mlgate.record import Record

DEFAULT_EXCLUDES = (
    ".git/", ".hg/", ".svn/", ".venv/", "venv/", "__pycache__/", "node_modules/", ".mypy_cache/",
    ".pytest_cache/", ".ruff_cache/", ".tox/", ".mlgate/", "mlgate-report/", "*.pyc",
)  # fmt: skip
LAUNCHER = ".mlgate/rayjob.py"
MIB = 1024 * 1024


class Package(Record):
    """The files of one upload: (path in the zip, file on disk), their total size, and what was left out."""

    root: Path
    files: tuple[tuple[str, Path], ...]
    extra: tuple[tuple[str, bytes], ...]
    total_bytes: int
    files_hash: str
    left_out: tuple[tuple[str, int], ...] = field(default=())
    outside: tuple[str, ...] = field(default=())  # symlinks to files outside the tree: never sent

    @property
    def digest(self) -> str:
        """Content hash of paths, executable bits and bytes as scanned, the launcher included."""
        outer = hashlib.sha256(self.files_hash.encode())
        for name, data in self.extra:
            outer.update(f"{name}\0{hashlib.sha256(data).hexdigest()}\n".encode())
        return outer.hexdigest()[:32]


def _hash_files(files: Iterable[tuple[str, Path]]) -> str:
    outer = hashlib.sha256()
    for name, path in files:
        inner = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(MIB), b""):
                inner.update(chunk)
        outer.update(f"{name}\0{_is_exec(path):d}\0{inner.hexdigest()}\n".encode())
    return outer.hexdigest()


def package_name(digest: str) -> str:
    return f"_ray_pkg_{digest}.zip"


def scan(
    root: Path, excludes: Iterable[str], large_file_bytes: int, limit_bytes: int, outputs: Iterable[str] = ()
) -> Package:
    """The files under root that go; a TrainingError (exit 3) naming the biggest ones when over the limit.
    `outputs` are files an earlier job wrote and mlgate brought back: results, not inputs, so left out."""
    if not root.is_dir():
        raise ConfigError("train.ray.working_dir", f"{root} is not a folder")
    patterns = (*DEFAULT_EXCLUDES, *excludes)
    kept: list[tuple[str, Path, int]] = []
    left_out: list[tuple[str, int]] = []
    skip = set(outputs)
    outside: list[str] = []
    top = root.resolve()
    for rel, path in _walk(root, patterns):
        if rel in skip:
            continue
        # NOTE: a symlink is the PR's to choose: `x -> ~/.ssh/id_rsa` would carry a runner's file to the
        # cluster (or the remote Docker host). Only links that stay inside the tree are followed.
        if path.is_symlink() and not path.resolve().is_relative_to(top):
            outside.append(rel)
            continue
        size = path.stat().st_size
        if size > large_file_bytes:
            left_out.append((rel, size))
        else:
            kept.append((rel, path, size))
    total = sum(size for _, _, size in kept)
    if total > limit_bytes:
        _too_big(root, kept, total, limit_bytes)
    files = tuple(sorted((rel, path) for rel, path, _ in kept))
    return Package(root, files, (), total, _hash_files(files), tuple(left_out), tuple(outside))


def with_launcher(package: Package, source: bytes) -> Package:
    return replace(package, extra=((LAUNCHER, source),))


def build_zip(package: Package) -> bytes:
    """The deterministic zip: sorted entries, 1980-01-01 timestamps, modes kept, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in package.files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if _is_exec(path) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, archive.open(info, "w", force_zip64=True) as dst:
                for chunk in iter(lambda: src.read(MIB), b""):
                    dst.write(chunk)
        for name, data in package.extra:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _walk(root: Path, patterns: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        rel_dir = base.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(d for d in dirs if not excluded(prefix + d, patterns, is_dir=True))
        for name in sorted(files):
            path = base / name
            if not excluded(prefix + name, patterns, is_dir=False) and path.is_file():
                yield prefix + name, path


def excluded(rel: str, patterns: Iterable[str], *, is_dir: bool) -> bool:
    """gitignore-like: `name/` matches folders of that name anywhere (`a/b/` only at that path), a pattern
    without `/` matches a base name anywhere, one with `/` matches the whole relative path (globs allowed)."""
    base = rel.rsplit("/", 1)[-1]
    for raw in patterns:
        pattern = raw.strip().removeprefix("./")
        if not pattern:
            continue
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        target = rel if "/" in pattern.lstrip("/") else base
        if fnmatch.fnmatchcase(target, pattern.lstrip("/")):
            return True
    return False


def _too_big(root: Path, kept: list[tuple[str, Path, int]], total: int, limit: int) -> None:
    biggest = sorted(kept, key=lambda item: -item[2])[:3]
    names = ", ".join(f"{rel} ({_mib(size)})" for rel, _, size in biggest)
    raise TrainingError(
        "train.ray.working_dir",
        f"{root} is {_mib(total)} to upload, over the limit of {_mib(limit)}; largest: {names}",
        hint="add the data folders to train.ray.excludes and read the data from storage the cluster reaches",
    )


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"


def _is_exec(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)
