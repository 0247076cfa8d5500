"""Head metrics × baseline metrics → Comparison: every metric side by side and the changed params (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.model import BaselineRef, Comparison, Delta, Interval, MetricSet, ParamChange, Params


def compare(
    head: MetricSet,
    base: MetricSet | None,
    *,
    head_params: Params | None = None,
    base_params: Params | None = None,
    baseline: BaselineRef | None = None,
    head_sha: str | None = None,
    intervals: Mapping[str, Interval] | None = None,
    noise_note: str | None = None,
) -> Comparison:
    """Pair every metric of head with base (head's order first, then metrics only the base has).

    `intervals` is the noise model's seam: per-metric confidence intervals of head − base, oriented so that
    higher is better, computed from paired predictions by the caller.
    """
    intervals = intervals or {}
    base_metrics = base.metrics if base is not None else {}
    deltas = [Delta(m.name, base_metrics.get(m.name), m, intervals.get(m.name)) for m in head]
    deltas += [Delta(name, metric, None) for name, metric in base_metrics.items() if name not in head]
    return Comparison(
        deltas=tuple(deltas),
        param_changes=compare_params(head_params, base_params) if base is not None else (),
        baseline=baseline if base is not None else None,
        head_sha=head_sha,
        noise_note=noise_note,
    )


def compare_params(head: Params | None, base: Params | None) -> tuple[ParamChange, ...]:
    """The params whose displayed values differ, head's order first."""
    head_values = {p.name: p.value for p in (head.params.values() if head else ())}
    base_values = {p.name: p.value for p in (base.params.values() if base else ())}
    names = list(head_values) + [name for name in base_values if name not in head_values]
    return tuple(
        ParamChange(name, base_values.get(name), head_values.get(name))
        for name in names
        if head_values.get(name) != base_values.get(name)
    )
