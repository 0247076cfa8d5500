"""GitHubForge and the sticky comment through real PyGithub against the fake GitHub (no mocks)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.errors import ForgeError
from mlgate.forge import UncertainWriteError, connect
from mlgate.forge.github import ACTIONS_BOT, GitHubForge, server_url_of
from mlgate.forge.sticky import parse_marker, render_marker, upsert_sticky_comment
from tests.fakeforge import FakeForge, Fault
from tests.fakeforge.drive import (
    GITHUB_REPO,
    HEAD_SHA,
    PR,
    make_github_forge,
    run_concurrently,
)

pytest_plugins = ["tests.fakeforge.fixtures"]  # fake_forge, github_forge, gitlab_forge

RUN_1 = "2026-12-03T08:00:00Z/101"
RUN_2 = "2026-12-03T09:00:00Z/102"
RUN_3 = "2026-12-03T10:00:00Z/103"
CREATE = r"/issues/\d+/comments$"


def bot_comments(fake: FakeForge, number: int = PR) -> list[dict[str, object]]:
    return [c for c in fake.github.comments(GITHUB_REPO, number) if c["login"] == "mlgate-bot"]


def png(tmp_path: Path, name: str, payload: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + payload)
    return path


def test_upsert_updates_and_does_not_duplicate_when_run_twice(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    first = upsert_sticky_comment(github_forge, PR, "report one", "default", run_stamp=RUN_1)
    second = upsert_sticky_comment(github_forge, PR, "report two", "default", run_stamp=RUN_2)

    assert second.id == first.id
    [stored] = bot_comments(fake_forge)
    assert stored["body"] == f"{render_marker('default', RUN_2)}\nreport two"
    assert [r.method for r in fake_forge.writes()] == ["POST", "PATCH"]


def test_upsert_finds_the_bot_comment_when_it_is_on_page_3(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    for i in range(250):
        fake_forge.github.add_comment(GITHUB_REPO, PR, "alice", f"chatter {i}")
    old = fake_forge.github.add_comment(
        GITHUB_REPO, PR, "mlgate-bot", f"{render_marker('default', RUN_1)}\nold"
    )
    fake_forge.clear_log()

    kept = upsert_sticky_comment(github_forge, PR, "new", "default", run_stamp=RUN_2)

    assert kept.id == old
    assert [r.method for r in fake_forge.writes()] == ["PATCH"]
    pages = [r.query.get("page", "1") for r in fake_forge.log if r.path.endswith(f"/issues/{PR}/comments")]
    assert "3" in pages


def test_upsert_never_touches_another_users_comment_when_it_carries_the_marker(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    forged = f"{render_marker('default', RUN_3)}\nI copied the marker"
    alice = fake_forge.github.add_comment(GITHUB_REPO, PR, "alice", forged)

    upsert_sticky_comment(github_forge, PR, "ours", "default", run_stamp=RUN_1)

    stored = {c["id"]: c for c in fake_forge.github.comments(GITHUB_REPO, PR)}
    assert stored[alice]["body"] == forged
    assert all(str(alice) not in r.path for r in fake_forge.writes())
    assert len(bot_comments(fake_forge)) == 1


def test_upsert_ends_with_one_comment_when_a_502_came_after_the_create_was_stored(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.error_after("POST", CREATE))

    kept = upsert_sticky_comment(github_forge, PR, "body", "default", run_stamp=RUN_1)

    [stored] = bot_comments(fake_forge)
    assert stored["id"] == kept.id
    assert [r.method for r in fake_forge.writes()] == ["POST"]


def test_upsert_creates_again_when_a_502_came_before_anything_was_stored(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.error_before("POST", CREATE))

    upsert_sticky_comment(github_forge, PR, "body", "default", run_stamp=RUN_1)

    assert len(bot_comments(fake_forge)) == 1
    assert [r.method for r in fake_forge.writes()] == ["POST", "POST"]


def test_upsert_recovers_when_the_connection_resets_during_the_create(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.reset("POST", CREATE))

    upsert_sticky_comment(github_forge, PR, "body", "default", run_stamp=RUN_1)

    assert len(bot_comments(fake_forge)) == 1


def test_upsert_keeps_one_comment_when_the_listing_lags_behind_the_create(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.lag("POST", CREATE, listings=1))

    first = upsert_sticky_comment(github_forge, PR, "one", "default", run_stamp=RUN_1)
    second = upsert_sticky_comment(github_forge, PR, "two", "default", run_stamp=RUN_2)

    assert second.id == first.id
    assert len(bot_comments(fake_forge)) == 1


def test_upsert_deletes_the_bots_extra_comments_and_keeps_the_lowest_id(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    ids = [
        fake_forge.github.add_comment(
            GITHUB_REPO, PR, "mlgate-bot", f"{render_marker('default', RUN_1)}\n{i}"
        )
        for i in range(3)
    ]

    kept = upsert_sticky_comment(github_forge, PR, "fresh", "default", run_stamp=RUN_2)

    assert kept.id == ids[0]
    assert [c["id"] for c in bot_comments(fake_forge)] == [ids[0]]


def publisher(forge: GitHubForge, number: int, stamp: str) -> Callable[[], object]:
    return lambda: upsert_sticky_comment(forge, number, f"report of {stamp}", "default", run_stamp=stamp)


def test_concurrent_upserts_end_with_one_comment_holding_the_newest_run(fake_forge: FakeForge) -> None:
    for number in range(10, 15):  # five races, each on a fresh PR
        forges = [make_github_forge(fake_forge) for _ in range(3)]
        calls = [publisher(f, number, stamp) for f, stamp in zip(forges, [RUN_1, RUN_3, RUN_2], strict=True)]

        assert run_concurrently(calls) == []

        [stored] = bot_comments(fake_forge, number)
        assert parse_marker(str(stored["body"])) == ("default", RUN_3)
        assert str(stored["body"]).endswith(f"report of {RUN_3}")


def test_concurrent_updates_end_with_the_newest_run_when_the_comment_already_exists(
    fake_forge: FakeForge,
) -> None:
    for number in range(20, 25):
        upsert_sticky_comment(make_github_forge(fake_forge), number, "old", "default", run_stamp=RUN_1)
        forges = [make_github_forge(fake_forge) for _ in range(3)]
        for forge in forges:
            forge.bot_identity()
        stamps = [RUN_2, RUN_3, "2026-12-03T09:30:00Z/1"]
        calls = [publisher(f, number, stamp) for f, stamp in zip(forges, stamps, strict=True)]

        assert run_concurrently(calls) == []

        [stored] = bot_comments(fake_forge, number)
        assert parse_marker(str(stored["body"])) == ("default", RUN_3)


def test_upsert_leaves_a_newer_run_in_place_when_an_older_run_publishes_late(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    upsert_sticky_comment(github_forge, PR, "newer", "default", run_stamp=RUN_2)
    fake_forge.clear_log()

    kept = upsert_sticky_comment(github_forge, PR, "older", "default", run_stamp=RUN_1)

    assert kept.body.endswith("newer")
    assert fake_forge.writes() == []


def test_upsert_raises_before_posting_when_the_body_is_over_the_limit(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    with pytest.raises(ForgeError, match="65,536"):
        upsert_sticky_comment(github_forge, PR, "x" * 65_536, "default", run_stamp=RUN_1)
    assert fake_forge.writes() == []


def test_create_comment_raises_forge_error_when_github_rejects_the_length(github_forge: GitHubForge) -> None:
    with pytest.raises(ForgeError, match=r"HTTP 422.*too long") as caught:
        github_forge.create_comment(PR, "x" * 70_000)
    assert not isinstance(caught.value, UncertainWriteError)


def test_set_status_truncates_the_description_when_it_is_over_140_characters(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    github_forge.set_status(
        HEAD_SHA, "failure", "accuracy regressed " * 20, "mlgate", "https://ci.example/run/1"
    )

    [status] = fake_forge.github.repos[GITHUB_REPO].statuses
    assert len(status["description"]) == 140
    assert status["description"].endswith("…")
    assert (status["state"], status["context"], status["sha"]) == ("failure", "mlgate", HEAD_SHA)
    assert status["target_url"] == "https://ci.example/run/1"


def test_upload_image_stores_one_blob_when_the_same_image_is_uploaded_twice(
    tmp_path: Path, fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    image = png(tmp_path, "roc.png", b"curve")

    first = github_forge.upload_image(image)
    again = make_github_forge(fake_forge).upload_image(image)

    assert first == again
    files = fake_forge.github.tree_of_branch(GITHUB_REPO, "mlgate-assets")
    assert [data for name, data in files.items() if name.endswith(".png")] == [image.read_bytes()]
    assert sum(r.method == "PUT" for r in fake_forge.writes()) == 1
    name = next(name for name in files if name.endswith(".png"))
    assert first == f"{fake_forge.server.base}/{GITHUB_REPO}/blob/mlgate-assets/{name}?raw=true"


def test_upload_image_makes_an_orphan_branch_when_none_exists(tmp_path: Path, fake_forge: FakeForge) -> None:
    make_github_forge(fake_forge).upload_image(png(tmp_path, "a.png", b"a"))

    repo = fake_forge.github.repos[GITHUB_REPO]
    root = next(sha for sha, commit in repo.commits.items() if not commit["parents"])
    head = repo.refs["refs/heads/mlgate-assets"]
    assert repo.commits[head]["parents"] == [root]


def test_publish_with_two_images_makes_4_writes_when_the_asset_branch_exists(
    tmp_path: Path, fake_forge: FakeForge
) -> None:
    make_github_forge(fake_forge).upload_image(
        png(tmp_path, "seed.png", b"seed")
    )  # first run made the branch
    fake_forge.clear_log()
    forge = make_github_forge(fake_forge)

    started = time.perf_counter()
    links = [forge.upload_image(png(tmp_path, f"{n}.png", n.encode())) for n in ("loss", "roc")]
    upsert_sticky_comment(forge, PR, f"![loss]({links[0]}) ![roc]({links[1]})", "default", run_stamp=RUN_1)
    forge.set_status(HEAD_SHA, "success", "gate passed", "mlgate")
    elapsed = time.perf_counter() - started

    assert [r.method for r in fake_forge.writes()] == ["PUT", "PUT", "POST", "POST"]
    assert elapsed < 5.0  # the budget (0.5 s) is checked by bench/; this only catches a stuck sleep


def test_bot_identity_is_github_actions_bot_when_the_token_cannot_read_user(fake_forge: FakeForge) -> None:
    forge = make_github_forge(fake_forge, FakeForge.GITHUB_ACTIONS_TOKEN)

    assert forge.bot_identity() == ACTIONS_BOT
    comment = forge.create_comment(PR, "hi")
    assert comment.author == ACTIONS_BOT


def test_bot_identity_is_the_configured_login_when_one_is_given(fake_forge: FakeForge) -> None:
    forge = make_github_forge(fake_forge, FakeForge.GITHUB_ACTIONS_TOKEN, bot_login="my-app[bot]")

    assert forge.bot_identity() == "my-app[bot]"
    assert all(r.path != "/api/v3/user" for r in fake_forge.log)


def test_bot_identity_raises_forge_error_when_the_token_is_rejected(fake_forge: FakeForge) -> None:
    forge = make_github_forge(fake_forge, "ghp_notAKnownToken000000000000000000")

    with pytest.raises(ForgeError, match="401") as caught:
        forge.bot_identity()
    assert caught.value.hint is not None
    assert "GITHUB_TOKEN" in caught.value.hint


def test_write_raises_forge_error_with_a_permission_hint_when_the_token_is_read_only(
    fake_forge: FakeForge,
) -> None:
    forge = make_github_forge(fake_forge, FakeForge.GITHUB_READONLY_TOKEN)

    with pytest.raises(ForgeError, match="403") as caught:
        forge.create_comment(PR, "hi")
    assert caught.value.hint is not None
    assert "pull-requests: write" in caught.value.hint


def test_delete_comment_succeeds_when_the_comment_is_already_gone(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    comment = github_forge.create_comment(PR, "bye")
    github_forge.delete_comment(comment.id)
    github_forge.delete_comment(comment.id)

    assert bot_comments(fake_forge) == []


def test_find_change_for_sha_returns_the_open_pr_whose_head_is_the_sha(fake_forge: FakeForge) -> None:
    fake_forge.github.add_pull(GITHUB_REPO, 4, "cd" * 20, state="closed")
    forge = make_github_forge(fake_forge)

    assert forge.find_change_for_sha(HEAD_SHA) == PR
    assert forge.find_change_for_sha("cd" * 20) is None
    assert forge.find_change_for_sha("ef" * 20) is None


def test_rate_limit_longer_than_the_cap_is_not_slept_when_github_asks_for_an_hour(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.rate_limited("POST", CREATE, retry_after=3600, status=403))

    started = time.perf_counter()
    with pytest.raises(ForgeError, match="rate limited, retry after 3600 s"):
        github_forge.create_comment(PR, "hi")
    assert time.perf_counter() - started < 2.0
    assert bot_comments(fake_forge) == []


def test_rate_limit_within_the_cap_is_waited_out_when_retry_after_is_short(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.inject(Fault.rate_limited("POST", CREATE, retry_after=0.3, status=429))

    started = time.perf_counter()
    github_forge.create_comment(PR, "hi")

    assert time.perf_counter() - started >= 0.3
    assert len(bot_comments(fake_forge)) == 1


def test_slow_create_raises_uncertain_write_error_after_the_timeout_and_is_not_retried(
    fake_forge: FakeForge,
) -> None:
    forge = make_github_forge(fake_forge, timeout=0.5)
    fake_forge.inject(Fault.slow("POST", CREATE, seconds=1.5))

    started = time.perf_counter()
    with pytest.raises(UncertainWriteError, match="comment on #5"):
        forge.create_comment(PR, "hi")

    assert time.perf_counter() - started < 1.4
    time.sleep(1.2)  # let the slow request land
    assert [r.method for r in fake_forge.writes()] == ["POST"]


def test_slow_listing_is_retried_when_one_read_times_out(fake_forge: FakeForge) -> None:
    forge = make_github_forge(fake_forge, timeout=0.5)
    fake_forge.inject(Fault.slow("GET", CREATE, seconds=1.0))

    assert forge.list_comments(PR) == []


def test_canary_token_appears_nowhere_when_publishing_and_failing(
    tmp_path: Path, fake_forge: FakeForge, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "ghp_CANARY0123456789abcdefghijklmnopqrstu"
    fake_forge.add_token(canary, "mlgate-bot")
    caplog.set_level(logging.DEBUG)
    forge = connect("github", api_url=fake_forge.github_api_url, token=canary, repo=GITHUB_REPO)
    messages = []

    upsert_sticky_comment(forge, PR, "report", "default", run_stamp=RUN_1)
    forge.set_status(HEAD_SHA, "success", "ok", "mlgate")
    forge.upload_image(png(tmp_path, "a.png", b"a"))
    fake_forge.inject(Fault.error_before("POST", CREATE, status=400, message=f"bad credentials {canary}"))
    with pytest.raises(ForgeError) as caught:
        forge.create_comment(PR, "again")
    messages.append(f"{caught.value} {caught.value.hint}")

    assert "***" in messages[0]
    for record in fake_forge.log:
        assert canary not in f"{record.path} {record.query} {record.body} {record.token_id}"
    assert canary not in caplog.text
    assert all(canary not in m for m in messages)


def test_server_url_of_strips_the_api_part_when_given_github_com_or_enterprise() -> None:
    assert server_url_of("https://api.github.com") == "https://github.com"
    assert server_url_of("https://ghe.example.com/api/v3/") == "https://ghe.example.com"
    assert server_url_of("http://127.0.0.1:8080/api/v3") == "http://127.0.0.1:8080"


def test_connect_raises_forge_error_when_the_kind_is_unknown() -> None:
    with pytest.raises(ForgeError, match="unknown forge"):
        connect("bitbucket", api_url="", token="", repo="")  # type: ignore[arg-type]


def test_read_file_gives_the_file_on_the_branch_and_none_only_when_the_branch_lacks_it(
    fake_forge: FakeForge, github_forge: GitHubForge
) -> None:
    fake_forge.github.add_file(GITHUB_REPO, ".mlgate.yml", b"version: 1\n")
    assert github_forge.read_file(".mlgate.yml", "main") == b"version: 1\n"
    assert github_forge.read_file("missing.yml", "main") is None
    with pytest.raises(ForgeError, match="No commit found for the ref no-such-branch"):
        github_forge.read_file(".mlgate.yml", "no-such-branch")  # never the default rules by mistake
