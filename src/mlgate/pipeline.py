"""From a checkout to a gate result: config, head metrics, base commit, baseline, comparison, verdicts.

Shared by `diff`, `report`, `explain`, `run` and `demo`, so they can never disagree about a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.baseline import (
    Baseline,
    BaselineStore,
    CiArtifactStore,
    CommittedFileStore,
    GitNotesStore,
    find_baseline,
)
from mlgate.comparison import compare
from mlgate.config import Config
from mlgate.configfile import LoadedConfig, find_config, load_config
from mlgate.console import Console
from mlgate.errors import MetricsError, UsageError
from mlgate.gate import evaluate
from mlgate.gitrepo import GitRepo
from mlgate.model import BaselineRef, Comparison, GateResult, MetricSet, Outcome, Params, Predictions
from mlgate.parquet import MissingPyarrowError
from mlgate.record import Record
from mlgate.tree import FileTree, GitTree, WorkTree

if TYPE_CHECKING:
    from mlgate.ci import CiContext
    from mlgate.confirm import Confirmation
    from mlgate.datacheck import DataReport
    from mlgate.noise import NoiseModel


class Evaluation(Record):
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
    noise: NoiseModel | None = None
    data: DataReport | None = None
    confirmation: Confirmation | None = None

    @property
    def config(self) -> Config:
        return self.loaded.config

    @property
    def data_checks(self) -> tuple[str, ...]:
        """The data-checks section of the report, as plain lines (the report escapes them)."""
        return tuple(self.data.lines()) if self.data is not None else ()

    @property
    def provenance(self) -> tuple[tuple[str, str], ...]:
        """Provenance facts beyond the comparison's: the confirmation re-run, the data checks' reference."""
        facts = [("Confirmation", self.confirmation.summary())] if self.confirmation else []
        if self.data is not None:
            data = self.data
            facts.append(
                ("Data reference", data.reference if data.skipped is None else f"none: {data.skipped}")
            )
        return tuple(facts)


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
    ci: CiContext | None = None,
    env: Mapping[str, str] | None = None,
    without_metrics: bool = False,
    confirm_env: Mapping[str, str] | None = None,
) -> Evaluation:
    """Compare the work tree (or commit `rev`) with the baseline at `base` (default: the merge-base).

    `ci` and `env` let the `ci-artifact` and `retrain` stores reach the forge and run the training; without
    them those stores are skipped. `without_metrics`: the head has none (a crashed training), so the
    report can still say what the baseline was and why the run failed. `confirm_env`: the environment of
    the confirmation re-run (`predictions.confirm`), which only the work tree gets; None never re-runs.
    """
    from mlgate.metrics import load_metrics, load_params, paths_to_read

    config = loaded.config
    head_sha = repo.resolve(rev) if rev else repo.head()
    head_tree: FileTree = WorkTree(repo.root)
    if rev:
        head_tree = GitTree(repo, head_sha)
        head_tree.preload(paths_to_read(config.metrics, config.params))
    metrics = MetricSet() if without_metrics else load_metrics(head_tree, config.metrics)
    for warning in metrics.warnings:
        console.warn(warning)
    params = load_params(head_tree, config.params)
    base_sha, base_label = _base_commit(repo, config, head_sha, base)
    baseline = find_baseline(
        _stores(repo, config, console, ci, env), repo, base_sha, config.baseline.max_distance
    )
    noise = _noise_model(head_tree, baseline, config, metrics, console)

    def judge(noise: NoiseModel | None) -> tuple[Comparison, GateResult]:
        comparison = compare(
            metrics,
            baseline.metrics if baseline else None,
            head_params=params,
            base_params=baseline.params if baseline else None,
            baseline=_with_eval_hash(baseline, noise),
            head_sha=head_sha,
            intervals=noise.intervals if noise else None,
            noise_note=noise.note if noise else None,
        )
        return comparison, evaluate(
            comparison, config.rules, strict=strict, if_missing=config.baseline.if_missing
        )

    comparison, gate = judge(noise)
    for warning in comparison.warnings:
        console.warn(warning)
    confirmation = None
    if confirm_env is not None and rev is None and baseline is not None:
        confirmed = _confirmed(repo, config, confirm_env, console, noise, gate, baseline)
        if confirmed is not None:
            from mlgate.confirm import describe_changes

            _, after = judge(confirmed[0])
            confirmation = describe_changes(confirmed[1], gate, after)
            noise = _noted(confirmed[0], confirmation)
            comparison, gate = judge(noise)
            console.info(f"mlgate: {confirmation.summary()}")
    data = _data_checks(repo, head_tree, baseline, config)
    if data is not None and data.failed and gate.outcome is not Outcome.FAIL:
        gate = replace(gate, outcome=Outcome.FAIL)
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
        noise=noise,
        data=data,
        confirmation=confirmation,
    )


def _noise_model(
    head_tree: FileTree, baseline: Baseline | None, config: Config, metrics: MetricSet, console: Console
) -> NoiseModel | None:
    """Paired intervals from head's and base's predictions, Welch's over the seeds of metrics with
    `repeats`; None without a baseline, or with neither `predictions:` nor repeats."""
    cfg = config.predictions
    seeds = _repeats(metrics, baseline.metrics) if baseline is not None else {}
    if baseline is None or (cfg is None and not seeds):
        return None
    from mlgate.noise import (
        DEFAULT_LEVEL,
        DEFAULT_SEED,
        compute_intervals,
    )  # NOTE: here: a plain diff stays light

    head, base, unpaired = _predictions(head_tree, baseline, config, console)
    values = {m.name: (_value(baseline.metrics, m.name), m.value) for m in metrics}
    level, seed = (cfg.look_level, cfg.seed) if cfg is not None else (DEFAULT_LEVEL, DEFAULT_SEED)
    model = compute_intervals(
        head, base, config.rules, values, level=level, seed=seed, repeats=seeds, unpaired=unpaired
    )
    for warning in model.warnings:
        console.warn(warning)
    return model


def _predictions(
    head_tree: FileTree, baseline: Baseline, config: Config, console: Console
) -> tuple[Predictions | None, Predictions | None, str | None]:
    """Head's and base's predictions, or (None, None, why not)."""
    cfg = config.predictions
    if cfg is None:
        return None, None, None
    from mlgate.metrics import load_predictions  # NOTE: here, so that a diff without predictions stays light

    base_tree, where = baseline.tree, f"the baseline ({baseline.ref.store}, {baseline.ref.sha[:12]})"
    if base_tree is None or not base_tree.exists(cfg.path):
        return None, None, f"{where} has no {cfg.path}"
    try:
        return load_predictions(head_tree, cfg), load_predictions(base_tree, cfg), None
    except MissingPyarrowError:
        raise
    except MetricsError as exc:
        console.warn(f"noise model skipped: {exc}")
        return None, None, f"{exc.where}: {exc.what}"


def _repeats(head: MetricSet, base: MetricSet) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    """(base seeds, head seeds) of each metric that either side's file gives several runs of."""
    found = {}
    for metric in head:
        other = base.get(metric.name)
        base_runs = other.repeats if other is not None else ()
        if metric.repeats or base_runs:
            found[metric.name] = (base_runs, metric.repeats)
    return found


