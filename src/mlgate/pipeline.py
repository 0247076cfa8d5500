"""From a checkout to a gate result: config, head metrics, base commit, baseline, comparison, verdicts.

Shared by `diff`, `report`, `explain`, `run` and `demo`, so they can never disagree about a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.baseline import Baseline, BaselineStore, CommittedFileStore, GitNotesStore, find_baseline
from mlgate.comparison import compare
from mlgate.config import Config, LoadedConfig, find_config, load_config
from mlgate.console import Console
from mlgate.errors import UsageError
from mlgate.gate import evaluate
from mlgate.gitrepo import GitRepo
from mlgate.model import Comparison, GateResult, MetricSet, Params
from mlgate.tree import FileTree, GitTree, WorkTree


@dataclass(frozen=True)
class Evaluation:
    """Everything a report or a diff is made from."""

    loaded: LoadedConfig
    repo: GitRepo
    head_tree: FileTree
    head_label: str
    head_sha: str
    base_sha: str
    base_label: str
    metrics: MetricSet
    params: Params
    baseline: Baseline | None
    comparison: Comparison
    gate: GateResult

    @property
    def config(self) -> Config:
        return self.loaded.config


def load_effective_config(
    cwd: Path, config_path: str | None, env: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> LoadedConfig:
    """`--config PATH`, else `.mlgate.yml` at the repository top (or cwd), else the defaults."""
    if config_path is not None:
        path = Path(config_path) if Path(config_path).is_absolute() else cwd / config_path
        if not path.is_file():
            raise UsageError(f"--config {config_path}", "no such file")
        return load_config(path, env, overrides)
    return load_config(find_config(cwd), env, overrides)


def evaluate_checkout(
    repo: GitRepo,
    loaded: LoadedConfig,
    console: Console,
    *,
    rev: str | None = None,
    base: str | None = None,
    strict: bool = False,
) -> Evaluation:
    """Compare the work tree (or commit `rev`) with the baseline at `base` (default: the merge-base)."""
    from mlgate.metrics import load_metrics, load_params

    config = loaded.config
    head_sha = repo.resolve(rev) if rev else repo.head()
    head_tree: FileTree = GitTree(repo.root, head_sha) if rev else WorkTree(repo.root)
    metrics = load_metrics(head_tree, config.metrics)
    for warning in metrics.warnings:
        console.warn(warning)
    params = load_params(head_tree, config.params)
    base_sha, base_label = _base_commit(repo, config, head_sha, base)
    baseline = find_baseline(_stores(repo, config, console), repo, base_sha, config.baseline.max_distance)
    comparison = compare(
        metrics,
        baseline.metrics if baseline else None,
        head_params=params,
        base_params=baseline.params if baseline else None,
        baseline=baseline.ref if baseline else None,
        head_sha=head_sha,
        noise_note=None,
    )
    gate = evaluate(comparison, config.rules, strict=strict, if_missing=config.baseline.if_missing)
    return Evaluation(
        loaded=loaded,
        repo=repo,
        head_tree=head_tree,
        head_label=rev or "workspace",
        head_sha=head_sha,
        base_sha=base_sha,
        base_label=base_label,
        metrics=metrics,
        params=params,
        baseline=baseline,
        comparison=comparison,
        gate=gate,
    )


def _base_commit(repo: GitRepo, config: Config, head_sha: str, base: str | None) -> tuple[str, str]:
    if base is not None:
        return repo.resolve(base), base
    branch = config.baseline.branch
    return repo.merge_base(head_sha, branch), branch


def _stores(repo: GitRepo, config: Config, console: Console) -> list[BaselineStore]:
    stores: list[BaselineStore] = []
    for name in config.baseline.stores:
        if name == "committed":
            stores.append(CommittedFileStore(repo, config.metrics, config.params, console.warn))
        elif name == "git-notes":
            stores.append(GitNotesStore(repo, console.warn))
        else:
            console.debug(f"baseline store {name}: not available in this command; skipped")
    return stores
