"""Acceptance records: the hidden data line of the sticky comment, read back only from its last line."""

from __future__ import annotations

from mlgate.acceptance import Acceptance, banners, parse_data, render_data

SHA = "ab" * 20


def _record(by: str = "bob", reason: str = "noisy", metrics: tuple[str, ...] = ("acc",)) -> Acceptance:
    return Acceptance(SHA, by, reason, metrics, "2026-12-03T08:00:00Z")


def test_data_round_trips_when_rendered_at_the_end_of_a_body() -> None:
    records = [_record(), _record("erin", "ok", ("f1", "acc"))]
    assert parse_data("report\n\n" + render_data(records) + "\n") == records


def test_data_cannot_close_the_html_comment_when_the_reason_holds_dashes() -> None:
    line = render_data([_record(reason="a --> b <!-- c ---")])
    assert line.count("-->") == 1
    assert line.endswith(" -->")
    assert parse_data(line)[0].reason == "a --> b <!-- c ---"


def test_data_is_ignored_when_it_is_not_the_last_line() -> None:
    assert parse_data(render_data([_record()]) + "\nfooter") == []


def test_data_is_ignored_when_it_is_malformed() -> None:
    assert parse_data("<!-- mlgate:acceptance {not json} -->") == []
    assert parse_data('<!-- mlgate:acceptance {"records":[{"sha":1}]} -->') == []


def test_banners_make_one_line_crediting_everyone_when_two_people_accepted() -> None:
    [line] = banners([_record(), _record("erin", "", ("f1",))])
    assert line.startswith("Accepted by @bob: noisy · @erin (still regressed: `acc`, `f1`;")
    assert banners([]) == []