def _confirmed(
    repo: GitRepo,
    config: Config,
    env: Mapping[str, str],
    console: Console,
    noise: NoiseModel | None,
    gate: GateResult,
    baseline: Baseline,
) -> tuple[NoiseModel, Confirmation] | None:
    """The noise model after a confirmation re-run, when `predictions.confirm` is set and one is needed."""
    cfg = config.predictions
    if cfg is None or cfg.confirm is None or noise is None or baseline.tree is None:
        return None
    from mlgate.confirm import confirm, inconclusive  # NOTE: here: most runs never re-run the evaluation
    from mlgate.metrics import load_predictions

    names = inconclusive(gate, noise)
    if not names:
        return None
    base = load_predictions(baseline.tree, cfg)
    return confirm(repo.root, config, env, console, noise, names, base)


def _noted(noise: NoiseModel, found: Confirmation) -> NoiseModel:
    if not found.pooled:
        return noise
    runs = len(found.seeds) + 1
    return replace(
        noise, note=f"{noise.note}; {', '.join(found.pooled)} pooled over {runs} runs (confirmation)"
    )


def _with_eval_hash(baseline: Baseline | None, noise: NoiseModel | None) -> BaselineRef | None:
    """The baseline's provenance, with its eval-set hash taken from its predictions when it stored none."""
    if baseline is None or baseline.ref.eval_hash or noise is None or noise.eval_hash is None:
        return baseline.ref if baseline else None
    return replace(baseline.ref, eval_hash=noise.eval_hash)


