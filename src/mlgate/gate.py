"""Comparison × rules → GateResult: per-metric verdicts with the reason, and the overall outcome (pure).

Rules are tried in order and the first whose glob matches a metric's name decides; a rule without a direction
takes the one inferred from the name. A metric that no rule matches is shown and never gated. A metric with a
noise interval is judged by `stats.decide` (the rule's tolerance is the margin); others by the tolerances.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Sequence

from mlgate.model import (
    Comparison,
    Delta,
    Direction,
    GateResult,
    GateRule,
    MetricResult,
    Outcome,
    Severity,
    Verdict,
    format_number,
)
from mlgate.record import Record

# fmt: off
_HIGHER = frozenset((
    "accuracy", "acc", "f1", "f1score", "auc", "roc", "rocauc", "auroc", "precision", "prec", "recall", "r2",
    "map", "ndcg", "bleu", "rouge", "iou", "miou", "dice", "top1", "top5", "kappa", "mcc", "ap",
    "sensitivity", "specificity", "throughput",
))
_LOWER = frozenset((
    "loss", "error", "err", "rmse", "mse", "mae", "mape", "smape", "latency", "perplexity", "ppl", "wer",
    "cer", "logloss", "nll", "duration", "time", "seconds", "ms", "memory", "brier", "fpr", "fnr",
))
# fmt: on


def infer_direction(name: str) -> Direction:
    """Which way a metric improves, from the words of its name (`eval.val_loss` → LOWER)."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    for word in reversed(words):
        if word in _LOWER:
            return Direction.LOWER
        if word in _HIGHER:
            return Direction.HIGHER
    joined = "".join(words)
    if any(joined.endswith(w) for w in ("loss", "error", "latency")):
        return Direction.LOWER
    if any(joined.endswith(w) for w in ("accuracy", "auc", "f1", "recall", "precision")):
        return Direction.HIGHER
    return Direction.NEUTRAL


def match_rule(name: str, rules: Sequence[GateRule]) -> GateRule | None:
    """The first rule whose glob matches `name` (case-sensitive, as metric names are data)."""
    return next((rule for rule in rules if fnmatch.fnmatchcase(name, rule.metric)), None)


class _Judgement(Record):
    verdict: Verdict
    reason: str


def evaluate(
    comparison: Comparison,
    rules: Sequence[GateRule],
    *,
    strict: bool = False,
    if_missing: str = "pass",
) -> GateResult:
    """Judge every metric, then the whole change. See DESIGN §6 for the semantics."""
    has_baseline = comparison.has_baseline
    results = [_judge(d, match_rule(d.name, rules), has_baseline) for d in comparison.deltas]
    results.sort(key=_rank)
    outcome = _outcome(results, comparison.has_baseline, strict=strict, if_missing=if_missing)
    return GateResult(results=tuple(results), outcome=outcome, strict=strict)


# NOTE: a gated metric that went missing at head (deleted, renamed) or is no longer a number there (a string,
# a list, a mapping, NaN) is a warning, never a quiet pass: otherwise breaking the metric would slip past its
# rule. --strict fails it.
_DOUBTFUL = (Verdict.INCONCLUSIVE, Verdict.UNKNOWN, Verdict.REMOVED)


def _rank(result: MetricResult) -> int:
    if result.blocking:
        return 0
    if result.warning:
        return 1
    order = (Verdict.REGRESSED, Verdict.IMPROVED, Verdict.INCONCLUSIVE, Verdict.UNKNOWN, Verdict.NEW)
    return 2 + order.index(result.verdict) if result.verdict in order else 9


def _outcome(results: list[MetricResult], has_baseline: bool, *, strict: bool, if_missing: str) -> Outcome:
    if any(r.blocking for r in results):
        return Outcome.FAIL
    if not has_baseline:
        if strict or if_missing == "fail":
            return Outcome.FAIL
        return Outcome.WARN if if_missing == "warn" else Outcome.NO_BASELINE
    doubtful = any(r.gated and r.verdict in _DOUBTFUL for r in results)
    if strict and doubtful:
        return Outcome.FAIL
    return Outcome.WARN if any(r.warning for r in results) else Outcome.PASS


