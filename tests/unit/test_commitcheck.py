"""commitcheck: the verdict on the head commit as a GitHub check run carrying the report (App tokens) or a
commit status (anything else), one kind per run; published through real PyGithub against the fake GitHub."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from mlgate.ci import CiContext
from mlgate.commitcheck import budget_summary
from mlgate.comparison import compare
from mlgate.configschema import validate
from mlgate.console import Console
from mlgate.forge.github_checks import token_may_create_checks
from mlgate.gate import evaluate
from mlgate.model import BaselineRef, Metric, MetricSet
from mlgate.publishing import Publication, PublishResult, publish
from mlgate.report import ReportInput
from tests.fakeforge import FakeForge, Fault
from tests.fakeforge.drive import GITHUB_REPO, HEAD_SHA, make_github_forge

pytest_plugins = ["tests.fakeforge.fixtures"]
APP = FakeForge.GITHUB_ACTIONS_TOKEN
RUN_URL = "https://ci.example/runs/1"


def _publish(
    fake: FakeForge, tmp_path: Path, values: dict[str, tuple[float, float]], token: str = APP, **config: Any
) -> tuple[PublishResult, str]:
    cfg = validate({"gates": [{"metric": "*acc*", "abs": 0.01}], **config})
    head = MetricSet({n: Metric(n, h, "metrics.json") for n, (_, h) in values.items()})
    base = MetricSet({n: Metric(n, b, "metrics.json") for n, (b, _) in values.items()})
    comparison = compare(head, base, baseline=BaselineRef("git-notes", "c" * 40), head_sha=HEAD_SHA)
    gate = evaluate(comparison, cfg.rules, strict=False, if_missing="pass")
    inp = ReportInput(title="Model report", gate=gate, comparison=comparison)
    ci = CiContext(provider="github-actions", forge="github", event="pull_request", number=5,
                   head_sha=HEAD_SHA, run_url=RUN_URL, run_id="1")  # fmt: skip
    err = io.StringIO()
    forge = make_github_forge(fake, token)
    result = publish(Publication("full", tmp_path, HEAD_SHA, inp), gate, ci, forge, cfg, Console(err, err))
    return result, err.getvalue()


def _checks(fake: FakeForge) -> list[dict[str, Any]]:
    return fake.github.check_runs(GITHUB_REPO, HEAD_SHA)


def _statuses(fake: FakeForge) -> list[tuple[str, str]]:
    return [(s["state"], s["description"]) for s in fake.github.repos[GITHUB_REPO].statuses]


def _check_requests(fake: FakeForge) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in fake.log if r.path.endswith("/check-runs")]


def test_failing_gate_is_one_check_run_with_the_report_and_no_status_when_the_token_is_an_app_token(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    result, _ = _publish(fake_forge, tmp_path, {"acc": (0.9, 0.8)})
    assert result.problems == []
    assert result.verdict_kind == "check run"
    (check,) = _checks(fake_forge)
    assert (check["name"], check["conclusion"], check["status"]) == ("mlgate", "failure", "completed")
    assert check["output"]["title"] == "fail: 1 regression (acc)"
    summary = check["output"]["summary"]
    assert "`acc`" in summary
    assert "regressed" in summary
    assert not summary.startswith("<!-- mlgate:report"), "the sticky marker stays in the comment"
    assert check["details_url"] == RUN_URL
    assert _statuses(fake_forge) == []


def test_informational_gate_is_a_neutral_check_run_when_it_fails(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    _publish(fake_forge, tmp_path, {"acc": (0.9, 0.8)}, status={"informational": True, "name": "ml"})
    (check,) = _checks(fake_forge)
    assert (check["name"], check["conclusion"]) == ("ml", "neutral")
    assert check["output"]["title"] == "informational: fail: 1 regression (acc)"


def test_pat_sets_a_commit_status_without_trying_a_check_run_when_the_token_says_its_kind(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    result, _ = _publish(fake_forge, tmp_path, {"acc": (0.9, 0.95)}, token=FakeForge.GITHUB_BOT_TOKEN)
    assert result.verdict_kind == "status"
    assert _statuses(fake_forge) == [("success", "pass: 1 gated metric within tolerance")]
    assert _check_requests(fake_forge) == [], "a PAT never may: no wasted write"


@pytest.mark.parametrize(
    ("token", "app", "checks"),
    [
        ("0123456789abcdef0123456789abcdef01234567", False, True),
        ("ghs_noChecksWrite000000000000000000", True, False),
    ],
    ids=["legacy-hex-pat", "app-token-without-checks-write"],
)
def test_check_run_403_falls_back_to_one_status_when_the_token_may_not_create_checks(
    fake_forge: FakeForge, tmp_path: Path, token: str, app: bool, checks: bool
) -> None:
    fake_forge.add_token(token, "mlgate-bot", app=app)
    fake_forge.tokens[token].checks = checks
    result, err = _publish(fake_forge, tmp_path, {"acc": (0.9, 0.8)}, token=token)
    assert result.problems == [], "a 403 on the check run is the token's kind, not a failure"
    assert _check_requests(fake_forge) == [("POST", 403)]
    assert _statuses(fake_forge) == [("failure", "fail: 1 regression (acc)")]
    assert "commit status" in err
    assert "checks: write" in err
    assert token not in err


def test_never_sets_a_commit_status_when_status_check_run_is_never(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    _publish(fake_forge, tmp_path, {"acc": (0.9, 0.8)}, status={"check_run": "never"})
    assert _statuses(fake_forge) == [("failure", "fail: 1 regression (acc)")]
    assert _check_requests(fake_forge) == []


def test_check_run_502_after_store_is_a_warning_and_never_followed_by_a_status(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.inject(Fault.error_after("POST", r"/check-runs$", status=502))
    result, _ = _publish(fake_forge, tmp_path, {"acc": (0.9, 0.8)})
    assert len(_checks(fake_forge)) == 1, "stored once; the create is not retried"
    assert _statuses(fake_forge) == [], "a second kind could disagree with the stored check run"
    assert len(result.problems) == 1
    assert "check run" in result.problems[0]


def test_over_limit_report_is_budgeted_in_the_check_summary_with_the_verdict_when_metrics_are_many(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    values = {f"métrique→{i:05d}.acc": (0.9, 0.8 if i % 2 else 0.9) for i in range(20_000)}
    result, _ = _publish(fake_forge, tmp_path, values)
    assert result.problems == []
    (check,) = _checks(fake_forge)
    summary = check["output"]["summary"]
    assert len(summary.encode()) <= 65_535, "the Checks API counts bytes"
    assert len(summary.encode()) > 30_000, "budgeted, not emptied"
    assert "\n### " in summary or summary.startswith("### "), "the verdict line is kept"
    assert f"[Full report]({RUN_URL})" in summary
    assert check["output"]["title"].startswith("fail: 10000 regressions")


def test_budget_summary_cuts_at_a_line_when_rendering_smaller_does_not_help() -> None:
    text = budget_summary(lambda _: "é" * 100 + "\n" + "x" * 500, limit=300)
    assert len(text.encode()) <= 300
    assert text.startswith("é" * 100 + "\n\n…")
    assert "cut" in text


@pytest.mark.parametrize(
    ("token", "kind"),
    [("ghs_abc", True), ("ghp_abc", False), ("github_pat_abc", False), ("gho_abc", False), ("a" * 40, None)],
)
def test_token_kind_is_read_from_the_prefix_when_github_formats_it(token: str, kind: bool | None) -> None:
    assert token_may_create_checks(token) is kind
