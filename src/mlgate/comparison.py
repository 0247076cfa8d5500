"""Head metrics × baseline metrics → Comparison: every metric side by side and the changed params (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.model import (
    BaselineRef,
    Comparison,
    Delta,
    Interval,
    Metric,
    MetricSet,
    ParamChange,
    Params,
    ValueKind,
)

SHOWN_ITEMS = 6  # of a list or a mapping shown in place of a number


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
    head_metrics, warnings = reshaped(head.metrics, base_metrics, ("here", "in the baseline"))
    base_metrics, more = reshaped(base_metrics, head.metrics, ("in the baseline", "here"))
    deltas = [
        Delta(m.name, base_metrics.get(m.name), m, intervals.get(m.name)) for m in head_metrics.values()
    ]
    deltas += [Delta(name, metric, None) for name, metric in base_metrics.items() if name not in head_metrics]
    return Comparison(
        deltas=tuple(deltas),
        warnings=tuple(warnings + more),
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


def reshaped(
    metrics: Mapping[str, Metric], other: Mapping[str, Metric], sides: tuple[str, str]
) -> tuple[Mapping[str, Metric], list[str]]:
    """`metrics` with a TEXT metric for each name that `other` has as a number and `metrics` has as a list
    or a mapping (flattened to `acc.0`, `acc.macro`), placed before its first item, and a warning for each.

    So a value that became a list reads as "cannot compare 0.9 with [0.9, 0.8]", not as a removed metric.
    """
    wanted = {name for name, metric in other.items() if metric.kind is not ValueKind.TEXT} - metrics.keys()
    if not wanted:
        return metrics, []
    items: dict[str, list[Metric]] = {}
    starts: dict[str, list[str]] = {}  # a metric's name → the containers whose first item it is
    for metric in metrics.values():
        at = metric.name.find(".")
        while at != -1:
            prefix = metric.name[:at]
            if prefix in wanted:
                if prefix not in items:
                    starts.setdefault(metric.name, []).append(prefix)
                items.setdefault(prefix, []).append(metric)
            at = metric.name.find(".", at + 1)
    if not items:
        return metrics, []
    out: dict[str, Metric] = {}
    warnings: list[str] = []
    for name, metric in metrics.items():
        for prefix in starts.get(name, ()):
            kind, text = _container(prefix, items[prefix])
            source = items[prefix][0].source
            out[prefix] = Metric(prefix, None, source, ValueKind.TEXT, text)
            warnings.append(
                f"{source}: {prefix}: {kind} {sides[0]}, a number {sides[1]} ({text}); shown in its place, "
                "not compared"
            )
        out[name] = metric
    return out, warnings


def _container(name: str, items: list[Metric]) -> tuple[str, str]:
    """Whether the flattened `items` of `name` were a list or a mapping, and a short text of them."""
    keys = [item.name[len(name) + 1 :] for item in items]
    shown = [item.display() for item in items[:SHOWN_ITEMS]]
    more = [f"… {len(items) - SHOWN_ITEMS} more"] if len(items) > SHOWN_ITEMS else []
    if all(key.isdigit() for key in keys):
        return "a list", "[" + ", ".join(shown + more) + "]"
    pairs = [f"{key}: {text}" for key, text in zip(keys, shown, strict=False)]
    return "a mapping", "{" + ", ".join(pairs + more) + "}"
