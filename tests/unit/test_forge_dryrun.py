"""DryRunForge: what would be posted lands in files, and the sticky upsert behaves as against a real forge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.errors import ForgeError
from mlgate.forge import GITLAB_COMMENT_LIMIT
from mlgate.forge.dryrun import DRY_RUN_BOT, DryRunForge
from mlgate.forge.sticky import render_marker, upsert_sticky_comment

RUN_1 = "2026-12-03T08:00:00Z/1"
RUN_2 = "2026-12-03T09:00:00Z/2"


def test_upsert_keeps_one_comment_file_with_the_newest_body_when_run_twice(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path / "out")

    first = upsert_sticky_comment(forge, 7, "first", "default", run_stamp=RUN_1)
    second = upsert_sticky_comment(forge, 7, "second", "default", run_stamp=RUN_2, settle_s=0)

    assert second.id == first.id
    assert [c.id for c in forge.list_comments(7)] == [first.id]
    comment_file = tmp_path / "out" / "comment-7.md"
    assert comment_file.read_text(encoding="utf-8") == f"{render_marker('default', RUN_2)}\nsecond"
    assert forge.written == [comment_file]


def test_set_status_appends_json_lines_with_the_description_cut_to_140(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path)

    forge.set_status("ab" * 20, "failure", "x" * 300, "mlgate", "https://ci.example/1")
    forge.set_status("ab" * 20, "success", "ok", "mlgate")

    lines = (tmp_path / "statuses.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["state"] for r in records] == ["failure", "success"]
    assert len(records[0]["description"]) == 140
    assert records[0]["target_url"] == "https://ci.example/1"


def test_upload_image_copies_once_and_links_relative_when_the_same_image_comes_twice(tmp_path: Path) -> None:
    image = tmp_path / "ROC.PNG"
    image.write_bytes(b"\x89PNG roc")
    forge = DryRunForge(tmp_path / "out")

    link = forge.upload_image(image)
    again = forge.upload_image(image)

    assert link == again
    assert link.startswith("images/")
    assert link.endswith(".png")
    assert (tmp_path / "out" / link).read_bytes() == image.read_bytes()
    assert forge.written == [tmp_path / "out" / link]


def test_upload_image_raises_forge_error_naming_the_file_when_it_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match=r"missing\.png"):
        DryRunForge(tmp_path).upload_image(tmp_path / "missing.png")


def test_create_comment_raises_forge_error_when_the_body_is_over_the_imitated_limit(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path, comment_limit=10)

    with pytest.raises(ForgeError, match="over the limit of 10"):
        forge.create_comment(1, "x" * 11)
    assert forge.written == []


def test_dry_run_forge_names_its_bot_and_limit_when_imitating_gitlab(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path, comment_limit=GITLAB_COMMENT_LIMIT)

    comment = forge.create_comment(3, "hi")

    assert forge.bot_identity() == DRY_RUN_BOT == comment.author
    assert forge.comment_limit == 1_000_000
    assert forge.find_change_for_sha("ab" * 20) is None
