"""Safe Markdown for GitHub and GitLab: code spans for untrusted text, fences, links, and budgeted tables.

Every untrusted string (metric names, param values, branch names, log lines, config titles) reaches a report
through `code_span`, `alt_text` or `fenced`; no line of a report starts with untrusted text, because GitLab
runs `/quick actions` found at the start of any line of a note. No jinja2 here: `mlgate diff` imports this.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import quote

from mlgate.console import one_line
from mlgate.model import (
    Delta,
    Metric,
    MetricResult,
    ParamChange,
    PlotImage,
    Severity,
    ValueKind,
    Verdict,
    format_number,
)
from mlgate.record import Record

T = TypeVar("T")

CELL_LIMIT = 120
TEXT_LIMIT = 300
_TICKS = re.compile(r"`+")
_ALT_SPECIAL = re.compile(r"([\\`*_\[\]<>()!|#~])")
_ID = re.compile(r"[^A-Za-z0-9._:-]")


def clean(text: str, limit: int = TEXT_LIMIT) -> str:
    """One line of text: line breaks as ⏎, tabs as spaces, control characters gone, capped with "…"."""
    text = one_line(text)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def code_span(text: str, *, table: bool = False, limit: int = CELL_LIMIT) -> str:
    """`text` as an inline code span whose fence is longer than any backtick run inside it.

    # NOTE: GFM splits table rows on `|` before it parses code spans, so a pipe inside a code span still ends
    # the cell unless it is written `\\|` (https://github.github.com/gfm/#tables-extension-, example 200).
    """
    body = clean(text, limit)
    if not body:
        return "` `"
    fence = "`"
    if "`" in body:
        fence = "`" * (max(len(run) for run in _TICKS.findall(body)) + 1)
    if body[0] == "`" or body[-1] == "`" or (body[0] == " " and body[-1] == " " and body.strip(" ")):
        body = f" {body} "  # CommonMark strips one space from each side of such a span
    if table:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}"


def alt_text(text: str, limit: int = CELL_LIMIT) -> str:
    """Text for the `[...]` of an image or a link: cleaned and every Markdown punctuation mark escaped."""
    return _ALT_SPECIAL.sub(r"\\\1", clean(text, limit))


def link_target(url: str) -> str:
    """A URL or relative file name safe inside `(...)`: spaces, parentheses and controls percent-encoded."""
    return quote(clean(url, 2000), safe=":/?#[]@!$&'*+,;=%~.-_")


def safe_id(report_id: str) -> str:
    """A report id with only `A-Za-z0-9._:-` (others become `-`), at most 64 characters."""
    return _ID.sub("-", clean(report_id, 64)) or "default"


def comment_marker(report_id: str) -> str:
    """The hidden first line that finds the sticky comment again."""
    return f"<!-- mlgate:report id={safe_id(report_id)} -->"


def fenced(lines: Sequence[str], *, prefix: str = "│ ", limit: int = TEXT_LIMIT) -> str:
    """A fenced code block of `lines`, each cleaned and prefixed, with a fence longer than any backtick run.

    # NOTE: GitLab's quick-action extractor skips only blocks fenced with exactly three backticks, so a longer
    # fence does not protect a log line such as `/close`; the prefix keeps every line from starting with it.
    """
    body = [f"{prefix}{clean(line, limit)}" for line in lines]
    longest = max((len(run) for line in body for run in _TICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([fence, *body, fence])


def table_header(columns: Sequence[str]) -> str:
    """The header row and the delimiter row of a GFM table (column names are ours, never untrusted)."""
    return "| " + " | ".join(columns) + " |\n|" + "|".join("---" for _ in columns) + "|"


def table_row(cells: Sequence[str]) -> str:
    """One GFM table row of already-escaped cells."""
    return "| " + " | ".join(cells) + " |"


class BlockView(Record):
    """The part of a block that fits: its lines, how many were left out, and the text to print."""

    header: str
    rows: tuple[str, ...]
    omitted: int
    more_line: str
    total: int

    @property
    def complete(self) -> bool:
        return self.omitted == 0

    @property
    def text(self) -> str:
        parts = [self.header, *self.rows] if self.header else list(self.rows)
        body = "\n".join(parts)
        return f"{body}\n\n{self.more_line}" if self.more_line else body


@dataclass
class Block(Generic[T]):
    """Lines built lazily from items (a table or a list), so a budget never renders rows it will not show.

    `more(start, total)` words the line that replaces items[start:], e.g. "… and 12 more metrics".
    """

    items: Sequence[T]
    row: Callable[[T], str]
    more: Callable[[int, int], str]
    header: str = ""
    _built: list[str] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    def _rows(self) -> Iterator[str]:
        yield from self._built
        for item in self.items[len(self._built) :]:
            line = self.row(item)
            self._built.append(line)
            yield line

    def full(self) -> BlockView:
        """Every row."""
        return self._view(sum(1 for _ in self._rows()))

    def empty(self) -> BlockView:
        """No row, only the header and the "more" line."""
        return self._view(0)

    def take(self, budget: int) -> BlockView | None:
        """As many whole rows as fit in `budget` characters with header and "more" line; None: none fit."""
        cost, count = len(self.header), 0
        for line in self._rows():
            cost += len(line) + 1
            if cost > budget:
                break
            count += 1
        else:
            return self._view(count) if cost <= budget else None
        return self._shrink(count, budget)

    def _shrink(self, count: int, budget: int) -> BlockView | None:
        reserve = len(self.more(0, len(self.items))) + 2
        cost = len(self.header) + sum(len(line) + 1 for line in self._built[:count])
        while count and cost + reserve > budget:
            count -= 1
            cost -= len(self._built[count]) + 1
        return self._view(count) if len(self.header) + reserve <= budget else None

    def _view(self, count: int) -> BlockView:
        total = len(self.items)
        more = self.more(count, total) if count < total else ""
        return BlockView(self.header, tuple(self._built[:count]), total - count, more, total)


# ------------------------------------------------------------------------------------ a report's pieces

_EMOJI = {Verdict.IMPROVED: "✅", Verdict.UNCHANGED: "➖", Verdict.NEW: "🆕", Verdict.REMOVED: "🗑️",
          Verdict.UNKNOWN: "❓", Verdict.REGRESSED: "↘️", Verdict.INCONCLUSIVE: "❔"}  # fmt: skip


def verdict_cell(result: MetricResult) -> str:
    """The verdict of one metric with its emoji: `❌ regressed`, `⚠️ inconclusive`, `✅ improved` …"""
    word = "out of bounds" if result.bound_violated and result.verdict is not Verdict.REGRESSED else None
    if result.blocking:
        return f"❌ {word or 'regressed'}"
    if result.warning:
        return f"⚠️ {word or result.verdict.value}"
    ungated = " (not gated)" if result.verdict is Verdict.REGRESSED and not result.gated else ""
    return f"{_EMOJI[result.verdict]} {result.verdict.value}{ungated}"


def _signed(value: float, precision: int) -> str:
    return "0" if value == 0 else f"{'−' if value < 0 else '+'}{format_number(abs(value), precision)}"


def delta_text(delta: Delta, precision: int) -> str:
    """`−0.003 ± 0.004 (−0.36 %)`: the change, the interval's half-width when known, the relative change."""
    change = delta.change
    if change is None:
        return "—"
    text = _signed(change, precision)
    if delta.interval is not None and math.isfinite(delta.interval.half_width):
        text += f" ± {format_number(delta.interval.half_width, precision)}"
    base = delta.base.value if delta.base is not None else None
    if base and change and math.isfinite(rel := change / abs(base)):
        text += f" ({_signed(rel * 100, 3)} %)"
    return text


