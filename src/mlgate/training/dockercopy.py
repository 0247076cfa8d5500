"""The work tree copied into a container and the result files copied out, for a daemon that cannot see it.

In: the files `raypack.scan` picks (the Ray upload's rules: .git, virtual envs, caches and mlgate's own output
always left out, plus `train.docker.excludes`, files over `large_file_mb` left out and printed, the whole
refused over `max_upload_mb` before anything is sent), as one tar under `WORKDIR`, owned by the container's
user, for `put_archive` into the created container. Symlinks go as symlinks, never as the file they name.

Out: for each result pattern, the file itself or the deepest folder above its first glob is read back with
`get_archive` as a tar stream. Only regular files whose names stay inside the tree and match a pattern are
kept (symlinks, hard links, devices, absolute names and `..` never are), within `max_results_mb`. They are
staged in a scratch folder, matched there with `WorkTree.glob` (the metrics loader's own rules), and each is
moved into the work tree with `os.replace`: a symlink already at that path is replaced, not followed, and a
path whose folders lead out of the work tree is refused.
"""

from __future__ import annotations

import fnmatch
import io
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import IO, Any

from mlgate import dvc
from mlgate.config import DockerConfig
from mlgate.console import Console
from mlgate.errors import TrainingError
from mlgate.training import raypack
from mlgate.training.raypack import MIB, Package
from mlgate.tree import WorkTree

WORKDIR = PurePosixPath("/mlgate/work")
# container path → its tar stream (None when it is absent), closed when the `with` block is left
Fetch = Callable[[str], AbstractContextManager[Iterable[bytes] | None]]
RESULTS_HINT = (
    "name fewer or smaller result files; write large outputs (checkpoints) to storage the runner reaches"
)


def scan_tree(root: Path, cfg: DockerConfig, console: Console) -> Package:
    """The work tree's files that go into the container; over `max_upload_mb` a TrainingError naming it."""
    try:
        package = raypack.scan(root, cfg.excludes, int(cfg.large_file_mb * MIB), int(cfg.max_upload_mb * MIB))
    except TrainingError as exc:
        hint = (
            "add the data folders to train.docker.excludes and read the data from storage that host reaches"
        )
        raise TrainingError("train.docker.max_upload_mb", exc.what, hint=hint) from None
    for rel, size in package.left_out:
        console.info(f"mlgate: left out of the copy: {rel} ({size / MIB:.1f} MiB, a large file)")
    for rel in package.outside:
        console.warn(f"left out of the copy: {rel} (a symlink to a file outside the work tree)")
    return package


def copy_in(container: Any, package: Package, console: Console) -> None:
    """The package as a tar into the created container, at `/` (its entries are `mlgate/work/…`)."""
    started = time.monotonic()
    with tempfile.TemporaryFile(prefix="mlgate-tree-") as tar:
        write_tar(package, tar, (os.getuid(), os.getgid()))
        size = tar.tell()
        tar.seek(0)
        container.put_archive("/", tar)
    console.info(
        f"mlgate: copied the work tree into the container ({len(package.files)} files, "
        f"{size / MIB:.1f} MiB) in {time.monotonic() - started:.1f} s"
    )


