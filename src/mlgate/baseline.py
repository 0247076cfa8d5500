"""Baselines: the `BaselineStore` Protocol, its stores, and the walk back from the merge-base to find one.

Stores are tried in the configured order; each looks at the merge-base and up to `max_distance` first-parent
ancestors, nearest first. A store that holds nothing for a commit returns None; a damaged entry is a warning
and the next store is tried. Finding no baseline is a result (NO_BASELINE), not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from mlgate.errors import MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.model import BaselineRef, MetricSet, Params
from mlgate.tree import FileTree, GitTree


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