def _value(metric: Metric | None, precision: int) -> str:
    if metric is None:
        return "—"
    if metric.value is None:
        return code_span(metric.display(precision), table=True)
    if metric.kind is ValueKind.NUMBER:
        return format_number(metric.value, precision)
    return metric.display(precision)


class MetricRows:
    """Builds each metric's gate-table row (metric, base, head, Δ, verdict, rule) once, for both tables."""

    def __init__(self, precision: int) -> None:
        self.precision = precision
        self._rows: dict[int, str] = {}
        self._rules: dict[int, str] = {}

    def __call__(self, result: MetricResult) -> str:
        row = self._rows.get(id(result))
        if row is None:
            delta, precision = result.delta, self.precision
            row = self._rows[id(result)] = (
                f"| {code_span(delta.name, table=True)} | {_value(delta.base, precision)} "
                f"| {_value(delta.head, precision)} | {delta_text(delta, precision)} "
                f"| {verdict_cell(result)} | {self._rule(result)} |"
            )
        return row

    def _rule(self, result: MetricResult) -> str:
        rule = result.rule
        if rule is None:
            return "—"
        text = self._rules.get(id(rule))
        if text is None:
            where = f"gates[{rule.index}] " if rule.index is not None else ""
            severity = " · warn" if rule.severity is Severity.WARN else ""
            text = self._rules[id(rule)] = f"{where}{code_span(rule.metric, table=True)}{severity}"
        return text


def param_row(change: ParamChange) -> str:
    """One changed param as a table row: name, base value, head value (— where absent)."""
    base = "—" if change.base is None else code_span(change.base, table=True)
    head = "—" if change.head is None else code_span(change.head, table=True)
    return table_row((code_span(change.name, table=True), base, head))


def plot_line(plot: PlotImage, urls: Mapping[Path, str]) -> str:
    """`![title](url)`, linking the uploaded image when `urls` has one, else the PNG's file name."""
    return f"![{alt_text(plot.alt or plot.title)}]({link_target(urls.get(plot.path) or plot.path.name)})"


def fact_line(label: str, value: str, code: bool = True) -> str:
    """`- Label: value`, the value in a code span unless mlgate wrote it."""
    return f"- {label}: {code_span(value, limit=200) if code else value}"


def bullets(items: Sequence[str], prefix: str, noun: str, most: int = 20) -> list[str]:
    """Untrusted lines as `prefix` + code span, at most `most` of them, then "… and N more <noun>"."""
    lines = [f"{prefix}{code_span(item, limit=TEXT_LIMIT)}" for item in items[:most]]
    extra = len(items) - most
    return [*lines, f"{prefix}… and {extra} more {noun}"] if extra > 0 else lines
