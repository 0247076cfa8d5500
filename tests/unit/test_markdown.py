"""Escaping of untrusted text for GitHub/GitLab Markdown, checked by parsing the output with markdown-it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from mlgate.markdown import (
    Block,
    alt_text,
    clean,
    code_span,
    comment_marker,
    fenced,
    link_target,
    table_header,
    table_row,
)

HOSTILE = ["|", "\\|", "`", "``", "```", "<!--", "-->", "@alice", "/close", "\n", "\r\n", "\t", "\x00",
           "\u202e", "\u2028", "<script>",
           "*", "_", "[x](y)", " ", "é", "日本", "🙂", "#", ">", "\\"]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=12).map("".join),
)
GFM = MarkdownIt("commonmark").enable("table")


def inline_children(markdown: str) -> list[Token]:
    tokens = GFM.parse(markdown)
    return [child for token in tokens if token.type == "inline" for child in token.children or []]


def gfm_cells(row: str) -> list[str]:
    """Cells as GFM splits a row: on every `|` not preceded by a backslash (tables extension, example 200)."""
    return re.split(r"(?<!\\)\|", row)[1:-1]


@pytest.mark.parametrize(
    ("text", "fence"), [("plain", "`"), ("a`b", "``"), ("a``b`", "```"), ("````", "`````")]
)
def test_code_span_fence_is_longer_than_any_backtick_run_when_text_has_backticks(
    text: str, fence: str
) -> None:
    span = code_span(text)
    assert span.startswith(fence)
    assert span.endswith(fence)
    assert not span.startswith(fence + "`")


@pytest.mark.parametrize("text", ["`x", "x`", "`", " a ", "`` ``"])
def test_code_span_keeps_edge_backticks_and_spaces_when_text_starts_or_ends_with_them(text: str) -> None:
    [child] = inline_children(code_span(text))
    assert child.type == "code_inline"
    assert child.content == text


@given(hostile_text)
def test_code_span_renders_exactly_the_cleaned_text_when_text_is_hostile(text: str) -> None:
    children = inline_children("x " + code_span(text))
    codes = [c for c in children if c.type == "code_inline"]
    assert len(codes) == 1
    assert codes[0].content == (clean(text, 120) or " ")


@given(hostile_text)
def test_code_span_stays_inside_its_table_cell_when_text_has_pipes(text: str) -> None:
    row = table_row((code_span(text, table=True), "2"))
    assert len(gfm_cells(row)) == 2
    tokens = GFM.parse(table_header(["a", "b"]) + "\n" + row + "\n")
    cells = [t for t in tokens if t.type == "inline"][2:]
    assert [c.type for c in cells[0].children or []] == ["code_inline"]
    assert (cells[0].children or [])[0].content == (clean(text, 120) or " ")
    assert cells[1].content == "2"


def test_code_span_escapes_pipes_only_when_in_a_table() -> None:
    assert code_span("a|b") == "`a|b`"
    assert code_span("a|b", table=True) == "`a\\|b`"


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\rb", "a\u2028b"])
def test_clean_turns_line_breaks_into_a_visible_mark_when_text_spans_lines(text: str) -> None:
    assert clean(text) == "a⏎b"


def test_clean_removes_control_and_bidi_characters_when_present() -> None:
    assert clean("a\x00b\x1b[31mc\u202ed\ufeff\x7f") == "ab[31mcd"
    assert clean("a\tb") == "a b"


def test_clean_caps_length_with_an_ellipsis_when_text_is_long() -> None:
    assert clean("x" * 500, 10) == "x" * 9 + "…"
    assert len(code_span("y" * 1000)) == 120 + 2


def test_comment_marker_cannot_be_closed_early_when_id_is_hostile() -> None:
    marker = comment_marker("pr --> <b>@x</b>\n/close")
    assert marker.count("-->") == 1
    assert marker.endswith(" -->")
    assert re.fullmatch(r"<!-- mlgate:report id=[A-Za-z0-9._:-]+ -->", marker)
    assert comment_marker("") == "<!-- mlgate:report id=default -->"


@given(st.lists(hostile_text, max_size=8))
def test_fenced_block_holds_every_line_when_lines_contain_fences(lines: list[str]) -> None:
    block = fenced(["```", "````x", *lines])
    tokens = GFM.parse("intro\n\n" + block + "\n\nafter\n")
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content.splitlines() == ["│ " + clean(line) for line in ["```", "````x", *lines]]
    assert tokens[-2].content == "after"


def test_fenced_block_prefixes_every_line_when_log_holds_quick_actions() -> None:
    block = fenced(["/close", "@bob", "/label ~bug"])
    assert all(line.startswith(("```", "│ ")) for line in block.splitlines())


def test_alt_text_stays_inside_the_image_brackets_when_title_is_hostile() -> None:
    title = "loss](http://evil) ![x](y) <img> *b* \\"
    [image] = [c for c in inline_children(f"![{alt_text(title)}](a.png)") if c.type == "image"]
    assert image.attrs["src"] == "a.png"
    assert "".join(child.content for child in image.children or []) == title


def test_link_target_encodes_spaces_and_parentheses_when_a_file_name_has_them() -> None:
    target = link_target("plots/my plot (1).png")
    assert target == "plots/my%20plot%20%281%29.png"
    [image] = [c for c in inline_children(f"![p]({target})") if c.type == "image"]
    assert image.attrs["src"] == target


def _block(count: int) -> Block[int]:
    more = lambda start, total: f"… and {total - start} more"  # noqa: E731
    return Block(list(range(count)), lambda i: f"| row {i} |", more, "| h |\n|---|")


@given(st.integers(0, 50), st.integers(0, 400))
def test_block_take_never_exceeds_the_budget_when_rows_do_not_fit(count: int, budget: int) -> None:
    view = _block(count).take(budget)
    if view is None:
        return
    assert len(view.text) <= budget
    assert view.rows == tuple(f"| row {i} |" for i in range(len(view.rows)))
    assert view.omitted == count - len(view.rows)
    assert (view.more_line == f"… and {view.omitted} more") if view.omitted else not view.more_line


def test_block_take_keeps_every_row_when_they_fit() -> None:
    view = _block(3).take(1000)
    assert view is not None
    assert view.complete
    assert view.text == "| h |\n|---|\n| row 0 |\n| row 1 |\n| row 2 |"


def test_block_take_gives_none_when_not_even_the_header_fits() -> None:
    assert _block(3).take(5) is None


def test_telemetry_names_the_ray_cluster_job_node_and_times_when_the_backend_is_ray() -> None:
    from mlgate.model import RunRecord
    from mlgate.wording import telemetry_facts

    run = RunRecord(
        command="python train.py", backend="ray", exit_code=0, duration_s=5.0,
        extra={"ray_address": "http://127.0.0.1:8265", "ray_version": "2.60.0", "ray_job_id": "mlgate-abc-1",
               "ray_status": "SUCCEEDED", "ray_node": "10.0.0.5 (node1)", "ray_queue_s": "0.40",
               "ray_run_s": "3.20"},
    )  # fmt: skip
    facts = {fact.label: fact.value for fact in telemetry_facts(run)}
    assert facts["Cluster"] == "http://127.0.0.1:8265 · Ray 2.60.0"
    assert facts["Job"] == "mlgate-abc-1 · SUCCEEDED"
    assert facts["Node"] == "10.0.0.5 (node1)"
    assert facts["Job time"].startswith("queued 0.4")
    assert "ran 3.2" in facts["Job time"]


def test_telemetry_names_the_docker_host_and_transfer_when_the_work_tree_was_copied() -> None:
    from mlgate.model import RunRecord
    from mlgate.wording import telemetry_facts

    run = RunRecord(
        command="python train.py", backend="docker", exit_code=0, duration_s=5.0,
        extra={"image": "trainer:cuda12", "docker_host": "ssh://ci@gpu-box", "docker_transfer": "copy"},
    )  # fmt: skip
    facts = {fact.label: fact.value for fact in telemetry_facts(run)}
    assert facts["Image"] == "trainer:cuda12"
    assert facts["Docker host"] == "ssh://ci@gpu-box · work tree copied in, results copied out"
