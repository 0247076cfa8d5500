"""The noise model: head and base predictions paired on one eval set → per-metric intervals of the gain.

`compute_intervals` joins the two sides on `id` (row order, with a warning, when there are no ids), refuses
to pair two different eval sets, maps each metric to the statistic it names (`eval.accuracy` → accuracy),
checks that the predictions reproduce the value in the metrics file, and computes the interval of Δ with
`mlgate.stats`, oriented so that higher is better, at a Bonferroni-shared confidence level. A metric with no
paired interval whose metrics files hold several seeds on both sides (`repeats`) gets Welch's t interval of
the seeds' means instead (`mlgate.seeds`), in the same Bonferroni family. Every reason a metric gets no
interval is said in the note; that metric is then judged by its tolerances. numpy is imported inside the
functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING

from mlgate.gate import infer_direction, match_rule
from mlgate.model import Direction, GateRule, Interval, Predictions, format_number
from mlgate.record import Record
from mlgate.seeds import welch_interval
from mlgate.stats import COUNT_METRICS, DeltaInterval, StatsError, bonferroni_level, paired_interval

if TYPE_CHECKING:
    import numpy as np

DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0
RESAMPLES = 2000
FileValues = Mapping[str, tuple[float | None, float | None]]  # metric name → (base, head) from the files
Repeats = Mapping[str, tuple[Sequence[float], Sequence[float]]]  # metric name → (base seeds, head seeds)

# fmt: off
_STATS = {
    "accuracy": "accuracy", "acc": "accuracy", "precision": "precision", "recall": "recall", "f1": "f1",
    "f1_score": "f1", "roc_auc": "roc_auc", "auc": "roc_auc", "auroc": "roc_auc", "log_loss": "log_loss",
    "logloss": "log_loss", "rmse": "rmse", "mae": "mae", "mse": "mse", "r2": "r2",
}
# fmt: on
_REGRESSION = frozenset(("rmse", "mae", "mse", "r2"))


class PairingError(ValueError):
    """Head and base predictions that cannot be paired example by example; the message says why."""


class Paired(Record):
    """Both sides on the same examples, in head's row order, classes encoded alike (positive = class 1)."""

    task: str
    y_true: np.ndarray
    head: np.ndarray
    base: np.ndarray
    head_score: np.ndarray | None
    base_score: np.ndarray | None
    how: str
    classes: int = 0

    @property
    def by_row(self) -> bool:
        return self.how.startswith("matched by row order")

    def __len__(self) -> int:
        return int(self.y_true.shape[0])


class NoiseModel(Record):
    """The intervals the gate uses (oriented), the raw ones behind them, and the note the report prints."""

    intervals: dict[str, Interval]
    note: str
    raw: dict[str, DeltaInterval] = field(default_factory=dict)
    level: float = DEFAULT_LEVEL
    gated: int = 0
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    eval_hash: str | None = None
    seeded: tuple[str, ...] = ()  # the metrics whose interval is Welch's over seeds, not paired

    @property
    def metric_level(self) -> float:
        """The confidence level of each gated metric's interval (Bonferroni over `gated`)."""
        return bonferroni_level(self.level, self.gated) if self.gated > 1 else self.level


def stat_metric(name: str) -> str | None:
    """The statistic a metric name stands for, from its last dotted segment: `eval.ACC` → `accuracy`."""
    return _STATS.get(name.rsplit(".", 1)[-1].lower())


def compute_intervals(
    head: Predictions | None,
    base: Predictions | None,
    rules: Sequence[GateRule],
    metrics: FileValues,
    *,
    level: float = DEFAULT_LEVEL,
    seed: int = DEFAULT_SEED,
    repeats: Repeats | None = None,
    unpaired: str | None = None,
) -> NoiseModel:
    """Intervals of head − base (oriented so higher is better) for every metric the predictions can score,
    then Welch's over seeds for each metric of `repeats` that has none.

    `metrics` maps each metric's name to its (base, head) values in the metrics files; a metric whose file
    values the predictions do not reproduce gets no interval, as they are not the same evaluation. Without
    predictions (None), `unpaired` says why, for the note.
    """
    paired, unpaired = _pair(head, base, unpaired)
    if paired is None and not repeats:
        return NoiseModel({}, f"no noise model: {unpaired}; tolerances only", level=level)
    usable, problems = _usable(metrics, paired) if paired is not None else ({}, [])
    gated = sum(_gated(name, rules) for name in {*usable, *(repeats or {})})
    each = bonferroni_level(level, gated) if gated > 1 else level
    raw: dict[str, DeltaInterval] = {}
    for name, stat in usable.items():
        found = _scored(stat, paired, metrics[name], each, seed) if paired is not None else ""
        if isinstance(found, str):
            problems.append(f"{name}: {found}")
        else:
            raw[name] = found
    seeded = _seeded(repeats or {}, raw, each, problems)
    intervals = {name: r.to_interval(higher_is_better=_higher(name, rules)) for name, r in raw.items()}
    warnings = (f"noise model: {paired.how}",) if paired is not None and paired.by_row else ()
    eval_hash = base.content_hash if base is not None else None
    model = NoiseModel(intervals, "", raw, level, gated, tuple(problems), warnings, eval_hash, seeded)
    return replace(model, note=_note(model, paired, unpaired))