def _value(metrics: MetricSet, name: str) -> float | None:
    metric = metrics.get(name)
    return metric.value if metric is not None else None


def _data_checks(
    repo: GitRepo, head_tree: FileTree, baseline: Baseline | None, config: Config
) -> DataReport | None:
    """Schema and drift of head's `data.path` against the sketch stored with the baseline, or, when it has
    none (saved before snapshots stored one, or without `data:`), against the base commit's copy."""
    cfg = config.data
    if cfg is None:
        return None
    from mlgate import datacheck  # NOTE: here, so that a run without `data:` never loads it

    if not head_tree.exists(cfg.path):
        return datacheck.DataReport(skipped=f"{cfg.path} is not in the {head_tree.label}")
    if baseline is None:
        return datacheck.DataReport(skipped="no reference: no baseline")
    try:
        reference, label = _data_reference(repo, baseline, cfg.path)
        table = datacheck.load_table(head_tree, cfg.path)
    except MissingPyarrowError:
        raise
    except MetricsError as exc:
        return datacheck.DataReport(skipped=f"{exc.where}: {exc.what}")
    if reference is None:
        return datacheck.DataReport(skipped=label)
    drift = cfg.drift
    return datacheck.check(
        table, reference, method=drift.method, threshold=drift.warn, severity=cfg.severity.value, label=label
    )


def _data_reference(repo: GitRepo, baseline: Baseline, path: str) -> tuple[dict[str, Any] | None, str]:
    """The reference sketch and what it is; (None, why) when there is none."""
    from mlgate import datacheck
    from mlgate.datasketch import SketchError, decode_sketch

    ref = baseline.ref
    problem = ""
    if baseline.data is not None:
        try:
            return decode_sketch(
                baseline.data
            ), f"the snapshot stored with the baseline ({ref.store}, {ref.sha[:12]})"
        except SketchError as exc:
            problem = f" (the stored snapshot is not usable: {exc})"
    tree = baseline.tree if baseline.tree is not None and baseline.tree.exists(path) else None
    if tree is None and repo.try_git("cat-file", "-e", f"{ref.sha}:{path}") is not None:
        tree = GitTree(repo, ref.sha)
    if tree is None:
        return (
            None,
            f"no reference: the baseline stored no data snapshot and {ref.sha[:12]} has no {path}{problem}",
        )
    return datacheck.snapshot(
        datacheck.load_table(tree, path)
    ), f"the base commit's copy ({ref.sha[:12]}){problem}"


def _base_commit(repo: GitRepo, config: Config, head_sha: str, base: str | None) -> tuple[str, str]:
    if base is not None:
        return repo.resolve(base, given_as="--base"), base
    branch = config.baseline.branch
    return repo.merge_base(head_sha, branch), branch


def _stores(
    repo: GitRepo, config: Config, console: Console, ci: CiContext | None, env: Mapping[str, str] | None
) -> list[BaselineStore]:
    """The configured stores, in order; one that cannot work here is skipped with the reason (-v)."""
    stores: list[BaselineStore] = []
    for name in config.baseline.stores:
        store = _store(name, repo, config, console, ci, env)
        if store is None:
            console.debug(f"baseline store {name}: not available here (no CI forge or environment); skipped")
        else:
            stores.append(store)
    return stores


def _store(
    name: str,
    repo: GitRepo,
    config: Config,
    console: Console,
    ci: CiContext | None,
    env: Mapping[str, str] | None,
) -> BaselineStore | None:
    if name == "committed":
        return CommittedFileStore(repo, config.metrics, config.params, console.warn)
    if name == "git-notes":
        return GitNotesStore(repo, console.warn)
    if name == "retrain":
        from mlgate.retrain import RetrainStore  # NOTE: here: it imports datetime and the snapshot writer

        return RetrainStore(repo, config, env, console) if env is not None else None
    if ci is None or ci.forge not in ("github", "gitlab") or not (ci.api_url and ci.repo):
        return None
    job_token = ci.token_source == "CI_JOB_TOKEN"
    return CiArtifactStore(
        ci.forge, ci.api_url, ci.repo, ci.token, config.baseline.branch, console.warn, job_token=job_token
    )
