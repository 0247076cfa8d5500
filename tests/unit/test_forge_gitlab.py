"""GitLabForge and the sticky MR note through real python-gitlab against the fake GitLab (no mocks)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import ForgeError
from mlgate.forge import connect
from mlgate.forge.gitlab import GitLabForge, neutralize_quick_actions
from mlgate.forge.sticky import parse_marker, render_marker, upsert_sticky_comment
from tests.fakeforge import FakeForge, Fault
from tests.fakeforge.drive import (
    GITLAB_PROJECT,
    GITLAB_PROJECT_ID,
    HEAD_SHA,
    MR,
    make_gitlab_forge,
    run_concurrently,
)

pytest_plugins = ["tests.fakeforge.fixtures"]  # fake_forge, github_forge, gitlab_forge

RUN_1 = "2026-12-03T08:00:00Z/101"
RUN_2 = "2026-12-03T09:00:00Z/102"
RUN_3 = "2026-12-03T10:00:00Z/103"
NOTES = r"/merge_requests/\d+/notes$"


def bot_notes(fake: FakeForge, iid: int = MR) -> list[dict[str, object]]:
    return [n for n in fake.gitlab.notes(GITLAB_PROJECT, iid) if n["username"] == "mlgate-bot"]


def test_upsert_updates_and_does_not_duplicate_when_run_twice(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    first = upsert_sticky_comment(gitlab_forge, MR, "report one", "default", run_stamp=RUN_1)
    second = upsert_sticky_comment(gitlab_forge, MR, "report two", "default", run_stamp=RUN_2)

    assert second.id == first.id
    [stored] = bot_notes(fake_forge)
    assert stored["body"] == f"{render_marker('default', RUN_2)}\nreport two"
    assert [r.method for r in fake_forge.writes()] == ["POST", "PUT"]


def test_upsert_finds_the_bot_note_when_it_is_on_page_3(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    for i in range(250):
        fake_forge.gitlab.add_note(GITLAB_PROJECT, MR, "alice", f"chatter {i}")
    old = fake_forge.gitlab.add_note(
        GITLAB_PROJECT, MR, "mlgate-bot", f"{render_marker('default', RUN_1)}\nold"
    )
    fake_forge.clear_log()

    kept = upsert_sticky_comment(gitlab_forge, MR, "new", "default", run_stamp=RUN_2)

    assert kept.id == old
    assert [r.method for r in fake_forge.writes()] == ["PUT"]
    assert "3" in [r.query.get("page") for r in fake_forge.log if r.path.endswith("/notes")]


def test_upsert_never_touches_another_users_note_when_it_carries_the_marker(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    forged = f"{render_marker('default', RUN_3)}\nI copied the marker"
    alice = fake_forge.gitlab.add_note(GITLAB_PROJECT, MR, "alice", forged)

    upsert_sticky_comment(gitlab_forge, MR, "ours", "default", run_stamp=RUN_1)

    stored = {n["id"]: n for n in fake_forge.gitlab.notes(GITLAB_PROJECT, MR)}
    assert stored[alice]["body"] == forged
    assert all(str(alice) not in r.path for r in fake_forge.writes())
    assert len(bot_notes(fake_forge)) == 1


def test_upsert_ignores_system_notes_when_they_mention_the_marker(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.gitlab.add_note(GITLAB_PROJECT, MR, "mlgate-bot", render_marker("default", RUN_3), system=True)

    upsert_sticky_comment(gitlab_forge, MR, "ours", "default", run_stamp=RUN_1)

    assert [n["system"] for n in bot_notes(fake_forge)] == [True, False]


def test_upsert_ends_with_one_note_when_a_502_came_after_the_create_was_stored(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.inject(Fault.error_after("POST", NOTES))

    kept = upsert_sticky_comment(gitlab_forge, MR, "body", "default", run_stamp=RUN_1)

    [stored] = bot_notes(fake_forge)
    assert stored["id"] == kept.id
    assert [r.method for r in fake_forge.writes()] == ["POST"]


def test_upsert_recovers_when_the_connection_resets_during_the_create(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.inject(Fault.reset("POST", NOTES))

    upsert_sticky_comment(gitlab_forge, MR, "body", "default", run_stamp=RUN_1)

    assert len(bot_notes(fake_forge)) == 1


def publisher(forge: GitLabForge, iid: int, stamp: str) -> Callable[[], object]:
    return lambda: upsert_sticky_comment(forge, iid, f"report of {stamp}", "default", run_stamp=stamp)


def test_concurrent_upserts_end_with_one_note_holding_the_newest_run(fake_forge: FakeForge) -> None:
    for iid in range(10, 15):  # five races, each on a fresh MR
        fake_forge.gitlab.add_mr(GITLAB_PROJECT, iid, HEAD_SHA)
        forges = [make_gitlab_forge(fake_forge) for _ in range(3)]
        calls = [publisher(f, iid, stamp) for f, stamp in zip(forges, [RUN_2, RUN_1, RUN_3], strict=True)]

        assert run_concurrently(calls) == []

        [stored] = bot_notes(fake_forge, iid)
        assert parse_marker(str(stored["body"])) == ("default", RUN_3)


def test_upsert_leaves_a_newer_run_in_place_when_an_older_run_publishes_late(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    upsert_sticky_comment(gitlab_forge, MR, "newer", "default", run_stamp=RUN_2)
    fake_forge.clear_log()

    kept = upsert_sticky_comment(make_gitlab_forge(fake_forge), MR, "older", "default", run_stamp=RUN_1)

    assert kept.body.endswith("newer")
    assert fake_forge.writes() == []


def test_upsert_raises_before_posting_when_the_body_is_over_the_limit(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    with pytest.raises(ForgeError, match="1,000,000"):
        upsert_sticky_comment(gitlab_forge, MR, "x" * 1_000_000, "default", run_stamp=RUN_1)
    assert fake_forge.writes() == []


def test_create_comment_raises_forge_error_when_gitlab_rejects_the_length(gitlab_forge: GitLabForge) -> None:
    with pytest.raises(ForgeError, match=r"HTTP 400.*too long"):
        gitlab_forge.create_comment(MR, "x" * 1_000_001)


def test_posted_note_has_no_line_starting_with_a_slash_when_the_body_has_quick_actions(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    body = "metric `a`\n/close\n  /approve\n```\n/not-an-action-in-code\n```\n/merge"

    upsert_sticky_comment(gitlab_forge, MR, body, "default", run_stamp=RUN_1)

    [stored] = bot_notes(fake_forge)
    lines = str(stored["body"]).split("\n")
    assert lines[2:4] == ["\\/close", "  \\/approve"]
    assert lines[5] == "/not-an-action-in-code"
    assert lines[-1] == "\\/merge"


_LINE = st.text(alphabet=" /ab`~\\", max_size=8)


@given(st.lists(_LINE, max_size=12))
def test_neutralize_quick_actions_leaves_no_slash_line_start_when_there_is_no_fence(lines: list[str]) -> None:
    body = "\n".join(line for line in lines if "```" not in line and "~~~" not in line)

    out = neutralize_quick_actions(body)

    assert not any(re.match(r" {0,3}/", line) for line in out.split("\n"))
    for before, after in zip(body.split("\n"), out.split("\n"), strict=True):
        assert after == before or after == re.sub(r"^( {0,3})/", r"\1\\/", before)


def test_set_status_maps_failure_and_truncates_the_description_when_it_is_long(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    gitlab_forge.set_status(HEAD_SHA, "failure", "accuracy regressed " * 20, "mlgate", "https://ci.example/1")
    gitlab_forge.set_status(HEAD_SHA, "failure", "again", "mlgate")  # GitLab: same state is a 400, not ours

    [status] = fake_forge.gitlab.project(GITLAB_PROJECT).statuses
    assert (status["status"], status["name"], status["sha"]) == ("failed", "mlgate", HEAD_SHA)
    assert len(status["description"]) == 140
    assert status["target_url"] == "https://ci.example/1"


def test_upload_image_uploads_once_when_the_same_image_is_uploaded_twice(
    tmp_path: Path, fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    image = tmp_path / "roc.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nroc")

    first = gitlab_forge.upload_image(image)
    again = gitlab_forge.upload_image(image)

    assert first == again
    assert first.startswith("/uploads/")
    assert first.endswith(".png")
    [upload] = fake_forge.gitlab.project(GITLAB_PROJECT).uploads
    assert upload["data"] == image.read_bytes()


def test_publish_with_two_images_makes_4_writes(tmp_path: Path, fake_forge: FakeForge) -> None:
    forge = make_gitlab_forge(fake_forge, project=str(GITLAB_PROJECT_ID))  # CI_PROJECT_ID: no lookup
    links = []
    for name in ("loss", "roc"):
        (tmp_path / f"{name}.png").write_bytes(name.encode())
        links.append(forge.upload_image(tmp_path / f"{name}.png"))
    upsert_sticky_comment(forge, MR, f"![loss]({links[0]}) ![roc]({links[1]})", "default", run_stamp=RUN_1)
    forge.set_status(HEAD_SHA, "success", "gate passed", "mlgate")

    assert [r.method for r in fake_forge.writes()] == ["POST", "POST", "POST", "POST"]


def test_note_write_raises_forge_error_naming_the_api_scope_when_the_token_is_read_only(
    fake_forge: FakeForge,
) -> None:
    forge = make_gitlab_forge(fake_forge, FakeForge.GITLAB_READONLY_TOKEN)

    with pytest.raises(ForgeError, match="403") as caught:
        forge.create_comment(MR, "hi")
    assert caught.value.hint is not None
    assert "`api` scope" in caught.value.hint
    assert "CI_JOB_TOKEN" in caught.value.hint


def test_bot_identity_raises_forge_error_naming_the_api_scope_when_given_a_job_token(
    fake_forge: FakeForge,
) -> None:
    forge = make_gitlab_forge(fake_forge, FakeForge.GITLAB_JOB_TOKEN)

    with pytest.raises(ForgeError, match="401") as caught:
        forge.bot_identity()
    assert caught.value.hint is not None
    assert "`api` scope" in caught.value.hint


def test_find_change_for_sha_returns_the_open_mr_whose_head_is_the_sha(fake_forge: FakeForge) -> None:
    fake_forge.gitlab.add_mr(GITLAB_PROJECT, 2, "cd" * 20, state="merged")
    forge = make_gitlab_forge(fake_forge)

    assert forge.find_change_for_sha(HEAD_SHA) == MR
    assert forge.find_change_for_sha("cd" * 20) is None


def test_update_comment_raises_forge_error_when_the_note_was_never_listed(gitlab_forge: GitLabForge) -> None:
    with pytest.raises(ForgeError, match="not listed"):
        gitlab_forge.update_comment(424242, "body")


def test_rate_limit_longer_than_the_cap_is_not_slept_when_gitlab_asks_for_an_hour(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.inject(Fault.rate_limited("POST", NOTES, retry_after=3600))

    started = time.perf_counter()
    with pytest.raises(ForgeError, match="rate limited, retry after 3600 s"):
        gitlab_forge.create_comment(MR, "hi")
    assert time.perf_counter() - started < 2.0
    assert bot_notes(fake_forge) == []


def test_rate_limit_within_the_cap_is_waited_out_when_retry_after_is_short(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.inject(Fault.rate_limited("GET", NOTES, retry_after=0.3))

    started = time.perf_counter()
    assert gitlab_forge.list_comments(MR) == []
    assert time.perf_counter() - started >= 0.3


def test_canary_token_appears_nowhere_when_publishing_and_failing(
    tmp_path: Path, fake_forge: FakeForge, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "glpat-CANARY0123456789abcd"
    fake_forge.add_token(canary, "mlgate-bot")
    caplog.set_level(logging.DEBUG)
    forge = connect("gitlab", api_url=f"{fake_forge.gitlab_url}/api/v4", token=canary, repo=GITLAB_PROJECT)
    image = tmp_path / "a.png"
    image.write_bytes(b"png")

    upsert_sticky_comment(forge, MR, "report", "default", run_stamp=RUN_1)
    forge.set_status(HEAD_SHA, "success", "ok", "mlgate")
    forge.upload_image(image)
    fake_forge.inject(Fault.error_before("POST", NOTES, status=400, message=f"bad token {canary}"))
    with pytest.raises(ForgeError) as caught:
        forge.create_comment(MR, "again")

    assert "***" in str(caught.value)
    assert canary not in f"{caught.value} {caught.value.hint}"
    for record in fake_forge.log:
        assert canary not in f"{record.path} {record.query} {record.body} {record.token_id}"
    assert canary not in caplog.text


def test_read_file_gives_the_file_at_the_ref_and_none_when_it_is_missing_there(
    fake_forge: FakeForge, gitlab_forge: GitLabForge
) -> None:
    fake_forge.gitlab.add_file(GITLAB_PROJECT, "conf/.mlgate.yml", b"version: 1\n")
    assert gitlab_forge.read_file("conf/.mlgate.yml", "main") == b"version: 1\n"
    assert gitlab_forge.read_file("conf/.mlgate.yml", "other") is None
    route = "/api/v4/projects/group%2Fdemo/repository/files/conf%2F.mlgate.yml/raw"
    assert fake_forge.log[0].path == route