def _pair(head: Predictions | None, base: Predictions | None, why: str | None) -> tuple[Paired | None, str]:
    """The paired predictions, or None and the reason there are none."""
    if head is None or base is None:
        return None, why or "no `predictions:` configured"
    try:
        return pair(head, base), ""
    except PairingError as exc:
        return None, str(exc)


def _seeded(
    repeats: Repeats, raw: dict[str, DeltaInterval], level: float, problems: list[str]
) -> tuple[str, ...]:
    """Add Welch's interval over seeds to `raw` for each metric of `repeats` with no paired interval."""
    seeded = []
    for name, (base, head) in repeats.items():
        if name in raw:
            continue
        try:
            raw[name] = welch_interval(head, base, level=level, metric=name)
        except StatsError as exc:
            problems.append(f"{name}: seeds: {exc}")
            continue
        seeded.append(name)
    return tuple(seeded)


def _usable(metrics: FileValues, paired: Paired) -> tuple[dict[str, str], list[str]]:
    usable, problems = {}, []
    for name in metrics:
        stat = stat_metric(name)
        if stat is None:
            continue
        if (stat in _REGRESSION) != (paired.task == "regression"):
            problems.append(f"{name}: {stat} is not a {paired.task} metric")
        else:
            usable[name] = stat
    return usable, problems


def _gated(name: str, rules: Sequence[GateRule]) -> bool:
    rule = match_rule(name, rules)
    return rule is not None and (rule.direction or infer_direction(name)) is not Direction.NEUTRAL


def _higher(name: str, rules: Sequence[GateRule]) -> bool:
    rule = match_rule(name, rules)
    return ((rule.direction if rule else None) or infer_direction(name)) is Direction.HIGHER


def _scored(
    stat: str, paired: Paired, values: tuple[float | None, float | None], level: float, seed: int
) -> DeltaInterval | str:
    try:
        return _matching_interval(stat, paired, values, level, seed)
    except StatsError as exc:
        return str(exc)


def _matching_interval(
    stat: str, paired: Paired, values: tuple[float | None, float | None], level: float, seed: int
) -> DeltaInterval | str:
    """The interval whose head and base values agree with the files (binary, then macro averages)."""
    averages = ["binary", "macro"] if paired.classes <= 2 else ["macro"]
    if stat not in COUNT_METRICS[1:]:
        averages = ["binary"]
    raw: DeltaInterval | None = None
    for average in averages:
        raw = _interval(stat, paired, level, seed, average)
        if _agrees(values[0], raw.base) and _agrees(values[1], raw.head):
            return raw
    assert raw is not None
    base, head = (format_number(v) if v is not None else "—" for v in values)
    return (
        f"the predictions give {format_number(raw.base)} → {format_number(raw.head)}, the metrics files"
        f" {base} → {head}: not the same evaluation"
    )


def _interval(stat: str, paired: Paired, level: float, seed: int, average: str) -> DeltaInterval:
    if stat in ("roc_auc", "log_loss"):
        if paired.head_score is None or paired.base_score is None:
            raise StatsError(f"{stat} needs predictions.columns.score on both sides")
        if paired.classes > 2:
            raise StatsError(f"{stat} from one score column needs two classes, got {paired.classes}")
        head, base = paired.head_score, paired.base_score
    else:
        head, base = paired.head, paired.base
    return paired_interval(
        stat, paired.y_true, head, base, level=level, resamples=RESAMPLES, seed=seed, average=average
    )


def _agrees(written: float | None, computed: float) -> bool:
    """Whether a metrics file's value is `computed`, to the digits it was written with (or 1e-6 relative)."""
    if written is None or not math.isfinite(written):
        return True  # the gate says UNKNOWN about such a value anyway
    digits = repr(float(written)).split("e")[0].partition(".")[2]
    exponent = int(repr(float(written)).partition("e")[2] or 0)
    slack = 0.5 * 10.0 ** (exponent - len(digits)) if digits != "0" else 0.5 * 10.0**exponent
    return abs(written - computed) <= max(slack * (1 + 1e-9), 1e-6 * max(1.0, abs(written)))


def _note(model: NoiseModel, paired: Paired | None, unpaired: str) -> str:
    problems = model.problems
    rows = f"paired on {len(paired):,} examples ({paired.how})" if paired is not None else unpaired
    if not model.intervals:
        reasons = "; ".join(problems) if problems else "no metric is one the predictions can score"
        return f"no noise model: {rows}, but {reasons}; tolerances only"
    level = f"{format_number(model.level * 100)} % confidence"
    if model.gated > 1:
        each = format_number(model.metric_level * 100)
        level += f" shared by {model.gated} gated metrics (Bonferroni: {each} % each)"
    seeds = ", ".join(f"{model.raw[name].method.split(' (')[0]} for {name}" for name in model.seeded)
    if paired is None:
        text = f"{seeds}; {level}; no paired test: {unpaired}"
    else:
        text = f"{rows}; {level}; {RESAMPLES:,} resamples where bootstrapped" + (
            f"; {seeds}" if seeds else ""
        )
    return f"{text}; no interval for {'; '.join(problems)}" if problems else text


