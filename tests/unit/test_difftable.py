"""`mlgate diff`'s tables: laid out as tabulate lays them out, for every cell, in both formats."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st
from tabulate import tabulate

from mlgate.difftable import Format, render_table

# Mostly the printable ASCII that is laid out in mlgate, some of what goes to tabulate itself.
PLAIN = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", max_size=12)
CELL = PLAIN | st.text(alphabet=string.printable + "é漢\u200b", max_size=12)


@given(
    fmt=st.sampled_from(["md", "table"]),
    headers=st.lists(PLAIN, min_size=1, max_size=4),
    data=st.data(),
)
def test_table_is_what_tabulate_prints_when_cells_are_any_text(
    fmt: Format, headers: list[str], data: st.DataObject
) -> None:
    cells = PLAIN if data.draw(st.booleans()) else CELL
    row = st.lists(cells, min_size=len(headers), max_size=len(headers))
    rows = data.draw(st.lists(row, min_size=1, max_size=5))
    tablefmt = "github" if fmt == "md" else "plain"
    expected = tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True, missingval="-")
    assert render_table(rows, headers, fmt) == expected


def test_table_is_what_tabulate_prints_when_cells_are_a_typical_diff() -> None:
    headers = ["Path", "Metric", "70cd597", "workspace", "Change"]
    rows = [
        ["metrics.json", "eval.m3_accuracy", "0.803", "0.7", "-0.103"],
        ["m.json", "a\\|b", "-", "1", "-"],
    ]
    for fmt, tablefmt in (("md", "github"), ("table", "plain")):
        expected = tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True, missingval="-")
        assert render_table(rows, headers, fmt) == expected  # type: ignore[arg-type]
