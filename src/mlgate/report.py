"""The report: gate result and comparison → budgeted Markdown, a self-contained HTML page.

Markdown and HTML come from Jinja templates (reporttemplate.py: sandboxed, `StrictUndefined`); every
untrusted string is escaped in Python (`mlgate.markdown`) before a Markdown template sees it, and by
autoescape in HTML. jinja2 is imported inside functions, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import markdown as md
from mlgate import wording
from mlgate.markdown import Block, BlockView, code_span
from mlgate.model import Comparison, GateResult, PlotImage, RunRecord
from mlgate.record import Record
from mlgate.reporttemplate import (
    HTML_TEMPLATE,
    MARKDOWN_TEMPLATE,
    load_template,
    render_template,
    templates_dir,
)

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml", ".webp": "image/webp"}  # fmt: skip


class ReportInput(Record):
    """Everything one report shows; strings in it are untrusted unless this module made them."""

    title: str
    gate: GateResult
    comparison: Comparison
    plots: Sequence[PlotImage] = ()
    run: RunRecord | None = None
    report_id: str = "default"
    banners: Sequence[str] = ()
    full_report_url: str | None = None
    data_checks: Sequence[str] = ()
    notes: Sequence[str] = ()
    precision: int = 4
    base_label: str = "main"
    head_label: str = "HEAD"
    provenance: Sequence[
        tuple[str, str]
    ] = ()  # more (label, untrusted value) facts: data reference, confirmation


# ------------------------------------------------------------------------------------------------ content

_LOG_LINES = 40


def _more_gated(blocking: int) -> Callable[[int, int], str]:
    """The "more" line of the gate table, whose rows start with the `blocking` regressions."""

    def more(start: int, total: int) -> str:
        failing, count = max(blocking - start, 0), total - start
        if failing == count:
            return f"… and {failing} more regression{'s' * (failing != 1)} in the full report"
        return f"… and {count} more gated metrics ({failing} regressions) in the full report"

    return more


@dataclass
class ReportParts:
    """The report's sections as safe Markdown, built once; `context` picks what one budget step shows."""

    inp: ReportInput
    marker: str
    verdict: str
    summary: str
    telemetry_facts: list[wording.Fact]
    log_lines: tuple[str, ...]
    provenance_facts: list[wording.Fact]
    noise: str
    blocks: dict[str, Block[Any]]

    def footer(self, truncated: bool) -> str:
        url = self.inp.full_report_url
        link = f"📄 [Full report]({md.link_target(url)})" if url else ""
        if not truncated:
            return link
        return (
            f"✂️ Shortened to fit the size limit. {link}"
            if link
            else "✂️ Shortened to fit the size limit; the full report is in the job's artifacts."
        )

    def _gate_note(self) -> str:
        if self.blocks["gate"].items:
            return ""
        return _NO_GATE if self.blocks["details"].items else _NO_METRICS

    def context(
        self, views: Mapping[str, BlockView | None], truncated: bool, drop: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        inp = self.inp

        def keep(name: str) -> bool:
            return name not in drop

        gate = views.get("gate")
        log = md.fenced(self.log_lines) if self.log_lines and keep("log") else ""
        return {
            "report": inp, "marker": self.marker, "verdict": self.verdict, "summary": self.summary,
            "banners": md.bullets(inp.banners, "> ", "banners") if keep("banners") else [],
            "gate": gate if gate is not None and gate.total else None,
            "gate_note": self._gate_note() if keep("gate") else "",
            "noise": self.noise if keep("gate") else "",
            "params": views.get("params"), "plots": views.get("plots"),
            "telemetry": [md.fact_line(*f) for f in self.telemetry_facts] if keep("telemetry") else [],
            "log": log, "log_count": len(self.log_lines),
            "data_checks": md.bullets(inp.data_checks, "- ", "data checks") if keep("data_checks") else [],
            "notes": md.bullets(inp.notes, "- ", "notes") if keep("notes") else [],
            "provenance": [md.fact_line(*f) for f in self.provenance_facts] if keep("provenance") else [],
            "details": views.get("details"), "details_open": not self.blocks["gate"].items,
            "footer": self.footer(truncated), "truncated": truncated,
        }  # fmt: skip


_NO_GATE = "No metric matched a gate rule: every metric is listed under “All metrics”."
_NO_METRICS = "No metrics were read."


def _summary(inp: ReportInput) -> str:
    head = (inp.comparison.head_sha or "")[:7]
    ref = inp.comparison.baseline
    base = f"({code_span(ref.sha[:7])})" if ref else "(no baseline)"
    head_text = f" ({code_span(head)})" if head else ""
    labels = (
        f"{code_span(inp.head_label, limit=60)}{head_text} vs {code_span(inp.base_label, limit=60)} {base}"
    )
    return f"Report {code_span(inp.title, limit=100)} · {labels}"


def _blocks(inp: ReportInput, image_urls: Mapping[Path, str]) -> dict[str, Block[Any]]:
    """The report's tables and lists: gated metrics first, then changed params, plots, every metric."""
    results = sorted(inp.gate.results, key=wording.rank)
    gated = [r for r in results if r.gated]
    row = md.MetricRows(inp.precision)

    base, head = (
        code_span(inp.base_label, table=True, limit=40),
        code_span(inp.head_label, table=True, limit=40),
    )
    header = md.table_header(["Metric", base, head, "Δ", "Verdict", "Rule"])
    return {
        "gate": Block(gated, row, _more_gated(sum(1 for r in gated if r.blocking)), header),
        "params": Block(inp.comparison.param_changes, md.param_row, _more("changed params"),
                        md.table_header(["Param", base, head])),
        "plots": Block(inp.plots, functools.partial(md.plot_line, urls=image_urls), _more("plots")),
        "details": Block(results, row, _more("metrics"), header),
    }  # fmt: skip


def build_parts(inp: ReportInput, image_urls: Mapping[Path, str]) -> ReportParts:
    """Every section of `inp` as Markdown; table rows are built lazily, each at most once."""
    failed_run = inp.run is not None and not inp.run.ok
    return ReportParts(
        inp=inp,
        marker=md.comment_marker(inp.report_id),
        verdict=f"### {wording.verdict_text(inp.gate, inp.run)}",
        summary=_summary(inp),
        telemetry_facts=wording.telemetry_facts(inp.run) if inp.run else [],
        log_lines=tuple(inp.run.log_tail[-_LOG_LINES:]) if inp.run and failed_run else (),
        provenance_facts=[
            *wording.provenance_facts(inp.comparison, inp.base_label, inp.head_label),
            *(wording.Fact(label, value) for label, value in inp.provenance),
        ],
        noise=wording.noise_line(inp.comparison, inp.gate, inp.precision),
        blocks=_blocks(inp, image_urls),
    )


def _more(noun: str) -> Callable[[int, int], str]:
    return lambda start, total: f"… and {total - start} more {noun} in the full report"


def html_rows(inp: ReportInput) -> list[tuple[dict[str, str], bool]]:
    """Each metric as plain cells for the HTML page (autoescape escapes them), with whether it is gated."""
    rows = []
    for result in sorted(inp.gate.results, key=wording.rank):
        delta, rule = result.delta, result.rule
        cls = "fail" if result.blocking else "warn" if result.warning else result.verdict.value
        cells = {
            "name": delta.name, "verdict": md.verdict_cell(result), "reason": result.reason, "cls": cls,
            "base": delta.base.display(inp.precision) if delta.base else "—",
            "head": delta.head.display(inp.precision) if delta.head else "—",
            "delta": md.delta_text(delta, inp.precision), "rule": rule.metric if rule else "—",
        }  # fmt: skip
        rows.append((cells, result.gated))
    return rows


# --------------------------------------------------------------------------------------------- Markdown


class _Plan(Record):
    """One step down the budget ladder: the sections given up, and the table cut to fit (if any)."""

    drop: frozenset[str]
    flex: str | None = None


def _ladder() -> tuple[_Plan, ...]:
    """DESIGN §7: details shortened, then dropped, then log tail, plots, params; then the gate table cut."""
    steps: list[_Plan] = [_Plan(frozenset()), _Plan(frozenset(), "details")]
    dropped: set[str] = {"details"}
    for name in ("log", "plots", "params"):
        steps.append(_Plan(frozenset(dropped)))
        dropped.add(name)
    steps.append(_Plan(frozenset(dropped), "gate"))
    dropped |= {"provenance", "data_checks", "notes", "telemetry"}
    steps.append(_Plan(frozenset(dropped), "gate"))
    steps.append(_Plan(frozenset(dropped | {"gate", "banners"})))
    return tuple(steps)


_LADDER = _ladder()


def render_markdown(
    inp: ReportInput,
    *,
    max_chars: int | None = None,
    image_urls: Mapping[Path, str] | None = None,
    template: Path | None = None,
) -> str:
    """The report as Markdown; with `max_chars`, never longer, giving sections up in DESIGN §7's order."""
    parts = build_parts(inp, image_urls or {})
    render = _markdown_renderer(template)
    if max_chars is None:
        return render(parts.context({name: block.full() for name, block in parts.blocks.items()}, False))
    return _fit(render, parts, max_chars)


def _fit(render: Callable[[dict[str, Any]], str], parts: ReportParts, max_chars: int) -> str:
    for plan in _LADDER:
        body = _try_plan(render, parts, plan, max_chars)
        if body is not None:
            return body
    return _minimal(parts, max_chars)


def _try_plan(
    render: Callable[[dict[str, Any]], str], parts: ReportParts, plan: _Plan, max_chars: int
) -> str | None:
    views: dict[str, BlockView | None] = {}
    for name, block in parts.blocks.items():
        if name in plan.drop or name == plan.flex:
            continue
        view = block.take(max_chars)
        if view is None or not view.complete:
            return None  # a section this step keeps whole cannot fit: try the next step
        views[name] = view
    if plan.flex is not None:
        block, empty = parts.blocks[plan.flex], parts.blocks[plan.flex].empty()
        rest = len(render(parts.context({**views, plan.flex: empty}, True, plan.drop))) - len(empty.text)
        view = views[plan.flex] = block.take(max_chars - rest)
        if len(block) and (view is None or not view.rows):
            return None  # not one row fits beside the rest: give up more in the next step
    truncated = bool(plan.drop) or any(v is None or not v.complete for v in views.values())
    body = render(parts.context(views, truncated, plan.drop))
    return body if len(body) <= max_chars else None


def _minimal(parts: ReportParts, max_chars: int) -> str:
    """Marker, verdict and the link, cut line by line (never mid-line) when even they do not fit."""
    kept: list[str] = []
    for line in (parts.marker, parts.verdict, "", parts.footer(truncated=True)):
        if sum(len(x) + 1 for x in kept) + len(line) + 1 > max_chars:
            break
        kept.append(line)
    return ("\n".join(kept) + "\n")[:max_chars]


def compile_templates(template: Path | None) -> None:
    """Compile the Markdown (`template`, else the built-in) and HTML templates now, e.g. while the plot
    worker draws, so that rendering afterwards only runs them (Jinja keeps what it compiled). The built-in
    template's partials too: Jinja compiles an `{% include %}` when it is first rendered."""
    _markdown_renderer(template)
    builtin = (str(templates_dir()),)
    if template is None:
        for partial in sorted((templates_dir() / "partials").glob("*.md.j2")):
            load_template(builtin, f"partials/{partial.name}", autoescape=False, origin=None)
    load_template(builtin, HTML_TEMPLATE, autoescape=True, origin=None)


def _markdown_renderer(template: Path | None) -> Callable[[dict[str, Any]], str]:
    search = (str(template.resolve().parent), str(templates_dir())) if template else (str(templates_dir()),)
    name = template.name if template else MARKDOWN_TEMPLATE
    compiled = load_template(search, name, autoescape=False, origin=template)

    def render(context: dict[str, Any]) -> str:
        text = render_template(compiled, context, template)
        lines = text.strip("\n").split("\n")
        if lines[0] != context["marker"]:  # NOTE: the sticky comment is found by it: a custom template's
            lines.insert(0, context["marker"])  # body always starts with it, or every run would post anew
        kept = [line for i, line in enumerate(lines) if line or lines[i - 1]]  # no two blank lines in a row
        return "\n".join(kept) + "\n"

    return render


# -------------------------------------------------------------------------------------------------- HTML


def render_html(inp: ReportInput) -> str:
    """A self-contained HTML page (inline CSS, images as data: URIs); everything escaped by autoescape."""
    parts = build_parts(inp, {})
    compiled = load_template((str(templates_dir()),), HTML_TEMPLATE, autoescape=True, origin=None)
    rows, url = html_rows(inp), inp.full_report_url
    context = {
        "title": inp.title,
        "verdict": wording.verdict_text(inp.gate, inp.run),
        "outcome": "failed" if not inp.gate.passed or (inp.run and not inp.run.ok) else "passed",
        "report_id": md.safe_id(inp.report_id),
        "banners": list(inp.banners),
        "gate_rows": [row for row, gated in rows if gated],
        "all_rows": [row for row, _ in rows],
        "params": inp.comparison.param_changes,
        "plots": [_image(plot) for plot in inp.plots],
        "telemetry": parts.telemetry_facts,
        "log_tail": list(parts.log_lines),
        "data_checks": list(inp.data_checks),
        "notes": list(inp.notes),
        "provenance": parts.provenance_facts,
        "noise": wording.noise_line(inp.comparison, inp.gate, inp.precision, markdown=False),
        "full_report_url": url if url and url.startswith(("https://", "http://")) else None,
    }
    return compiled.render(context)


def _image(plot: PlotImage) -> dict[str, str | None]:
    import base64

    try:
        data = base64.b64encode(plot.path.read_bytes()).decode("ascii")
    except OSError:
        return {"title": plot.title, "alt": plot.alt or plot.title, "src": None, "name": plot.path.name}
    mime = _MIME.get(plot.path.suffix.lower(), "image/png")
    return {"title": plot.title, "alt": plot.alt or plot.title, "src": f"data:{mime};base64,{data}",
            "name": plot.path.name}  # fmt: skip


__all__ = ["ReportInput", "render_html", "render_markdown"]
