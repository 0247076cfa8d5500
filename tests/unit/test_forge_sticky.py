"""The sticky comment's rules that need no server: marker lines, run stamps, ownership, reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import ForgeError
from mlgate.forge.dryrun import DryRunForge
from mlgate.forge.sticky import parse_marker, render_marker, stamp_key, upsert_sticky_comment


def test_render_marker_round_trips_through_parse_marker_when_given_an_id_and_stamp() -> None:
    line = render_marker("nightly.eval", "2026-12-03T08:00:00Z/123.2")

    assert line == "<!-- mlgate:report id=nightly.eval run=2026-12-03T08:00:00Z/123.2 -->"
    assert parse_marker(f"{line}\nbody") == ("nightly.eval", "2026-12-03T08:00:00Z/123.2")


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026-12-03T08:00:00Z/9", "2026-12-03T08:00:01Z/1"),
        ("2026-12-03T08:00:00Z/9", "2026-12-03T08:00:00Z/10"),
        ("2026-12-03T08:00:00Z/10", "2026-12-03T08:00:00Z/10.2"),
        ("2026-12-03T09:00:00+02:00/1", "2026-12-03T08:00:00Z/1"),
    ],
)
def test_stamp_key_orders_runs_by_time_then_run_number_when_compared(older: str, newer: str) -> None:
    assert stamp_key(older) < stamp_key(newer)


@pytest.mark.parametrize("bad", ["yesterday", "2026-12-03T08:00:00/1", "2026-12-03T08:00:00Z/x"])
def test_render_marker_raises_value_error_when_the_stamp_is_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        render_marker("default", bad)


def test_render_marker_raises_value_error_when_the_report_id_has_spaces() -> None:
    with pytest.raises(ValueError, match="report id"):
        render_marker("my report", "2026-12-03T08:00:00Z")


def test_upsert_replaces_a_marker_line_already_in_the_body_when_given_one(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path)
    stale = render_marker("default", "2026-01-01T00:00:00Z")

    kept = upsert_sticky_comment(forge, 1, f"{stale}\nreport", "default", run_stamp="2026-12-03T08:00:00Z/5")

    assert kept.body == f"{render_marker('default', '2026-12-03T08:00:00Z/5')}\nreport"


def test_upsert_keeps_separate_comments_when_report_ids_differ(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path)

    a = upsert_sticky_comment(forge, 1, "a", "train", run_stamp="2026-12-03T08:00:00Z")
    b = upsert_sticky_comment(forge, 1, "b", "eval", run_stamp="2026-12-03T08:00:00Z")

    assert a.id != b.id
    assert len(forge.list_comments(1)) == 2


def test_upsert_deletes_extras_but_keeps_one_holding_a_newer_run_when_reconciling(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path)
    old = forge.create_comment(1, f"{render_marker('default', '2026-12-03T08:00:00Z')}\nold")
    dup = forge.create_comment(1, f"{render_marker('default', '2026-12-03T08:00:00Z')}\ndup")
    newer = forge.create_comment(1, f"{render_marker('default', '2026-12-03T10:00:00Z')}\nnewer")

    kept = upsert_sticky_comment(forge, 1, "mine", "default", run_stamp="2026-12-03T09:00:00Z")

    assert kept.id == old.id
    assert [c.id for c in forge.list_comments(1)] == [old.id, newer.id]  # the newer run moves itself in
    assert dup.id not in [c.id for c in forge.list_comments(1)]


def test_upsert_raises_forge_error_when_the_forge_cannot_name_its_bot(tmp_path: Path) -> None:
    class NamelessForge(DryRunForge):
        def bot_identity(self) -> str | None:
            return None

    with pytest.raises(ForgeError, match="bot's own"):
        upsert_sticky_comment(NamelessForge(tmp_path), 1, "x", "default", run_stamp="2026-12-03T08:00:00Z")