def _judge(delta: Delta, rule: GateRule | None, has_baseline: bool) -> MetricResult:
    direction = (rule.direction if rule else None) or infer_direction(delta.name)
    gated = rule is not None and direction is not Direction.NEUTRAL
    severity = rule.severity if rule else Severity.WARN
    judgement = _verdict(delta, direction, rule, has_baseline)
    bound = _bound_violation(delta, rule)
    reason = judgement.reason if bound is None else f"{bound}; {judgement.reason}"
    if gated and (judgement.verdict is Verdict.REMOVED or delta.lost_number):
        reason += f" (gated by `{rule.metric}`: a warning; --strict fails it)"  # type: ignore[union-attr]
    if rule is None:
        reason += " (no gate rule matches: shown, not gated)"
    elif direction is Direction.NEUTRAL:
        reason += " (neutral: shown, not gated)"
    return MetricResult(
        delta=delta,
        direction=direction,
        verdict=judgement.verdict,
        severity=severity,
        rule=rule,
        reason=reason,
        gated=gated or (rule is not None and bound is not None),
        bound_violated=bound is not None,
    )


def _verdict(delta: Delta, direction: Direction, rule: GateRule | None, has_baseline: bool) -> _Judgement:
    head, base = delta.head, delta.base
    if head is None:
        return _Judgement(Verdict.REMOVED, "present in the baseline, missing in head")
    if base is None:
        return _Judgement(Verdict.NEW, "no baseline value" if has_baseline else "no baseline to compare with")
    if not head.is_number or not base.is_number or delta.change is None:
        return _Judgement(Verdict.UNKNOWN, f"cannot compare {base.display()} with {head.display()}")
    change = delta.change
    if direction is Direction.NEUTRAL:
        return _Judgement(Verdict.UNCHANGED, f"changed by {_signed(change)}")
    assert base.value is not None
    margin = _margin(rule, base.value)
    good = change if direction is Direction.HIGHER else -change
    noisy = _noise_verdict(delta, good, margin) if delta.interval is not None else None
    return noisy or _tolerance_verdict(good, change, rule, base.value, direction)


def _margin(rule: GateRule | None, base_value: float) -> float:
    if rule is None:
        return 0.0
    return max(rule.abs, rule.rel * abs(base_value))


def _tolerance_verdict(
    good: float, change: float, rule: GateRule | None, base_value: float, direction: Direction
) -> _Judgement:
    abs_tol = rule.abs if rule else 0.0
    rel_tol = (rule.rel if rule else 0.0) * abs(base_value)
    better = "higher" if direction is Direction.HIGHER else "lower"
    tolerance = f"tolerance abs {format_number(abs_tol)}, rel {format_number(rel_tol)}"
    if math.isinf(good) or (-good > abs_tol and -good > rel_tol):
        return _Judgement(Verdict.REGRESSED, f"{_signed(change)} ({better} is better) exceeds {tolerance}")
    if good > abs_tol and good > rel_tol:
        return _Judgement(Verdict.IMPROVED, f"{_signed(change)} ({better} is better) exceeds {tolerance}")
    if change == 0:
        return _Judgement(Verdict.UNCHANGED, "identical")
    return _Judgement(Verdict.UNCHANGED, f"{_signed(change)} is within {tolerance}")


def _noise_verdict(delta: Delta, good: float, margin: float) -> _Judgement | None:
    """DESIGN §6's three-way rule on the interval of the gain; None when it cannot be applied (NaN, inf)."""
    # NOTE: imported here, not at the top: `mlgate diff` without predictions never needs the statistics.
    from mlgate.stats import Decision, StatsError, decide

    assert delta.interval is not None
    interval = delta.interval
    try:
        decision = decide(interval.low, interval.high, margin)
    except StatsError:
        return None
    where = (
        f"{format_number(interval.level * 100)} % interval of the gain [{_signed(interval.low)},"
        f" {_signed(interval.high)}] ({interval.method}), margin {format_number(margin)}"
    )
    if decision is Decision.FAIL:
        return _Judgement(Verdict.REGRESSED, f"{where}: entirely below −margin")
    if decision is Decision.INCONCLUSIVE:
        return _Judgement(Verdict.INCONCLUSIVE, f"{where}: straddles −margin (within noise)")
    verdict = Verdict.IMPROVED if interval.low > 0 and good > margin else Verdict.UNCHANGED
    return _Judgement(verdict, f"{where}: lower bound above −margin")


def _bound_violation(delta: Delta, rule: GateRule | None) -> str | None:
    if rule is None or delta.head is None or not delta.head.is_number:
        return None
    value = delta.head.value
    assert value is not None
    if rule.min is not None and value < rule.min:
        return f"{format_number(value)} is below the floor min {format_number(rule.min)}"
    if rule.max is not None and value > rule.max:
        return f"{format_number(value)} is above the ceiling max {format_number(rule.max)}"
    return None


def _signed(value: float) -> str:
    text = format_number(abs(value))
    return f"+{text}" if value >= 0 else f"−{text}"
