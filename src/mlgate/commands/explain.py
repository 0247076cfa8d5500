"""`mlgate explain METRIC`: why a metric passed or failed, with its values, sources, rule and arithmetic."""

from __future__ import annotations

import argparse
import difflib

from mlgate.commands import Context, Subparsers, add_command, evaluate_here
from mlgate.errors import ExitCode, UsageError
from mlgate.model import Direction, MetricResult, format_number
from mlgate.pipeline import Evaluation
from mlgate.seeds import welch_terms
from mlgate.stats import DeltaInterval, StatsError, decide


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "explain", run, help="why metric M passed or failed: values, rule, arithmetic", parents=parents
    )
    parser.add_argument("metric", help="metric name, as `mlgate diff --all` shows it")
    parser.add_argument(
        "--base", metavar="REV", help="baseline commit (default: merge-base with the base branch)"
    )
    parser.add_argument("--rev", help="explain for this commit instead of the work tree")


def run(ctx: Context) -> ExitCode:
    evaluation = evaluate_here(ctx, confirm=True)  # the same verdict as `mlgate run`, re-run included
    with evaluation.repo:
        name = ctx.args.metric
        result = evaluation.gate.get(name)
        if result is None:
            names = [r.name for r in evaluation.gate.results]
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "`mlgate diff --all` lists the metrics"
            raise UsageError(f"explain {name}", "no such metric in head or baseline", hint=hint)
        for line in explain_lines(result, evaluation):
            ctx.console.print(line)
    return ExitCode.OK


def explain_lines(result: MetricResult, evaluation: Evaluation) -> list[str]:
    """The explanation as plain lines (also posted as a PR reply by `/mlgate explain`)."""
    delta = result.delta
    lines = [f"metric:    {delta.name}"]
    if delta.base is not None and evaluation.baseline is not None:
        ref = evaluation.baseline.ref
        origin = f"{delta.base.source} at {ref.sha[:12]} (store {ref.store}, {ref.distance} commits back)"
        lines.append(f"base:      {delta.base.display(6)}   from {origin}")
    else:
        lines.append(f"base:      none (no baseline at {evaluation.base_sha[:12]}, {evaluation.base_label})")
    head = delta.head.display(6) if delta.head else "missing"
    source = f"   from {delta.head.source} ({evaluation.head_label})" if delta.head else ""
    lines.append(f"head:      {head}{source}")
    lines += _rule_lines(result)
    lines += noise_lines(result, evaluation)
    if delta.change is not None:
        lines.append(f"change:    {format_number(delta.change, 6)} (head − base)")
    if delta.rel is not None:
        lines.append(f"relative:  {format_number(delta.rel * 100, 4)} % of |base|")
    lines.append(f"verdict:   {result.verdict.value}{' (blocks the merge)' if result.blocking else ''}")
    lines.append(f"because:   {result.reason}")
    return lines


def _rule_lines(result: MetricResult) -> list[str]:
    rule = result.rule
    given = "set by the rule" if rule and rule.direction else "inferred from the name"
    better = {Direction.HIGHER: "higher is better", Direction.LOWER: "lower is better"}.get(
        result.direction, "neutral: shown, never gated"
    )
    lines = [f"direction: {better} ({given})"]
    if rule is None:
        lines.append("rule:      none matches: shown, not gated")
        return lines
    lines.append(f"rule:      gates[{rule.index}] metric={rule.metric!r} severity={rule.severity.value}")
    base = result.delta.base
    if base is not None and base.is_number and base.value is not None:
        rel_abs = format_number(rule.rel * abs(base.value))
        rel = f"rel {format_number(rule.rel)} × |{format_number(base.value)}| = {rel_abs}"
        lines.append(f"tolerance: abs {format_number(rule.abs)}, {rel}; a regression must exceed both")
    bounds = [f"{name} {format_number(bound)}" for name, bound in (("min", rule.min), ("max", rule.max))
              if bound is not None]  # fmt: skip
    if bounds:
        lines.append(f"bounds:    {', '.join(bounds)} (checked whatever the change)")
    return lines


