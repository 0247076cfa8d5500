"""`mlgate diff`: metrics and params of the work tree (or REV) against the baseline, as DVC users expect."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING, Any

from mlgate.commands import Context, Subparsers, add_command, evaluate_here
from mlgate.errors import ExitCode
from mlgate.model import Metric, Verdict, format_number

if TYPE_CHECKING:
    from mlgate.pipeline import Evaluation


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "diff",
        run,
        help="compare metrics and params with the baseline (like `dvc metrics diff`)",
        parents=parents,
    )
    parser.add_argument("rev", nargs="?", help="compare this commit instead of the work tree")
    parser.add_argument(
        "--base", metavar="REV", help="baseline commit (default: merge-base with the base branch)"
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--md", action="store_const", const="md", dest="format", help="Markdown table")
    fmt.add_argument("--json", action="store_const", const="json", dest="format", help="JSON")
    fmt.add_argument(
        "--table", action="store_const", const="table", dest="format", help="plain table (default)"
    )
    parser.add_argument("--all", action="store_true", help="show unchanged metrics and params too")
    parser.add_argument(
        "--precision", type=_precision, default=None, metavar="N", help="decimal places, 0 to 15 (default 5)"
    )
    parser.add_argument("--no-params", action="store_true", help="metrics only")


def run(ctx: Context) -> ExitCode:
    evaluation = evaluate_here(ctx)
    with evaluation.repo:
        return _print_diff(ctx, evaluation)


def _print_diff(ctx: Context, evaluation: Evaluation) -> ExitCode:
    precision = 5 if ctx.flag("precision") is None else ctx.flag("precision")
    show_all = bool(ctx.flag("all"))
    if ctx.flag("format") == "json":
        data = diff_json(evaluation, show_all, params=not ctx.flag("no_params"))
        ctx.console.print(json.dumps(data, indent=2, sort_keys=False))
        return ExitCode.OK
    from mlgate.difftable import Format, render_diff_table, render_params_diff

    fmt: Format = "md" if ctx.flag("format") == "md" else "table"

    base_label = evaluation.base_label if evaluation.baseline is None else evaluation.baseline.ref.sha[:7]
    if evaluation.baseline is None:
        ctx.console.info(f"no baseline found at {evaluation.base_sha[:12]} ({evaluation.base_label})")
    labels = {"base_label": base_label, "head_label": evaluation.head_label}
    deltas = evaluation.comparison.deltas
    table = render_diff_table(deltas, fmt, precision=precision, show_all=show_all, **labels)
    if table:
        ctx.console.print(table.rstrip("\n"))
    params = param_rows(evaluation, show_all) if not ctx.flag("no_params") else []
    if params:
        ctx.console.print("")
        ctx.console.print(render_params_diff(params, fmt, **labels).rstrip("\n"))
    return ExitCode.OK


Row = tuple[str, str, str, str]


def param_rows(evaluation: Evaluation, show_all: bool) -> list[Row]:
    """(path, param, base, head) for each changed param (each one with `show_all`)."""
    if evaluation.baseline is None:
        return []
    head, base = evaluation.params, evaluation.baseline.params
    rows: list[Row] = []
    for name in list(head.params) + [n for n in base.params if n not in head.params]:
        head_param, base_param = head.get(name), base.get(name)
        head_value = head_param.value if head_param else "-"
        base_value = base_param.value if base_param else "-"
        either = head_param or base_param
        if either is not None and (show_all or head_value != base_value):
            rows.append((either.source, name, base_value, head_value))
    return rows


def diff_json(evaluation: Evaluation, show_all: bool, *, params: bool = True) -> dict[str, Any]:
    """DVC's `metrics diff --json` shape ({path: {metric: {old, new, diff}}}) plus the verdicts; `params`
    False leaves the params out (`--no-params`)."""
    metrics: dict[str, dict[str, Any]] = {}
    for result in evaluation.gate.results:
        delta = result.delta
        if not show_all and delta.change == 0:
            continue
        side = delta.head or delta.base
        assert side is not None
        metrics.setdefault(side.source, {})[delta.name] = {
            "old": _json_value(delta.base),
            "new": _json_value(delta.head),
            "diff": _finite(delta.change),
            "verdict": result.verdict.value,
            "gated": result.gated,
        }
    changed: dict[str, dict[str, Any]] = {}
    for source, name, old, new in param_rows(evaluation, show_all) if params else []:
        changed.setdefault(source, {})[name] = {"old": old, "new": new}
    return {
        "base": {
            "sha": evaluation.base_sha,
            "label": evaluation.base_label,
            "found": evaluation.baseline is not None,
        },
        "outcome": evaluation.gate.outcome.value,
        "metrics": metrics,
        "params": changed,
        "regressions": [
            r.name for r in evaluation.gate.results if r.verdict is Verdict.REGRESSED and r.gated
        ],
    }


def _json_value(metric: Metric | None) -> float | str | None:
    if metric is None:
        return None
    if metric.value is None:
        return metric.raw
    return _finite(metric.value)


def _finite(value: float | None) -> float | str | None:
    """JSON has no NaN or Infinity: those are written as the strings "nan", "inf", "-inf"."""
    if value is None or math.isfinite(value):
        return value
    return format_number(value)


def _precision(text: str) -> int:
    """`--precision N`: a whole number of decimal places, 0 to 15 (a double holds no more)."""
    try:
        places = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= places <= 15:
        raise argparse.ArgumentTypeError(f"{places} is out of range: give 0 to 15 decimal places")
    return places
