"""The confirmation re-run (`predictions.confirm`): when a gated metric is INCONCLUSIVE, run the evaluation
again with other seeds and judge that metric on the pooled evidence of every run.

The re-runs go through the configured training backend with `seed_env` (default `MLGATE_SEED`) set to 1, 2,
…; after each one the predictions file is read back, and when they are done the first run's predictions and
metrics files are put back in place, so the report, the plots and a saved baseline show the run that was
gated. Only `mlgate run` and `mlgate explain` on the work tree confirm; `diff` and `report` never run code.

NOTE (why this is sound, and what it cannot do). The interval of the noise model covers the sampling noise
of a finite eval set, given the predictions. A re-run on the same eval set adds no examples, so it can only
help where the evaluation itself is random (dropout or sampling at test time, augmentation, a seeded
subsample of an ensemble). Pooling averages each example's term (correct or not, loss, squared error) over
the runs and bootstraps the examples once for all runs (seeds.pooled_interval): it estimates the head's
expected metric over seeds and keeps the runs' shared examples correlated. A deterministic evaluation gives
back the same interval, and the report says so. Metrics that are not means of per-example terms
(precision, recall, F1, ROC AUC) do not pool and keep the first run's interval. Looking twice at the data
would double the chance of a wrong decision (union bound), so with `confirm` set each look is made at half
the error budget (`PredictionsConfig.look_level`: 97.5 % instead of 95 %); a wrong decision then needs one
of the two intervals to miss, at most 5 % in all. The base side stays one run: its own seed noise is part
of the per-example spread, not averaged away.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.config import Config, ConfirmConfig, PredictionsConfig
from mlgate.console import Console
from mlgate.errors import MetricsError
from mlgate.gate import infer_direction, match_rule
from mlgate.model import Direction, GateResult, GateRule, Interval, Predictions, Verdict
from mlgate.noise import RESAMPLES, NoiseModel, PairingError, pair, stat_metric
from mlgate.record import Record
from mlgate.seeds import POOLED_METRICS, pooled_interval
from mlgate.stats import DeltaInterval, StatsError
from mlgate.tree import WorkTree

if TYPE_CHECKING:
    import numpy as np

CONFIRM_LOG = Path(".mlgate") / "confirm-{seed}.log"


class Confirmation(Record):
    """What the confirmation did: the seeds that ran, each metric's verdict before → after, and problems."""

    seed_env: str
    seeds: tuple[int, ...] = ()
    pooled: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    deterministic: bool = False

    def summary(self) -> str:
        seeds = ", ".join(map(str, self.seeds))
        runs = f"{len(self.seeds)} re-run{'s' * (len(self.seeds) != 1)}"
        text = f"confirmation: {runs} ({self.seed_env}={seeds})" if self.seeds else "confirmation: no re-run"
        if self.pooled:
            text += f", {', '.join(self.pooled)} judged on {len(self.seeds) + 1} runs pooled"
        if self.changes:
            text += f": {'; '.join(self.changes)}"
        if self.deterministic:
            text += f"; the re-runs gave the first run's predictions ({self.seed_env} changes nothing)"
        return f"{text}; {'; '.join(self.problems)}" if self.problems else text


def inconclusive(gate: GateResult, noise: NoiseModel | None) -> list[str]:
    """The gated metrics whose interval straddles −m: what a confirmation re-judges."""
    if noise is None:
        return []
    return [
        r.name
        for r in gate.results
        if r.gated
        and r.verdict is Verdict.INCONCLUSIVE
        and r.name in noise.raw
        and r.name not in noise.seeded
    ]  # NOTE: a re-run adds a head run, not seeds on both sides: a Welch interval over seeds stays as it is


def confirm(
    root: Path,
    config: Config,
    env: Mapping[str, str],
    console: Console,
    noise: NoiseModel,
    names: Sequence[str],
    base: Predictions,
) -> tuple[NoiseModel, Confirmation]:
    """Re-run the evaluation and pool; the noise model with the pooled intervals of `names`."""
    cfg, settings = _settings(config)
    first = _load(WorkTree(root), cfg)
    runs, seeds, problems = rerun(root, config, env, console)
    found = Confirmation(settings.seed_env, tuple(seeds), problems=tuple(problems))
    if not runs:
        return noise, found
    intervals, raw, pooled = dict(noise.intervals), dict(noise.raw), []
    for name in names:
        result = _pooled(name, [first, *runs], base, noise.raw[name], cfg.seed)
        if isinstance(result, str):
            problems.append(f"{name}: {result}; the first run's interval stands")
            continue
        raw[name] = result
        intervals[name] = _oriented(name, result, config.rules)
        pooled.append(name)
    same = all(_same(first, run) for run in runs)
    found = replace(found, pooled=tuple(pooled), problems=tuple(problems), deterministic=same)
    return replace(noise, intervals=intervals, raw=raw), found


