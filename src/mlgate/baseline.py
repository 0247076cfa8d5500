"""Baselines: the `BaselineStore` Protocol, its stores, and the walk back from the merge-base to find one.

Stores are tried in the configured order; each looks at the merge-base and up to `max_distance` first-parent
ancestors, nearest first. A store that holds nothing for a commit returns None; a damaged entry is a warning
and the next store is tried. Finding no baseline is a result (NO_BASELINE), not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from mlgate.errors import BaselineError, GitError, MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.model import BaselineRef, MetricSet, Params
from mlgate.snapshot import SnapshotError, load_snapshot
from mlgate.tree import FileTree, GitTree

NOTES_REF = "refs/notes/mlgate"
PUSH_ATTEMPTS = 5


@dataclass(frozen=True)
class Baseline:
    """The base side of a comparison and where it came from; `tree` reads the base's files, if any."""

    metrics: MetricSet
    params: Params
    ref: BaselineRef
    tree: FileTree | None = None


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
        from mlgate.metrics import load_metrics, load_params

        tree = GitTree(self.repo.root, sha)
        try:
            metrics = load_metrics(tree, self.metrics)
        except MetricsError as exc:
            if _any_present(tree, self.metrics):
                self.warn(f"baseline store committed: {exc}; ignored")
            return None
        if not len(metrics):
            return None
        try:
            params = load_params(tree, self.params)
        except MetricsError as exc:
            self.warn(f"baseline store committed: {exc}; params ignored")
            params = Params()
        ref = BaselineRef(store=self.name, sha=sha, saved_at=self.repo.commit_date(sha))
        return Baseline(metrics=metrics, params=params, ref=ref, tree=tree)


class GitNotesStore:
    """One JSON snapshot per commit under `refs/notes/mlgate`, fetched from and pushed to `remote`.

    A concurrent writer makes our push non-fast-forward: we then take the remote's notes, re-apply our one
    note on top and push again, so snapshots of different commits all survive and, for the same commit, the
    later writer wins with valid JSON. Two JSON documents are never merged into one note.
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
        """Bring the remote's notes ref here (a remote without the ref is fine); False when it failed."""
        if self.remote is None:
            return False
        refspec = f"+{NOTES_REF}:{NOTES_REF}"
        return self.repo.try_git("fetch", "--quiet", "--no-tags", self.remote, refspec) is not None

    def load(self, sha: str) -> Baseline | None:
        blob = self.noted_commits().get(sha)
        if blob is None:
            return None
        text = self.repo.git("cat-file", "blob", blob)
        try:
            metrics, params, ref, _ = load_snapshot(text, store=self.name)
        except SnapshotError as exc:
            self.warn(f"baseline store git-notes: note on {sha[:12]}: {exc}; trying the next store")
            return None
        return Baseline(metrics=metrics, params=params, ref=replace(ref, sha=sha))

    def save(self, sha: str, snapshot: str) -> None:
        """Write the note for `sha` and push it, re-applying it over a concurrent writer's notes."""
        self._add(sha, snapshot)
        if self.remote is None:
            return
        for _ in range(PUSH_ATTEMPTS):
            if self.repo.try_git("push", "--quiet", self.remote, f"{NOTES_REF}:{NOTES_REF}") is not None:
                return
            if not self.fetch():
                break
            self._add(sha, snapshot)
        raise BaselineError(
            f"git push {self.remote} {NOTES_REF}",
            "rejected",
            hint="the CI token needs write access to the repository (GitHub: `permissions: contents: write`)",
        )

    def _add(self, sha: str, snapshot: str) -> None:
        try:
            self.repo.git("notes", f"--ref={NOTES_REF}", "add", "--force", "--file=-", sha, input=snapshot)
        except GitError as exc:
            raise BaselineError(f"git notes add {sha[:12]}", exc.what) from None
        self._notes = None


def _any_present(tree: FileTree, patterns: Sequence[str] | None) -> bool:
    return patterns is not None and any(tree.glob(pattern) for pattern in patterns)


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
