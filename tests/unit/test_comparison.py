"""Pairing head with base metrics and diffing params."""

from __future__ import annotations

from mlgate.comparison import compare, compare_params
from mlgate.model import BaselineRef, Metric, MetricSet, Param, ParamChange, Params


def _set(**values: float) -> MetricSet:
    return MetricSet({k: Metric(k, v, "m.json") for k, v in values.items()})


def _params(**values: str) -> Params:
    return Params({k: Param(k, v, "params.yaml") for k, v in values.items()})


def test_head_order_comes_first_then_base_only_metrics() -> None:
    comparison = compare(_set(b=1, a=2), _set(a=1, c=3), baseline=BaselineRef("committed", "x"))
    assert [d.name for d in comparison.deltas] == ["b", "a", "c"]
    by_name = {d.name: d for d in comparison.deltas}
    assert by_name["a"].change == 1
    assert by_name["a"].rel == 1.0
    assert by_name["b"].change is None
    assert by_name["c"].head is None


def test_relative_change_is_undefined_when_base_is_zero() -> None:
    delta = compare(_set(a=1), _set(a=0), baseline=BaselineRef("committed", "x")).deltas[0]
    assert delta.change == 1
    assert delta.rel is None


def test_no_baseline_gives_no_param_changes_and_no_provenance() -> None:
    comparison = compare(
        _set(a=1), None, head_params=_params(lr="0.1"), baseline=BaselineRef("committed", "x")
    )
    assert comparison.param_changes == ()
    assert comparison.baseline is None
    assert not comparison.has_baseline


def test_changed_added_and_removed_params_are_listed_when_they_differ() -> None:
    changes = compare_params(_params(lr="0.2", depth="3", new="x"), _params(lr="0.1", depth="3", old="y"))
    assert changes == (
        ParamChange("lr", "0.1", "0.2"),
        ParamChange("new", None, "x"),
        ParamChange("old", "y", None),
    )