def write_tar(package: Package, out: IO[bytes], owner: tuple[int, int]) -> None:
    """The package as a tar of `mlgate/work/…` (extracted at `/`), folders first, every entry `owner`'s."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for folder in _folders(name for name, _ in package.files):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(_owned(info, owner))
        for name, path in package.files:
            # NOTE: lstat, so a symlink stays a symlink: one a PR commits pointing at a file of this machine
            # (~/.ssh/id_rsa) dangles in the container instead of carrying that file to the Docker host.
            info = tar.gettarinfo(str(path), arcname=f"{WORKDIR.relative_to('/')}/{name}")
            if not info.isreg():
                tar.addfile(_owned(info, owner))
                continue
            info.mode = 0o755 if info.mode & 0o100 else 0o644
            with path.open("rb") as handle:
                tar.addfile(_owned(info, owner), handle)


def _folders(names: Iterable[str]) -> list[str]:
    found = {str(WORKDIR.relative_to("/")), WORKDIR.parts[1]}
    for name in names:
        for parent in PurePosixPath(name).parents:
            if parent != PurePosixPath("."):
                found.add(f"{WORKDIR.relative_to('/')}/{parent}")
    return sorted(found, key=lambda folder: (folder.count("/"), folder))


def _owned(info: tarfile.TarInfo, owner: tuple[int, int]) -> tarfile.TarInfo:
    info.uid, info.gid = owner
    info.uname = info.gname = ""
    info.mtime = int(info.mtime) if info.mtime else 0
    return info


def fetch_roots(patterns: Sequence[str]) -> list[str]:
    """The tree paths to read back: each plain path itself, each glob's folder above its first wildcard;
    "" is the whole tree. A path under another one is read with it."""
    roots: set[str] = set()
    for pattern in patterns:
        literal: list[str] = []
        for part in PurePosixPath(pattern).parts:
            if any(ch in part for ch in "*?["):
                break
            literal.append(part)
        roots.add("/".join(literal))
    return sorted(r for r in roots if not any(o != r and (o == "" or r.startswith(o + "/")) for o in roots))


def copy_results(fetch: Fetch, patterns: Sequence[str], root: Path, limit_bytes: int) -> list[str]:
    """Bring the files matching `patterns` back into `root`; the names of those written, sorted."""
    wanted = [p for p in patterns if dvc.is_inside(p)]
    with tempfile.TemporaryDirectory(prefix="mlgate-results-") as scratch:
        staging = Path(scratch)
        budget = limit_bytes
        for top in fetch_roots(wanted):
            with fetch(str(WORKDIR / top) if top else str(WORKDIR)) as chunks:
                if chunks is not None:  # absent: not written; the metrics loader says so as for a local run
                    budget -= _stage(chunks, top, wanted, staging, budget, limit_bytes)
        return _place(staging, wanted, root)


def _stage(chunks: Iterable[bytes], top: str, patterns: Sequence[str], staging: Path, budget: int,
           limit: int) -> int:  # fmt: skip
    """Unpack the wanted regular files of one tar stream into `staging`; the bytes kept."""
    base = (WORKDIR / top).parent if top else WORKDIR.parent
    kept = 0
    with tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|") as tar:
        for member in tar:
            rel = _tree_name(base, member.name)
            if rel is None or not member.isfile() or not _may_match(rel, patterns):
                continue
            kept += member.size
            if kept > budget:
                raise TrainingError(
                    "train.docker.max_results_mb",
                    f"the result files copied back from the container are over {limit / MIB:.1f} MiB "
                    f"(at {rel}, {member.size / MIB:.1f} MiB)",
                    hint=RESULTS_HINT,
                )
            _unpack(tar, member, staging / rel)
    return kept


def _tree_name(base: PurePosixPath, name: str) -> str | None:
    """The member's path in the work tree, or None when it is absolute, has `..` or lies outside."""
    if not dvc.is_inside(name):
        return None
    full = base / name
    if not full.is_relative_to(WORKDIR) or full == WORKDIR:
        return None
    return full.relative_to(WORKDIR).as_posix()


def _may_match(rel: str, patterns: Sequence[str]) -> bool:
    """A wide first sieve (WorkTree.glob decides afterwards), so unwanted files are not even staged."""
    return any(
        rel == p or fnmatch.fnmatchcase(rel, p) or PurePosixPath(rel).match(p.replace("**/", ""))
        for p in patterns
    )


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has content
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, MIB)


def _place(staging: Path, patterns: Sequence[str], root: Path) -> list[str]:
    """Move the staged files that match into the work tree; refuse one whose folders lead out of it."""
    staged = WorkTree(staging)
    names = sorted({name for pattern in patterns for name in staged.glob(pattern)})
    resolved_root = root.resolve()
    for name in names:
        target = root / name
        if not target.parent.resolve().is_relative_to(resolved_root):
            raise TrainingError(
                f"train.docker: {name}", "the work tree's folders lead outside it (a symlink); refused"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.mlgate-part")
        try:
            shutil.copyfile(staging / name, partial)
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise TrainingError(f"train.docker: {name}", f"cannot write the result: {exc.strerror}") from None
    return names


class _ChunkReader(io.RawIOBase):
    """The chunks of `get_archive`'s stream as a readable file, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
