"""The gate: directions, tolerances, bounds, severities, first-match rules, overall outcome."""

from __future__ import annotations

import math

import pytest

from mlgate.comparison import compare
from mlgate.gate import evaluate, infer_direction, match_rule
from mlgate.model import (
    BaselineRef,
    Direction,
    GateResult,
    GateRule,
    Interval,
    Metric,
    MetricResult,
    MetricSet,
    Outcome,
    Severity,
    ValueKind,
    Verdict,
)

REF = BaselineRef(store="committed", sha="b" * 40)


def metrics(**values: float | str) -> MetricSet:
    out = {}
    for name, value in values.items():
        key = name.replace("__", ".")
        if isinstance(value, str):
            out[key] = Metric(key, None, "m.json", ValueKind.TEXT, raw=value)
        else:
            out[key] = Metric(key, float(value), "m.json")
    return MetricSet(out)


def gate(
    head: MetricSet,
    base: MetricSet | None,
    rules: list[GateRule],
    *,
    strict: bool = False,
    if_missing: str = "pass",
) -> GateResult:
    comparison = compare(head, base, baseline=REF if base is not None else None)
    return evaluate(comparison, rules, strict=strict, if_missing=if_missing)


def one(result: GateResult, name: str) -> MetricResult:
    """The result for NAME, which the test expects to be there."""
    found = result.get(name)
    assert found is not None, f"no result for {name!r}"
    return found


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("eval.accuracy", Direction.HIGHER),
        ("val_loss", Direction.LOWER),
        ("test.f1", Direction.HIGHER),
        ("roc_auc", Direction.HIGHER),
        ("rmse", Direction.LOWER),
        ("p95_latency_ms", Direction.LOWER),
        ("train.r2", Direction.HIGHER),
        ("valloss", Direction.LOWER),
        ("top1accuracy", Direction.HIGHER),
        ("epochs", Direction.NEUTRAL),
        ("eval.mean_abs_error", Direction.LOWER),
    ],
)
def test_direction_is_inferred_from_the_name_when_no_rule_says(name: str, expected: Direction) -> None:
    assert infer_direction(name) is expected


def test_first_matching_rule_wins_when_several_globs_match() -> None:
    rules = [GateRule("eval.*", abs=0.1, index=0), GateRule("*", direction=Direction.NEUTRAL, index=1)]
    assert match_rule("eval.acc", rules) is rules[0]
    assert match_rule("train.acc", rules) is rules[1]
    assert match_rule("x", [GateRule("eval.*")]) is None


def test_regression_must_exceed_both_tolerances_when_abs_and_rel_are_set() -> None:
    rules = [GateRule("acc", abs=0.005, rel=0.01)]
    # base 0.9: rel tolerance = 0.009; a drop of 0.007 exceeds abs but not rel → unchanged
    result = gate(metrics(acc=0.893), metrics(acc=0.9), rules)
    assert one(result, "acc").verdict is Verdict.UNCHANGED
    assert result.outcome is Outcome.PASS
    failed = gate(metrics(acc=0.89), metrics(acc=0.9), rules)
    assert one(failed, "acc").verdict is Verdict.REGRESSED
    assert failed.outcome is Outcome.FAIL
    assert not failed.passed
    assert [r.name for r in failed.failures] == ["acc"]


def test_lower_is_better_metrics_regress_when_they_rise() -> None:
    rules = [GateRule("loss")]
    assert gate(metrics(loss=0.5), metrics(loss=0.4), rules).outcome is Outcome.FAIL
    improved = gate(metrics(loss=0.3), metrics(loss=0.4), rules)
    assert one(improved, "loss").verdict is Verdict.IMPROVED
    assert improved.outcome is Outcome.PASS


def test_warn_severity_does_not_fail_when_it_regresses() -> None:
    result = gate(
        metrics(latency=12), metrics(latency=10), [GateRule("latency", rel=0.1, severity=Severity.WARN)]
    )
    assert one(result, "latency").verdict is Verdict.REGRESSED
    assert result.outcome is Outcome.WARN
    assert result.passed
    assert [r.name for r in result.warnings] == ["latency"]


def test_metric_without_rule_is_shown_but_never_gated() -> None:
    result = gate(metrics(acc=0.1), metrics(acc=0.9), [])
    only = one(result, "acc")
    assert only is not None
    assert only.verdict is Verdict.REGRESSED
    assert not only.gated
    assert "not gated" in only.reason
    assert result.outcome is Outcome.PASS


def test_neutral_metric_is_not_judged_when_a_rule_makes_it_neutral() -> None:
    result = gate(metrics(acc=0.1), metrics(acc=0.9), [GateRule("*", direction=Direction.NEUTRAL)])
    assert one(result, "acc").verdict is Verdict.UNCHANGED
    assert result.outcome is Outcome.PASS


def test_floor_fails_even_without_baseline_when_head_is_below_min() -> None:
    result = gate(metrics(acc=0.7), None, [GateRule("acc", min=0.8)])
    assert one(result, "acc").bound_violated
    assert result.outcome is Outcome.FAIL
    ceiling = gate(metrics(loss=3.0), metrics(loss=3.0), [GateRule("loss", max=2.0)])
    assert ceiling.outcome is Outcome.FAIL
    assert "ceiling" in one(ceiling, "loss").reason


