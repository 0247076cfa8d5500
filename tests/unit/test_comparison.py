"""Pairing head with base metrics and diffing params."""

from __future__ import annotations

from mlgate.comparison import compare, compare_params
from mlgate.model import BaselineRef, Metric, MetricSet, Param, ParamChange, Params, ValueKind


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


def _flat(**values: float) -> MetricSet:
    """Metrics named with `__` for `.`: `acc__0=0.9` is `acc.0`, as a list `acc: [0.9]` flattens."""
    return _set(**{k.replace("__", "."): v for k, v in values.items()})


def test_a_list_where_the_baseline_has_a_number_is_one_text_row_before_its_items_with_a_warning() -> None:
    comparison = compare(_flat(acc__0=0.9, acc__1=0.8, f1=0.5), _flat(f1=0.5, acc=0.9))
    assert [d.name for d in comparison.deltas] == ["acc", "acc.0", "acc.1", "f1"]
    acc = comparison.deltas[0]
    assert acc.base == Metric("acc", 0.9, "m.json")
    assert acc.head == Metric("acc", None, "m.json", ValueKind.TEXT, "[0.9, 0.8]")
    assert acc.lost_number
    assert comparison.warnings == (
        "m.json: acc: a list here, a number in the baseline ([0.9, 0.8]); shown in its place, not compared",
    )


def test_a_mapping_in_the_baseline_where_head_has_a_number_is_shown_on_the_base_side() -> None:
    items = {f"f1__c{i}": i / 10 for i in range(8)}
    comparison = compare(_flat(f1=0.7), _flat(**items))
    f1 = comparison.deltas[0]
    assert f1.name == "f1"
    assert f1.base is not None
    assert f1.base.raw == "{c0: 0, c1: 0.1, c2: 0.2, c3: 0.3, c4: 0.4, c5: 0.5, … 2 more}"
    assert not f1.lost_number  # the head has the number
    assert comparison.warnings == (
        f"m.json: f1: a mapping in the baseline, a number here ({f1.base.raw}); "
        "shown in its place, not compared",
    )
    assert [d.name for d in comparison.deltas][1:] == [f"f1.c{i}" for i in range(8)]


def test_nothing_is_reshaped_when_names_only_share_a_prefix_or_the_other_side_is_text() -> None:
    plain = compare(_flat(acc__0=1, accuracy=1), _flat(acc_top=1))
    assert [d.name for d in plain.deltas] == ["acc.0", "accuracy", "acc_top"]
    assert plain.warnings == ()
    text = MetricSet({"acc": Metric("acc", None, "m.json", ValueKind.TEXT, "n/a")})
    assert compare(_flat(acc__0=1), text).warnings == ()
    assert compare(_flat(acc__0=1), None).warnings == ()


def test_a_metric_set_holds_names_and_iterates_metrics_in_file_order() -> None:
    metrics = _set(b=1, a=2)
    assert "a" in metrics
    assert "c" not in metrics
    assert [m.name for m in metrics] == ["b", "a"]
    assert len(metrics) == 2
