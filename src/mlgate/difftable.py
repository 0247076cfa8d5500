"""`mlgate diff`'s tables, as DVC's `metrics diff` and `params diff` print them (tabulate; no jinja2).

A table of plain ASCII cells is laid out here exactly as tabulate lays it out: tabulate 0.10 looks up its own
version through importlib.metadata when imported (≈35 ms, a tenth of a diff), and `mlgate diff` nearly always
prints such a table. Any other cell (wide characters, surrounding spaces) goes to tabulate itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from mlgate import markdown as md
from mlgate.model import Delta, Metric, format_number

Format = Literal["md", "table"]
# Letters and digits in runs joined by one `.`, `_`, `/`, `:`, `+` or `-`: no Markdown, HTML, mention or
# autolink can start there (an `_` between two letters is not emphasis in GFM).
_PLAIN_MD = re.compile(r"[A-Za-z0-9]+(?:[._/:+-][A-Za-z0-9]+)*")


def render_diff_table(
    rows: Iterable[Delta],
    fmt: Format = "table",
    *,
    base_label: str = "HEAD",
    head_label: str = "workspace",
    precision: int = 5,
    show_all: bool = False,
) -> str:
    """`mlgate diff` as DVC's `metrics diff` prints it: Path, Metric, base, head, Change ("" when no row).

    # NOTE: DVC renders with tabulate, `tablefmt="github"` for `--md` and "plain" otherwise,
    # `disable_numparse=True`, `missingval="-"`, and rounds values to `--precision` decimal places.
    """
    cell = _md_cell if fmt == "md" else _plain_cell
    table = [
        [cell(_source(d)), cell(d.name), _dvc_value(d.base, precision, cell),
         _dvc_value(d.head, precision, cell), _dvc_change(d, precision)]
        for d in rows
        if show_all or d.change != 0
    ]  # fmt: skip
    if not table:
        return ""
    headers = ["Path", "Metric", cell(base_label), cell(head_label), "Change"]
    return render_table(table, headers, fmt) + "\n"


def render_table(rows: Sequence[Sequence[str]], headers: Sequence[str], fmt: Format) -> str:
    """`tabulate(rows, headers, tablefmt="github" (md) or "plain", disable_numparse=True, missingval="-")`."""
    if not all(_laid_out_here(text) for text in (*headers, *(text for row in rows for text in row))):
        from tabulate import tabulate

        tablefmt = "github" if fmt == "md" else "plain"
        return tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True, missingval="-")
    # tabulate: left-aligned text, each column as wide as its widest cell and at least its header plus 2
    widths = [max(len(header) + 2, *(len(row[i]) for row in rows)) for i, header in enumerate(headers)]
    lines = [
        [text.ljust(width) for text, width in zip(line, widths, strict=True)] for line in [headers, *rows]
    ]
    if fmt == "table":
        return "\n".join("  ".join(line).rstrip() for line in lines)
    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    rendered = [f"| {' | '.join(line)} |" for line in lines]
    return "\n".join([rendered[0], rule, *rendered[1:]])


def _laid_out_here(text: str) -> bool:
    """Printable ASCII that tabulate would neither strip nor measure as wide characters."""
    return text.isascii() and text.isprintable() and text == text.strip()


def _source(delta: Delta) -> str:
    metric = delta.head or delta.base
    return metric.source if metric is not None else ""


def _plain_cell(text: str) -> str:
    return md.clean(text)


def _md_cell(text: str) -> str:
    """A name or value as DVC prints it when it is plain words (`eval.acc`, `metrics.json`), else a code span.

    The table may be posted (`mlgate comment`), so nothing in it may act as Markdown or HTML: an `<!--`
    hiding the rest, an `@mention`, emphasis, a link, a `www.` autolink, a `|` ending the cell.
    """
    text = _plain_cell(text)
    if not text or (_PLAIN_MD.fullmatch(text) and not text.lower().startswith("www.")):
        return text
    return md.code_span(text, table=True, limit=md.TEXT_LIMIT)


def _dvc_value(metric: Metric | None, precision: int, cell: Callable[[str], str]) -> str:
    if metric is None:
        return "-"
    if metric.value is None or not metric.is_number:
        return cell(metric.display(precision))
    return _dvc_number(metric.value, precision)


def _dvc_number(value: float, precision: int) -> str:
    if math.isinf(value) or value == int(value):
        return format_number(value)
    return str(round(value, precision))


def _dvc_change(delta: Delta, precision: int) -> str:
    change = delta.change
    return "-" if change is None else _dvc_number(change, precision)


def render_params_diff(
    rows: Sequence[tuple[str, str, str, str]],
    fmt: Format = "table",
    *,
    base_label: str = "HEAD",
    head_label: str = "workspace",
) -> str:
    """Path, Param, base, head for each (path, name, base value, head value) row ("" when no row)."""
    if not rows:
        return ""
    cell = _md_cell if fmt == "md" else _plain_cell
    table = [[cell(text) for text in row] for row in rows]
    headers = ["Path", "Param", cell(base_label), cell(head_label)]
    return render_table(table, headers, fmt) + "\n"
