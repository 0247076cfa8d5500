"""`mlgate explain METRIC`: why a metric passed or failed, with its values, sources, rule and arithmetic."""

from __future__ import annotations

import argparse
import difflib

from mlgate.commands import Context, Subparsers, add_command, evaluate_here
from mlgate.errors import ExitCode, UsageError
from mlgate.model import Direction, MetricResult, format_number
from mlgate.pipeline import Evaluation


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
    evaluation = evaluate_here(ctx)
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
    if rule.min is not None or rule.max is not None:
        lines.append(f"bounds:    min {rule.min}, max {rule.max}")
    return lines