def noise_lines(result: MetricResult, evaluation: Evaluation) -> list[str]:
    """The noise model's arithmetic for this metric: the interval, its orientation, the margin, the rule."""
    noise = evaluation.noise
    confirmed = [f"confirm:   {evaluation.confirmation.summary()}"] if evaluation.confirmation else []
    if noise is None:
        return ["noise:     no noise model (no `predictions:` or no baseline): judged by its tolerances"]
    raw, interval = noise.raw.get(result.name), result.delta.interval
    if raw is None or interval is None:
        why = next((p for p in noise.problems if p.startswith(f"{result.name}: ")), noise.note)
        return [f"noise:     no interval for this metric ({why}): judged by its tolerances"]
    turned = "as is" if result.direction is Direction.HIGHER else "negated, as lower is better"
    lines = [
        f"noise:     {noise.note}",
        *(_welch_lines(result, raw) if result.name in noise.seeded else _paired_lines(raw)),
        f"gain:      [{_num(interval.low)}, {_num(interval.high)}] ({turned})",
        *confirmed,
    ]
    return lines + _decision_lines(result, interval.low, interval.high)


def _paired_lines(raw: DeltaInterval) -> list[str]:
    return [
        f"interval:  {_pct(raw.level)} interval of Δ = head − base on the predictions: {_num(raw.head)} −"
        f" {_num(raw.base)} = {_num(raw.estimate)}, [{_num(raw.low)}, {_num(raw.high)}]"
        f" ({raw.method}{f', {raw.resamples:,} resamples' if raw.resamples else ''}, {raw.n:,} rows)"
    ]


def _welch_lines(result: MetricResult, raw: DeltaInterval) -> list[str]:
    """Welch's arithmetic: each side's seeds, the standard error, the degrees of freedom, the t quantile."""
    head, base = result.delta.head, result.delta.base
    w = welch_terms(head.repeats if head else (), base.repeats if base else (), raw.level)
    half, quantile = _num(w.t * w.se), _num(0.5 + raw.level / 2)
    return [
        f"seeds:     head {w.head_runs} runs, mean {_num(w.head_mean)}, variance s² {_num(w.head_var)};"
        f" base {w.base_runs} runs, mean {_num(w.base_mean)}, variance s² {_num(w.base_var)}",
        f"interval:  {_pct(raw.level)} interval of Δ = mean(head) − mean(base) over seeds: {_num(raw.head)} −"
        f" {_num(raw.base)} = {_num(raw.estimate)}, [{_num(raw.low)}, {_num(raw.high)}] ({raw.method})",
        f"welch:     SE = √(s²_head/{w.head_runs} + s²_base/{w.base_runs}) = {_num(w.se)};"
        f" t({quantile}, df {_num(w.df)}) = {_num(w.t)}; half-width t × SE = {half}",
    ]


def _decision_lines(result: MetricResult, low: float, high: float) -> list[str]:
    rule, base = result.rule, result.delta.base
    if rule is None or base is None or base.value is None or result.direction is Direction.NEUTRAL:
        return []
    margin = max(rule.abs, rule.rel * abs(base.value))
    rel = f"rel {_num(rule.rel)} × |{_num(base.value)}| = {_num(rule.rel * abs(base.value))}"
    passes, fails = low > -margin, high < -margin
    try:
        decision = decide(low, high, margin).value
    except StatsError as exc:
        decision = f"not applied ({exc}): judged by its tolerances"
    return [
        f"margin:    m = max(abs {_num(rule.abs)}, {rel}) = {_num(margin)}",
        f"decision:  pass if low > −m: {_num(low)} > {_num(-margin)}? {_yes(passes)};"
        f" fail if high < −m: {_num(high)} < {_num(-margin)}? {_yes(fails)}"
        f" → {decision}",
    ]


def _num(value: float) -> str:
    return format_number(value, 6).replace("-", "−")


def _pct(level: float) -> str:
    return f"{format_number(level * 100, 4)} %"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