# ---- pairing


def pair(head: Predictions, base: Predictions) -> Paired:
    """Head and base on the same examples in head's order; PairingError when they are not the same set."""
    if head.task != base.task:
        raise PairingError(f"head predictions are {head.task}, base {base.task}")
    if head.ids is not None and base.ids is not None:
        order, how = _join(head, base)
    elif head.content_hash == base.content_hash or len(head) == len(base):
        order, how = None, "matched by row order: no id column, so rows must be in the same order"
    else:
        raise PairingError(f"the eval set changed ({len(base):,} examples in base, {len(head):,} in head)")
    if len(head) < 2:
        raise PairingError(f"{len(head)} example is too few to estimate noise")  # stats needs 2 rows
    return _paired(head, base, order, how)


def _join(head: Predictions, base: Predictions) -> tuple[np.ndarray | None, str]:
    """Where each head row is in base (None: the same order); refuses duplicate or mismatched ids."""
    import numpy as np

    assert head.ids is not None
    assert base.ids is not None
    for side, ids in (("head", head.ids), ("base", base.ids)):
        _check_unique(side, ids)
    same = head.content_hash == base.content_hash or np.array_equal(head.ids, base.ids)
    if same:
        return None, "matched by id"
    position = {key: i for i, key in enumerate(base.ids.tolist())}
    only_head = [key for key in head.ids.tolist() if key not in position]
    if only_head or len(position) != len(head.ids):
        raise PairingError(_id_mismatch(only_head, head.ids, base.ids))
    order = np.fromiter((position[key] for key in head.ids.tolist()), dtype=np.intp, count=len(head.ids))
    return order, "matched by id; base rows in another order"


def _check_unique(side: str, ids: np.ndarray) -> None:
    keys = ids.tolist()
    if len(set(keys)) == len(keys):
        return
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            break
        seen.add(key)
    repeated = key
    raise PairingError(f"{side} predictions repeat id {repeated!r}: ids must be unique to pair examples")


def _id_mismatch(only_head: list[str], head_ids: np.ndarray, base_ids: np.ndarray) -> str:
    head_set = set(head_ids.tolist())
    only_base = [key for key in base_ids.tolist() if key not in head_set]
    sample = ", ".join(repr(key) for key in (only_head or only_base)[:3])
    return (
        f"the eval set changed: {len(only_head):,} ids only in head, {len(only_base):,} only in base"
        f" (e.g. {sample}); no paired test"
    )


def _paired(head: Predictions, base: Predictions, order: np.ndarray | None, how: str) -> Paired:
    if head.task == "regression":
        truth, preds, classes = (head.y_true, base.y_true), (head.y_pred, base.y_pred), 0
    else:
        labels, encode = _common_labels(head.labels, base.labels)
        truth = (encode(head, head.y_true), encode(base, base.y_true))
        preds, classes = (encode(head, head.y_pred), encode(base, base.y_pred)), len(labels)
    y_base = _reorder(truth[1], order)
    _check_truth(truth[0], y_base, head, base)
    base_score = _reorder(base.score, order) if base.score is not None else None
    return Paired(
        head.task, truth[0], preds[0], _reorder(preds[1], order), head.score, base_score, how, classes
    )


def _reorder(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return values if order is None else values[order]


def _check_truth(y_head: np.ndarray, y_base: np.ndarray, head: Predictions, base: Predictions) -> None:
    import numpy as np

    if y_head.shape != y_base.shape:
        raise PairingError(f"the eval set changed ({len(base):,} examples in base, {len(head):,} in head)")
    differ = int(np.count_nonzero(y_head != y_base))
    if differ:
        raise PairingError(
            f"the eval set changed: y_true differs on {differ:,} of {len(head):,} examples"
            f" (eval-set hash {head.content_hash[:12]} in head, {base.content_hash[:12]} in base);"
            " no paired test"
        )


def _common_labels(
    head: Sequence[str], base: Sequence[str]
) -> tuple[list[str], Callable[[Predictions, np.ndarray], np.ndarray]]:
    """One class encoding for both sides (the loader's order: numeric when every label is a number)."""
    import numpy as np

    names = sorted(set(head) | set(base), key=_label_key(set(head) | set(base)))
    index = {name: i for i, name in enumerate(names)}

    def encode(side: Predictions, codes: np.ndarray) -> np.ndarray:
        table = np.array([index[name] for name in side.labels], dtype=np.int64)
        return table[codes] if len(table) else codes

    return names, encode


def _label_key(names: set[str]) -> Callable[[str], str | float]:
    try:
        for name in names:
            float(name)
    except ValueError:
        return str
    return float