def test_missing_baseline_follows_if_missing_policy() -> None:
    head = metrics(acc=0.9)
    assert gate(head, None, [GateRule("acc")]).outcome is Outcome.NO_BASELINE
    assert gate(head, None, [GateRule("acc")], if_missing="warn").outcome is Outcome.WARN
    assert gate(head, None, [GateRule("acc")], if_missing="fail").outcome is Outcome.FAIL
    assert gate(head, None, [GateRule("acc")], strict=True).outcome is Outcome.FAIL
    assert one(gate(head, None, [GateRule("acc")]), "acc").verdict is Verdict.NEW


def test_new_and_removed_metrics_are_reported_when_sides_differ() -> None:
    result = gate(metrics(a_acc=0.9), metrics(b_acc=0.8), [GateRule("*")])
    assert one(result, "a_acc").verdict is Verdict.NEW
    assert one(result, "b_acc").verdict is Verdict.REMOVED
    assert result.outcome is Outcome.WARN


def test_a_gated_metric_that_went_missing_warns_and_strict_fails_it_when_head_drops_it() -> None:
    rules = [GateRule("acc", severity=Severity.FAIL)]
    result = gate(metrics(other=1.0), metrics(acc=0.9, other=1.0), rules)
    removed = one(result, "acc")
    assert removed is not None
    assert (removed.verdict, removed.warning, removed.blocking) == (Verdict.REMOVED, True, False)
    assert "gated by `acc`" in removed.reason
    assert result.outcome is Outcome.WARN
    assert gate(metrics(other=1.0), metrics(acc=0.9, other=1.0), rules, strict=True).outcome is Outcome.FAIL
    ungated = gate(metrics(other=1.0), metrics(acc=0.9, other=1.0), [GateRule("other")])
    assert ungated.outcome is Outcome.PASS


def test_gated_numbers_that_became_nan_or_text_are_unknown_warnings_and_strict_fails_them() -> None:
    head = metrics(acc=math.nan, f1="n/a")
    base = metrics(acc=0.9, f1=0.8)
    result = gate(head, base, [GateRule("*")])
    assert {(r.verdict, r.warning, r.blocking) for r in result.results} == {(Verdict.UNKNOWN, True, False)}
    assert all("gated by `*`: a warning; --strict fails it" in r.reason for r in result.results)
    assert result.outcome is Outcome.WARN
    assert gate(head, base, [GateRule("*")], strict=True).outcome is Outcome.FAIL
    assert gate(head, base, [GateRule("other")]).outcome is Outcome.PASS  # shown, not gated


def test_unknown_is_no_warning_when_the_baseline_had_no_number_either() -> None:
    result = gate(metrics(acc=0.9, name="b"), metrics(acc=math.nan, name="a"), [GateRule("*")])
    assert {(r.verdict, r.warning) for r in result.results} == {(Verdict.UNKNOWN, False)}
    assert result.outcome is Outcome.PASS


def test_infinite_loss_is_a_regression_when_lower_is_better() -> None:
    result = gate(metrics(loss=math.inf), metrics(loss=0.3), [GateRule("loss", abs=1.0)])
    assert one(result, "loss").verdict is Verdict.REGRESSED


def test_results_put_blocking_regressions_first_when_mixed() -> None:
    result = gate(
        metrics(f1=0.9, loss=0.2, acc=0.5, epochs=3),
        metrics(f1=0.8, loss=0.2, acc=0.9, epochs=3),
        [GateRule("*")],
    )
    assert [r.name for r in result.results][:2] == ["acc", "f1"]


def test_noise_interval_decides_three_ways_when_present() -> None:
    base = metrics(acc=0.84)
    rule = [GateRule("acc", abs=0.01)]

    def with_interval(low: float, high: float) -> Verdict:
        comparison = compare(
            metrics(acc=0.839), base, baseline=REF, intervals={"acc": Interval(low, high, 0.95, "bootstrap")}
        )
        res = one(evaluate(comparison, rule), "acc")
        assert res is not None
        return res.verdict

    assert with_interval(-0.005, 0.003) is Verdict.UNCHANGED
    assert with_interval(-0.03, -0.015) is Verdict.REGRESSED
    assert with_interval(-0.02, 0.001) is Verdict.INCONCLUSIVE
    comparison = compare(
        metrics(acc=0.86), base, baseline=REF, intervals={"acc": Interval(0.012, 0.03, 0.95, "bootstrap")}
    )
    assert one(evaluate(comparison, rule), "acc").verdict is Verdict.IMPROVED
    inconclusive = compare(
        metrics(acc=0.839), base, baseline=REF, intervals={"acc": Interval(-0.02, 0.001, 0.95, "bootstrap")}
    )
    assert evaluate(inconclusive, rule).outcome is Outcome.WARN
    assert evaluate(inconclusive, rule, strict=True).outcome is Outcome.FAIL


def test_noise_interval_falls_back_to_tolerances_when_it_is_not_finite() -> None:
    comparison = compare(
        metrics(acc=0.5),
        metrics(acc=0.9),
        baseline=REF,
        intervals={"acc": Interval(math.nan, math.nan, 0.95, "bootstrap")},
    )
    result = one(evaluate(comparison, [GateRule("acc", abs=0.01)]), "acc")
    assert result is not None
    assert result.verdict is Verdict.REGRESSED
    assert "exceeds tolerance" in result.reason


def test_zero_width_interval_at_the_margin_passes_when_the_change_equals_the_tolerance() -> None:
    comparison = compare(
        metrics(acc=0.89),
        metrics(acc=0.9),
        baseline=REF,
        intervals={"acc": Interval(-0.01, -0.01, 0.95, "x")},
    )
    assert evaluate(comparison, [GateRule("acc", abs=0.01)]).outcome is Outcome.PASS
