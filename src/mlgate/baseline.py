"""Baselines: the `BaselineStore` Protocol, its stores, and the walk back from the merge-base to find one.

    BaselineStore (Protocol)   load(sha) → Baseline | None
    ├── GitNotesStore          a JSON snapshot per commit in refs/notes/mlgate (+ predictions, gzip, in
    │                          refs/notes/mlgate-predictions), fetched before reading, pushed after writing
    ├── CiArtifactStore        the snapshot file the default branch's CI run uploaded (artifacts.py)
    ├── CommittedFileStore     the metrics files as committed at that commit
    └── RetrainStore           train the base commit in a temporary `git worktree`, kept in git notes
                               (retrain.py)

Stores are tried in the configured order; each looks at the merge-base and up to `max_distance` first-parent
ancestors, nearest first. A store that holds nothing for a commit returns None; a damaged entry is a warning
and the next store is tried. Finding no baseline is a result (NO_BASELINE), not an error.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, Protocol

from mlgate.errors import BaselineError, GitError, MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.model import BaselineRef, MetricSet, Params
from mlgate.record import Record
from mlgate.snapshot import (
    SnapshotError,
    attach_predictions,
    data_sketch,
    load_snapshot,
    predictions_pointer,
)
from mlgate.tree import FileTree, GitTree

NOTES_REF = "refs/notes/mlgate"
PREDICTIONS_REF = "refs/notes/mlgate-predictions"
NOTES_REFSPEC = "+refs/notes/mlgate*:refs/notes/mlgate*"  # both refs; a remote with neither is fine
PUSH_ATTEMPTS = 5


class Baseline(Record):
    """The base side of a comparison and where it came from; `tree` reads the base's files, if any;
    `data`: the sketch of the data file stored with it (datasketch's stored form), if any."""

    metrics: MetricSet
    params: Params
    ref: BaselineRef
    tree: FileTree | None = None
    data: Mapping[str, Any] | None = None


class BaselineStore(Protocol):
    """Somewhere a baseline for a commit may be kept."""

    name: str

    def load(self, sha: str) -> Baseline | None:
        """The baseline stored for commit `sha`, or None when this store has none for it."""
        ...


Warn = Callable[[str], None]


class CommittedFileStore:
    """The metrics and params files as committed at the commit itself (DVC users often commit them)."""

    name = "committed"

    def __init__(
        self, repo: GitRepo, metrics: Sequence[str] | None, params: Sequence[str] | None, warn: Warn
    ) -> None:
        self.repo = repo
        self.metrics = metrics
        self.params = params
        self.warn = warn

    def load(self, sha: str) -> Baseline | None:
        from mlgate.metrics import load_metrics, load_params, paths_to_read

        tree = GitTree(self.repo, sha)
        tree.preload(paths_to_read(self.metrics, self.params))
        try:
            metrics = load_metrics(tree, self.metrics)
        except MetricsError as exc:
            if _any_present(tree, self.metrics):
                self.warn(f"baseline store committed: commit {sha[:12]}: {exc}; ignored")
            return None
        if not len(metrics):
            return None
        try:
            params = load_params(tree, self.params)
        except MetricsError as exc:
            self.warn(f"baseline store committed: commit {sha[:12]}: {exc}; params ignored")
            params = Params()
        ref = BaselineRef(store=self.name, sha=sha, saved_at=self.repo.commit_date(sha))
        return Baseline(metrics=metrics, params=params, ref=ref, tree=tree)


class BlobTree:
    """A FileTree of a few stored files (a baseline's predictions), each read once when first asked for."""

    def __init__(self, files: Mapping[str, Callable[[], bytes]], label: str) -> None:
        self.files = files
        self.label = label
        self._read: dict[str, bytes] = {}

    @classmethod
    def holding(cls, contents: Mapping[str, bytes], label: str) -> BlobTree:
        """A tree of files already in memory."""
        tree = cls(dict.fromkeys(contents, bytes), label)
        tree._read.update(contents)
        return tree

    def glob(self, pattern: str) -> list[str]:
        return sorted(path for path in self.files if path == pattern or fnmatch.fnmatchcase(path, pattern))

    def exists(self, path: str) -> bool:
        return path in self.files

    def size(self, path: str) -> int:
        return len(self.read_bytes(path))

    def read_bytes(self, path: str) -> bytes:
        if path not in self.files:
            raise MetricsError(f"{path} ({self.label})", "not kept with this baseline")
        if path not in self._read:
            self._read[path] = self.files[path]()
        return self._read[path]


class GitNotesStore:
    """One JSON snapshot per commit under `refs/notes/mlgate`, fetched from and pushed to `remote`.

    Predictions, when saved, are a gzip blob noted on the same commit under `refs/notes/mlgate-predictions`
    and pointed at by the snapshot. A concurrent writer makes our push non-fast-forward: we then take the
    remote's notes, re-apply our note on top and push again, so snapshots of different commits all survive
    and, for the same commit, the later writer wins with valid JSON. Two JSON documents are never merged.
    """

    name = "git-notes"

    def __init__(
        self, repo: GitRepo, warn: Warn, *, remote: str | None = "origin", fetch: bool = True
    ) -> None:
        self.repo = repo
        self.warn = warn
        self.remote = remote if remote and repo.try_git("remote", "get-url", remote) else None
        self._fetch = fetch
        self._notes: dict[str, str] | None = None

    def noted_commits(self) -> dict[str, str]:
        """commit SHA → note blob SHA, read once (one `git notes list` instead of one call per ancestor)."""
        if self._notes is None:
            if self._fetch:
                self.fetch()
            out = self.repo.try_git("notes", f"--ref={NOTES_REF}", "list") or ""
            pairs = (line.split() for line in out.splitlines())
            self._notes = {commit: blob for blob, commit in pairs}
        return self._notes

    def fetch(self) -> bool:
        """Bring the remote's notes refs here (a remote without them is fine); False when it failed."""
        if self.remote is None:
            return False
        return self.repo.try_git("fetch", "--quiet", "--no-tags", self.remote, NOTES_REFSPEC) is not None

    def load(self, sha: str) -> Baseline | None:
        blob = self.noted_commits().get(sha)
        if blob is None:
            return None
        text = self.repo.git("cat-file", "blob", blob)
        try:
            metrics, params, ref, document = load_snapshot(text, store=self.name)
        except SnapshotError as exc:
            self.warn(f"baseline store git-notes: note on {sha[:12]}: {exc}; trying the next store")
            return None
        tree = self._tree(sha, document)
        ref = replace(ref, sha=sha)
        return Baseline(metrics=metrics, params=params, ref=ref, tree=tree, data=data_sketch(document))

    def _tree(self, sha: str, document: dict[str, Any]) -> FileTree | None:
        pointer = predictions_pointer(document)
        if pointer is None:
            return None
        path, blob = pointer

        def read() -> bytes:
            import gzip  # NOTE: here and in `save`: only git-notes predictions are gzipped; `diff` never is

            try:
                return gzip.decompress(self.repo.git_bytes("cat-file", "blob", blob))
            except (GitError, OSError, EOFError) as exc:
                raise MetricsError(
                    f"{path} (git note on {sha[:12]})", f"stored predictions unreadable: {exc}"
                ) from None

        return BlobTree({path: read}, f"git note on {sha[:12]}")

    def save(
        self, sha: str, snapshot: str, predictions: bytes | None = None, predictions_path: str | None = None
    ) -> None:
        """Write the notes for `sha` and push them, re-applying them over a concurrent writer's notes."""
        blob = None
        if predictions is not None and predictions_path:
            import gzip

            packed = gzip.compress(predictions, mtime=0)
            blob = self.repo.git_bytes("hash-object", "-w", "--stdin", input=packed).decode().strip()
            snapshot = attach_predictions(snapshot, predictions_path, blob)
        self._add(sha, snapshot, blob)
        if self.remote is not None:
            self._push(self.remote, sha, snapshot, blob)

    def _push(self, remote: str, sha: str, snapshot: str, blob: str | None) -> None:
        """Push both notes refs; when rejected, take the remote's notes, re-apply ours on top, try again."""
        refs = [
            f"{ref}:{ref}"
            for ref in (NOTES_REF, PREDICTIONS_REF)
            if self.repo.try_git("rev-parse", "--verify", "--quiet", ref)
        ]
        for _ in range(PUSH_ATTEMPTS):
            if self.repo.try_git("push", "--quiet", "--atomic", remote, *refs) is not None:
                return
            if not self.fetch():
                break
            self._add(sha, snapshot, blob)
        raise BaselineError(
            f"git push {remote} {NOTES_REF}",
            "rejected",
            hint="the CI token needs write access to the repository (GitHub: `permissions: contents: write`)",
        )

    def _add(self, sha: str, snapshot: str, blob: str | None) -> None:
        try:
            self.repo.git("notes", f"--ref={NOTES_REF}", "add", "--force", "--file=-", sha, input=snapshot)
            if blob is not None:
                self.repo.git("notes", f"--ref={PREDICTIONS_REF}", "add", "--force", "-C", blob, sha)
        except GitError as exc:
            raise BaselineError(f"git notes add {sha[:12]}", exc.what) from None
        self._notes = None


class CiArtifactStore:
    """The snapshot file (`baseline.json`) that the default branch's successful CI run uploaded.

    GitHub: `mlgate baseline save --to-file baseline.json` writes it and the workflow uploads it as the
    artifact `mlgate-baseline`. GitLab: the template's `mlgate:baseline` job keeps
    `mlgate-report/baseline.json`, which `mlgate run` writes on the default branch. A snapshot made on
    another commit than the one asked for is not used for it.
    """

    name = "ci-artifact"

    def __init__(
        self,
        forge: Literal["github", "gitlab"],
        api_url: str,
        repo: str,
        token: str | None,
        branch: str,
        warn: Warn,
        *,
        artifact: str | None = None,
        path: str | None = None,
        job_token: bool = False,
        timeout: float | None = None,
    ) -> None:
        """`artifact`: the GitHub artifact's name (default `mlgate-baseline`) or the GitLab job's
        (`mlgate:baseline`, as in templates/gitlab/mlgate.gitlab-ci.yml); `path`: the file in it (default
        `baseline.json` on GitHub, `mlgate-report/baseline.json` on GitLab); `job_token`: a GitLab
        CI_JOB_TOKEN (sent as JOB-TOKEN)."""
        from mlgate.artifacts import TIMEOUT_S, ArtifactClient, GitHubArtifacts, GitLabArtifacts

        seconds = timeout or TIMEOUT_S
        self.client: ArtifactClient
        if forge == "github":
            name = artifact or "mlgate-baseline"
            member = path or "baseline.json"
            self.client = GitHubArtifacts(
                api_url, repo, token, branch, warn, name=name, member=member, timeout=seconds
            )
        else:
            job, file = artifact or "mlgate:baseline", path or "mlgate-report/baseline.json"
            self.client = GitLabArtifacts(
                api_url, repo, token, branch, warn, job=job, path=file, job_token=job_token, timeout=seconds
            )
        self.warn = warn

    def load(self, sha: str) -> Baseline | None:
        found = self._baseline(lambda: self.client.file_for(sha))
        return found if found is not None and found.ref.sha == sha else None

    def load_latest(self) -> Baseline | None:
        """The newest snapshot the branch's CI kept, whichever commit it was made on (for a publisher that
        has no clone to walk the history with)."""
        return self._baseline(self.client.latest_file)

    def _baseline(self, fetch: Callable[[], bytes | None]) -> Baseline | None:
        from mlgate.artifacts import ArtifactError

        try:
            data = fetch()
        except ArtifactError as exc:
            raise BaselineError(
                f"baseline store ci-artifact ({self.client.where})", str(exc),
                hint="check the API URL and the network, or drop `ci-artifact` from baseline.stores",
            ) from None  # fmt: skip
        if data is None:
            return None
        try:
            metrics, params, ref, document = load_snapshot(data, store=self.name)
        except SnapshotError as exc:
            self.warn(f"baseline store ci-artifact: {self.client.where}: {exc}; trying the next store")
            return None
        return Baseline(metrics=metrics, params=params, ref=ref, data=data_sketch(document))


def _any_present(tree: FileTree, patterns: Sequence[str] | None) -> bool:
    """Whether a MetricsError came from a file the commit has, rather than from one it does not have yet.

    Found by the DVC layout (None), only files that exist are read, so every error is about one of them.
    """
    return patterns is None or any(tree.glob(pattern) for pattern in patterns)


def find_baseline(
    stores: Sequence[BaselineStore], repo: GitRepo, base_sha: str, max_distance: int
) -> Baseline | None:
    """The first baseline found, stores in order, each from `base_sha` back `max_distance` ancestors."""
    ancestors = repo.ancestors(base_sha, max_distance)
    for store in stores:
        for distance, sha in enumerate(ancestors):
            found = store.load(sha)
            if found is not None:
                return replace(found, ref=replace(found.ref, distance=distance))
    return None
