"""The confirmation re-run's pure parts: pooling runs (seeds.pooled_interval), its config, its summary."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate import seeds, stats
from mlgate.configschema import validate
from mlgate.confirm import Confirmation

ROWS = 3000


def _runs(k: int, flip: float) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, ROWS)
    base = np.where(rng.random(ROWS) < 0.8, y, 1 - y)
    heads = [np.where(rng.random(ROWS) < flip, 1 - base, base) for _ in range(k)]
    return y, heads, base


def test_pooled_interval_is_the_one_run_interval_when_the_evaluation_is_deterministic() -> None:
    y, heads, base = _runs(1, 0.1)
    one = seeds.pooled_interval("accuracy", [(y, heads[0], base)], level=0.9)
    same = seeds.pooled_interval("accuracy", [(y, heads[0], base)] * 4, level=0.9)
    assert (same.low, same.high, same.head) == (one.low, one.high, one.head)
    assert same.method.endswith("pooled over 4 runs")
    exact = stats.paired_interval("accuracy", y, heads[0], base, level=0.9)
    assert one.estimate == pytest.approx(exact.estimate)
    assert one.high - one.low == pytest.approx(exact.high - exact.low, rel=0.15)


def test_pooled_interval_narrows_and_averages_the_head_when_runs_disagree() -> None:
    y, heads, base = _runs(5, 0.2)
    one = seeds.pooled_interval("accuracy", [(y, heads[0], base)])
    pooled = seeds.pooled_interval("accuracy", [(y, h, base) for h in heads])
    assert pooled.high - pooled.low < 0.8 * (one.high - one.low)
    assert pooled.head == pytest.approx(np.mean([np.mean(h == y) for h in heads]))
    assert pooled.base == pytest.approx(float(np.mean(base == y)))


def test_pooled_interval_averages_squared_errors_when_the_metric_is_rmse() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=500)
    base, heads = y + rng.normal(0, 1, 500), [y + rng.normal(0, 1, 500) for _ in range(3)]
    pooled = seeds.pooled_interval("rmse", [(y, h, base) for h in heads])
    expected = np.sqrt(np.mean([np.mean((h - y) ** 2) for h in heads]))
    assert pooled.head == pytest.approx(expected)


@pytest.mark.parametrize(
    ("metric", "runs", "message"),
    [
        ("roc_auc", 1, "does not pool"),
        ("f1", 1, "does not pool"),
        ("accuracy", 0, "at least one run"),
    ],
)
def test_pooled_interval_refuses_when_the_metric_or_the_runs_cannot_pool(
    metric: str, runs: int, message: str
) -> None:
    y, heads, base = _runs(1, 0.1)
    with pytest.raises(stats.StatsError, match=message):
        seeds.pooled_interval(metric, [(y, heads[0], base)] * runs)
    with pytest.raises(stats.StatsError, match="same rows"):
        seeds.pooled_interval("accuracy", [(y, heads[0], base), (y[:10], heads[0][:10], base[:10])])


def test_confirm_config_halves_the_error_budget_of_each_look_when_it_is_set() -> None:
    plain = validate({"predictions": {"path": "p.csv"}})
    confirmed = validate({"predictions": {"path": "p.csv", "confirm": {"runs": 3, "timeout": "5m"}}})
    assert plain.predictions is not None
    assert confirmed.predictions is not None
    assert confirmed.predictions.confirm is not None
    assert plain.predictions.look_level == 0.95
    assert confirmed.predictions.look_level == pytest.approx(0.975)
    assert (confirmed.predictions.confirm.seed_env, confirmed.predictions.confirm.timeout) == (
        "MLGATE_SEED",
        300.0,
    )
    with pytest.raises(ValueError, match="less than or equal to 10"):
        validate({"predictions": {"path": "p.csv", "confirm": {"runs": 11}}})


def test_summary_says_what_ran_and_what_changed_when_a_confirmation_pooled_runs() -> None:
    found = Confirmation("SEED", (1, 2), ("acc",), ("acc inconclusive → unchanged",))
    assert found.summary() == (
        "confirmation: 2 re-runs (SEED=1, 2), acc judged on 3 runs pooled: acc inconclusive → unchanged"
    )
    failed = Confirmation("SEED", problems=("re-run SEED=1: training exited with code 1",))
    assert failed.summary() == "confirmation: no re-run; re-run SEED=1: training exited with code 1"
    same = Confirmation("SEED", (1,), ("acc",), deterministic=True)
    assert same.summary().endswith("the re-runs gave the first run's predictions (SEED changes nothing)")
