"""The noise model: pairing head and base predictions, refusing different eval sets, per-metric intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mlgate import seeds
from mlgate.model import Direction, GateRule, Predictions
from mlgate.noise import compute_intervals, pair, stat_metric
from mlgate.stats import paired_interval

N = 600
RULES = [
    GateRule("eval.accuracy", abs=0.01),
    GateRule("eval.log_loss", abs=0.01),
    GateRule("*", Direction.NEUTRAL),
]


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    score_h = np.clip(0.3 * y + 0.7 * rng.random(N), 0.01, 0.99)
    score_b = np.clip(0.25 * y + 0.75 * rng.random(N), 0.01, 0.99)
    return y, (score_h > 0.5).astype(np.int64), (score_b > 0.5).astype(np.int64), score_h, score_b


def preds(y: np.ndarray, pred: np.ndarray, score: np.ndarray | None = None, **kw: object) -> Predictions:
    ids = kw.pop("ids", np.array([f"r{i}" for i in range(len(y))], dtype=object))
    labels = kw.pop("labels", ("0", "1"))
    digest = kw.pop("digest", "same")
    return Predictions("classification", y, pred, "p.csv", digest, ids, score, labels)  # type: ignore[arg-type]


def values(y: np.ndarray, head: np.ndarray, base: np.ndarray) -> dict[str, tuple[float | None, float | None]]:
    return {"eval.accuracy": (float(np.mean(y == base)), float(np.mean(y == head)))}


def test_accuracy_interval_equals_stats_when_head_and_base_share_ids() -> None:
    y, h, b, _, _ = data()
    model = compute_intervals(preds(y, h), preds(y, b), RULES, values(y, h, b))
    expected = paired_interval("accuracy", y, h, b, seed=0)
    interval = model.intervals["eval.accuracy"]
    assert (interval.low, interval.high) == (expected.low, expected.high)
    assert interval.level == 0.95
    assert "paired on 600 examples (matched by id)" in model.note
    assert model.eval_hash == "same"


def test_base_rows_are_joined_on_id_when_their_order_differs() -> None:
    y, h, b, _, _ = data()
    perm = np.random.default_rng(1).permutation(N)
    ids = np.array([f"r{i}" for i in range(N)], dtype=object)
    shuffled = preds(y[perm], b[perm], ids=ids[perm], digest="other order")
    model = compute_intervals(preds(y, h), shuffled, RULES, values(y, h, b))
    expected = paired_interval("accuracy", y, h, b, seed=0)
    assert model.intervals["eval.accuracy"].low == expected.low
    assert "base rows in another order" in model.note


def test_loss_interval_is_negated_when_lower_is_better() -> None:
    y, h, b, sh, sb = data()
    losses = (skm.log_loss(y, sb), skm.log_loss(y, sh))
    model = compute_intervals(preds(y, h, sh), preds(y, b, sb), RULES, {"eval.log_loss": losses})
    raw = model.raw["eval.log_loss"]
    assert raw.head == pytest.approx(losses[1], rel=1e-12)
    assert model.intervals["eval.log_loss"].low == -raw.high
    assert model.intervals["eval.log_loss"].high == -raw.low


def test_gated_metrics_share_the_error_budget_when_several_get_intervals() -> None:
    y, h, b, sh, sb = data()
    files = {**values(y, h, b), "eval.log_loss": (skm.log_loss(y, sb), skm.log_loss(y, sh))}
    model = compute_intervals(preds(y, h, sh), preds(y, b, sb), RULES, files)
    assert model.gated == 2
    assert [i.level for i in model.intervals.values()] == pytest.approx([0.975, 0.975])
    assert "Bonferroni: 97.5 % each" in model.note


def test_different_eval_set_disables_the_paired_test_when_labels_differ() -> None:
    y, h, b, _, _ = data()
    y2 = y.copy()
    y2[:7] = 1 - y2[:7]
    model = compute_intervals(preds(y, h), preds(y2, b, digest="changed"), RULES, values(y, h, b))
    assert model.intervals == {}
    assert "the eval set changed: y_true differs on 7 of 600 examples" in model.note
    assert "no paired test" in model.note


@pytest.mark.parametrize(
    ("head_ids", "base_ids", "message"),
    [
        (["a", "b", "c"], ["a", "b", "d"], "1 ids only in head, 1 only in base (e.g. 'c')"),
        (["a", "b", "b"], ["a", "b", "c"], "head predictions repeat id 'b'"),
        (["a", "b", "c"], ["c", "c", "a"], "base predictions repeat id 'c'"),
    ],
)
def test_mismatched_or_duplicate_ids_are_refused_with_a_clear_message(
    head_ids: list[str], base_ids: list[str], message: str
) -> None:
    y = np.array([0, 1, 1])
    head = preds(y, y, ids=np.array(head_ids, dtype=object), digest="h")
    base = preds(y, y, ids=np.array(base_ids, dtype=object), digest="b")
    model = compute_intervals(head, base, RULES, {"eval.accuracy": (1.0, 1.0)})
    assert model.intervals == {}
    assert message in model.note
    assert model.note.startswith("no noise model: ")


def test_rows_are_paired_in_order_with_a_warning_when_there_are_no_ids() -> None:
    y, h, b, _, _ = data()
    model = compute_intervals(preds(y, h, ids=None), preds(y, b, ids=None), RULES, values(y, h, b))
    assert "eval.accuracy" in model.intervals
    assert model.warnings == (
        "noise model: matched by row order: no id column, so rows must be in the same order",
    )


def test_metric_the_predictions_do_not_reproduce_gets_no_interval_when_files_disagree() -> None:
    y, h, b, _, _ = data()
    model = compute_intervals(preds(y, h), preds(y, b), RULES, {"train.accuracy": (0.99, 0.98)})
    assert model.intervals == {}
    assert "train.accuracy: the predictions give" in model.note
    assert "not the same evaluation" in model.note


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one class", "ROC AUC needs labels 0/1 with ≥ 2 of each"),
        ("nan score", "holds NaN"),
        ("no score", "roc_auc needs predictions.columns.score on both sides"),
    ],
)
def test_degenerate_input_falls_back_to_tolerances_with_the_reason(case: str, message: str) -> None:
    y, h, b, sh, sb = data()
    if case == "one class":
        y, h, b = np.zeros(N, np.int64), np.zeros(N, np.int64), np.zeros(N, np.int64)
    if case == "nan score":
        sh = sh.copy()
        sh[3] = math.nan
    scores = (None, None) if case == "no score" else (sh, sb)
    files = {**values(y, h, b), "eval.roc_auc": (0.7, 0.7)}
    model = compute_intervals(preds(y, h, scores[0]), preds(y, b, scores[1]), RULES, files)
    assert "eval.accuracy" in model.intervals, "the other metrics keep their intervals"
    assert "eval.roc_auc" not in model.intervals
    assert message in model.note


def test_one_row_is_too_few_for_a_noise_model() -> None:
    one = preds(np.array([1]), np.array([1]))
    model = compute_intervals(one, one, RULES, {"eval.accuracy": (1.0, 1.0)})
    assert model.intervals == {}
    assert "1 example is too few to estimate noise" in model.note


def test_classes_are_encoded_alike_when_the_sides_saw_different_labels() -> None:
    y = np.array([0, 1, 0, 1])  # head labels (b, c); base also predicts "a"
    head = preds(y, np.array([0, 1, 1, 1]), labels=("b", "c"))
    base = preds(y + 1, np.array([1, 2, 0, 2]), labels=("a", "b", "c"), digest="other")
    paired = pair(head, base)
    assert paired.y_true.tolist() == [1, 2, 1, 2]
    assert paired.head.tolist() == [1, 2, 2, 2]
    assert paired.base.tolist() == [1, 2, 0, 2]


@pytest.mark.parametrize(
    ("name", "stat"),
    [("eval.accuracy", "accuracy"), ("ACC", "accuracy"), ("test.AUC", "roc_auc"), ("val.rmse", "rmse"),
     ("eval.val_accuracy", None), ("loss", None)],
)  # fmt: skip
def test_metric_names_map_to_statistics_by_their_last_segment(name: str, stat: str | None) -> None:
    assert stat_metric(name) == stat


SEEDS = {"eval.f1_macro_seeds": ((0.80, 0.81, 0.82), (0.78, 0.79, 0.80))}  # (base, head): no paired statistic


def test_seeded_metric_gets_welch_and_shares_the_budget_when_predictions_pair_another() -> None:
    y, h, b, _, _ = data()
    rules = [GateRule("eval.f1_macro_seeds", Direction.HIGHER, abs=0.01), *RULES]
    model = compute_intervals(preds(y, h), preds(y, b), rules, values(y, h, b), repeats=SEEDS)
    assert model.gated == 2
    assert model.seeded == ("eval.f1_macro_seeds",)
    welch = seeds.welch_interval(
        SEEDS["eval.f1_macro_seeds"][1], SEEDS["eval.f1_macro_seeds"][0], level=0.975
    )
    interval = model.intervals["eval.f1_macro_seeds"]
    assert (interval.low, interval.high, interval.level) == (welch.low, welch.high, 0.975)
    assert model.intervals["eval.accuracy"].level == 0.975
    assert "; Welch t over 3 + 3 seeds for eval.f1_macro_seeds" in model.note


def test_paired_interval_wins_over_seeds_when_both_exist() -> None:
    y, h, b, _, _ = data()
    repeats = {"eval.accuracy": ((0.8, 0.81), (0.7, 0.71))}
    model = compute_intervals(preds(y, h), preds(y, b), RULES, values(y, h, b), repeats=repeats)
    assert model.seeded == ()
    assert model.intervals["eval.accuracy"].method.startswith("paired bootstrap")


def test_seeds_alone_give_a_noise_model_when_there_are_no_predictions() -> None:
    rules = [GateRule("eval.loss", Direction.LOWER, abs=0.01)]
    repeats = {"eval.loss": ((0.40, 0.41, 0.42), (0.30, 0.31, 0.32))}
    model = compute_intervals(None, None, rules, {}, repeats=repeats)
    interval = model.intervals["eval.loss"]
    assert (interval.low, interval.high) == pytest.approx((0.1 - 0.0227, 0.1 + 0.0227), abs=1e-3)  # negated
    assert model.note.startswith("Welch t over 3 + 3 seeds for eval.loss; 95 % confidence; no paired test:")
    assert model.eval_hash is None


def test_one_sided_seeds_leave_the_metric_to_its_tolerances_with_the_reason() -> None:
    model = compute_intervals(None, None, RULES, {}, repeats={"eval.accuracy": ((), (0.8, 0.81))})
    assert model.intervals == {}
    assert "eval.accuracy: seeds: Welch needs ≥ 2 finite values per side, got 2 head and 0 base" in model.note
    assert model.note.endswith("; tolerances only")