def describe_changes(found: Confirmation, before: GateResult, after: GateResult) -> Confirmation:
    """`found` with each pooled metric's verdict before → after the confirmation."""
    changes = []
    for name in found.pooled:
        old, new = before.get(name), after.get(name)
        if old is not None and new is not None:
            changes.append(f"{name} {old.verdict.value} → {new.verdict.value}")
    return replace(found, changes=tuple(changes))


def rerun(
    root: Path, config: Config, env: Mapping[str, str], console: Console
) -> tuple[list[Predictions], list[int], list[str]]:
    """Each re-run's predictions, the seeds that completed, and the problems; the first run's files are
    put back afterwards."""
    cfg, settings = _settings(config)
    command = settings.command or config.train.command
    if not command:
        return [], [], ["no predictions.confirm.command and no train.command to re-run"]
    tree, kept = WorkTree(root), _keep(WorkTree(root), config)
    runs: list[Predictions] = []
    seeds: list[int] = []
    problems: list[str] = []
    try:
        for seed in range(1, settings.runs + 1):
            problem = _run_once(root, config, command, seed, env, console)
            if problem is None:
                try:
                    runs.append(_load(tree, cfg))
                    seeds.append(seed)
                    continue
                except MetricsError as exc:
                    problem = str(exc)
            problems.append(f"re-run {settings.seed_env}={seed}: {problem}")
            break
    finally:
        for path, data in kept.items():
            (root / path).write_bytes(data)
    return runs, seeds, problems


def _run_once(
    root: Path, config: Config, command: str, seed: int, env: Mapping[str, str], console: Console
) -> str | None:
    """One re-run through the configured backend; None when it succeeded, else how it failed."""
    from mlgate.training import TrainSpec, describe_failure, training_env
    from mlgate.training.backends import backend_for

    _, settings = _settings(config)
    console.info(f"mlgate: confirming an inconclusive result: re-run {seed} of {settings.runs}")
    spec = TrainSpec(
        command=command,
        cwd=root,
        env=training_env(env, {**config.train.env, settings.seed_env: str(seed)}),
        timeout_s=settings.timeout or config.train.timeout,
        log_path=root / str(CONFIRM_LOG).format(seed=seed),
        gpus=config.train.gpus,
        runner_env=env,
    )
    record = backend_for(config.train, env).run(spec, console)
    return None if record.ok else describe_failure(record)


def _settings(config: Config) -> tuple[PredictionsConfig, ConfirmConfig]:
    cfg = config.predictions
    if cfg is None or cfg.confirm is None:
        raise ValueError("no predictions.confirm")  # the callers check first: a bug if reached
    return cfg, cfg.confirm


def _keep(tree: WorkTree, config: Config) -> dict[str, bytes]:
    """The first run's predictions and configured metrics files, to put back after the re-runs."""
    from mlgate.metrics import expand

    assert config.predictions is not None
    paths = [config.predictions.path]
    with contextlib.suppress(MetricsError):  # a missing metrics file is the gate's business, not ours
        paths += expand(tree, config.metrics or [])
    return {path: tree.read_bytes(path) for path in paths if tree.exists(path)}


def _load(tree: WorkTree, cfg: PredictionsConfig) -> Predictions:
    from mlgate.metrics import load_predictions

    return load_predictions(tree, cfg)


def _pooled(
    name: str, runs: Sequence[Predictions], base: Predictions, first: DeltaInterval, seed: int
) -> DeltaInterval | str:
    stat = stat_metric(name)
    if stat not in POOLED_METRICS:
        return f"{stat} is not a mean of per-example terms, so runs do not pool"
    try:
        sides = [_aligned(stat, base, run) for run in runs]
        return pooled_interval(stat, sides, level=first.level, resamples=RESAMPLES, seed=seed)
    except (PairingError, StatsError) as exc:
        return str(exc)


def _aligned(stat: str, base: Predictions, run: Predictions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y_true, run, base) in the base's row order, so that every run lines up on the same examples."""
    paired = pair(base, run)  # NOTE: roles swapped on purpose: `head` is the base here, `base` the run
    if stat != "log_loss":
        return paired.y_true, paired.base, paired.head
    if paired.head_score is None or paired.base_score is None:
        raise StatsError("log_loss needs predictions.columns.score in every run")
    return paired.y_true, paired.base_score, paired.head_score


def _oriented(name: str, raw: DeltaInterval, rules: Sequence[GateRule]) -> Interval:
    rule = match_rule(name, rules)
    direction = (rule.direction if rule else None) or infer_direction(name)
    return raw.to_interval(higher_is_better=direction is Direction.HIGHER)


def _same(first: Predictions, run: Predictions) -> bool:
    import numpy as np

    scores = first.score is None or run.score is None or np.array_equal(first.score, run.score)
    return bool(np.array_equal(first.y_pred, run.y_pred)) and bool(scores)
