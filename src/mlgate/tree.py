"""Read-only views of a set of files: the work tree on disk, or a commit read through git.

Metrics, params, predictions and plot data are loaded through a `FileTree`, so the same loader reads the
head's work tree and the base commit's committed files.
"""

from __future__ import annotations

import fnmatch
import posixpath
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Protocol

from mlgate.errors import GitError, MetricsError
from mlgate.gitrepo import NOT_INSTALLED_HINT, GitObject, GitRepo

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mlgate"}


class FileTree(Protocol):
    """Files addressed by repository-relative POSIX paths."""

    label: str

    def glob(self, pattern: str) -> list[str]:
        """Paths matching `pattern` (a plain path matches itself if it exists), sorted."""
        ...

    def exists(self, path: str) -> bool: ...

    def size(self, path: str) -> int:
        """Bytes in `path`; raises MetricsError naming the path when it is absent."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The file's content; raises MetricsError naming the path when it is absent."""
        ...


def _matches(path: str, pattern: str) -> bool:
    if "**" in pattern:
        return PurePosixPath(path).match(pattern.replace("**/", "")) or fnmatch.fnmatch(path, pattern)
    return fnmatch.fnmatchcase(path, pattern)


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _is_plain(path: str) -> bool:
    """A path git names the way a tree listing does (no glob, nothing to normalize: `./`, `..`, `//`) and
    `git cat-file --batch` can be asked for on one line."""
    plain = posixpath.normpath(path) == path and not path.startswith(("/", ".."))
    return plain and not _is_glob(path) and "\n" not in path


class WorkTree:
    """The files on disk under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved_root = root.resolve()
        self.label = "work tree"

    def _path(self, path: str) -> Path:
        """The file on disk; a path that leaves the tree (a symlink a PR committed, `..`) is refused."""
        target = self.root / path
        if not target.resolve().is_relative_to(self._resolved_root):
            raise MetricsError(path, "points outside the repository (symlink or ..); refused")
        return target

    def glob(self, pattern: str) -> list[str]:
        if not _is_glob(pattern):
            return [pattern] if self.exists(pattern) else []
        found = [
            p.relative_to(self.root).as_posix()
            for p in self.root.glob(pattern)
            if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(self.root).parts)
        ]
        return sorted(path for path in found if self.exists(path))

    def exists(self, path: str) -> bool:
        try:
            return self._path(path).is_file()
        except MetricsError:
            return False

    def size(self, path: str) -> int:
        try:
            return self._path(path).stat().st_size
        except FileNotFoundError:
            raise MetricsError(path, "no such file") from None
        except OSError as exc:
            raise MetricsError(path, f"cannot read: {exc.strerror or exc}") from None

    def read_bytes(self, path: str) -> bytes:
        target = self._path(path)
        if target.is_dir():
            raise MetricsError(path, "is a directory, not a file")
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise MetricsError(path, "no such file") from None
        except OSError as exc:
            raise MetricsError(path, f"cannot read: {exc.strerror or exc}") from None


class GitTree:
    """The files of commit `rev` in `repo`, read with `git ls-tree` / `git cat-file`.

    `preload` looks up the plain paths a caller knows it will read in one round of the repository's
    `git cat-file --batch`; the listing (a glob, any other path) is read only when asked for.
    """

    def __init__(self, repo: GitRepo, rev: str) -> None:
        self.repo = repo
        self.root = repo.root
        self.rev = rev
        self.label = f"commit {rev[:12]}"
        self._sizes: dict[str, int] | None = None
        self._preloaded: dict[str, GitObject | None] = {}  # None: no such file in the commit

    def preload(self, paths: Iterable[str]) -> None:
        """Look up each plain path among `paths` (globs are left to the listing) in one round of the
        repository's `git cat-file --batch`, keeping the content of small files; afterwards they are
        answered without asking git again."""
        wanted = [path for path in dict.fromkeys(paths) if _is_plain(path) and path not in self._preloaded]
        found = self.repo.read_objects(*(f"{self.rev}:{path}" for path in wanted))
        for path, obj in zip(wanted, found, strict=True):
            self._preloaded[path] = obj if obj is not None and obj.type == "blob" else None

    def _listing(self) -> dict[str, int]:
        if self._sizes is None:
            out = _git(self.root, "ls-tree", "-r", "-l", "-z", self.rev)
            sizes: dict[str, int] = {}
            for entry in out.split(b"\0"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                fields = meta.split()
                if len(fields) == 4 and fields[1] == b"blob":
                    sizes[name.decode("utf-8", "surrogateescape")] = int(fields[3])
            self._sizes = sizes
        return self._sizes

    def glob(self, pattern: str) -> list[str]:
        if not _is_glob(pattern):
            return [pattern] if self.exists(pattern) else []
        return sorted(p for p in self._listing() if _matches(p, pattern))

    def exists(self, path: str) -> bool:
        if path in self._preloaded:
            return self._preloaded[path] is not None
        return path in self._listing()

    def size(self, path: str) -> int:
        if path in self._preloaded:
            found = self._preloaded[path]
            size = found.size if found is not None else None
        else:
            size = self._listing().get(path)
        if size is None:
            raise MetricsError(f"{path}@{self.rev[:12]}", "no such file in that commit")
        return size

    def read_bytes(self, path: str) -> bytes:
        size = self.size(path)
        found = self._preloaded.get(path)
        if (found is None or found.content is None) and _is_plain(path):
            [found] = self.repo.read_objects(f"{self.rev}:{path}", keep_up_to=size)
        if found is not None and found.content is not None:
            return found.content
        return _git(self.root, "cat-file", "blob", f"{self.rev}:{path}")


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git", "not installed", hint=NOT_INSTALLED_HINT) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]}", message[-1] if message else f"exit {done.returncode}")
    return done.stdout
