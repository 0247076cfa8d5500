"""publishing.publish: the order and budgets of DESIGN §5/§7, the comment policy (`when`, `mode`), statuses,
the deadline, and image links; against the dry-run forge, and the fake GitHub through real PyGithub."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

from mlgate.ci import CiContext
from mlgate.commitcheck import status_text
from mlgate.comparison import compare
from mlgate.config import Config
from mlgate.configschema import validate
from mlgate.console import Console
from mlgate.forge.dryrun import DryRunForge
from mlgate.gate import evaluate
from mlgate.model import BaselineRef, GateResult, Metric, MetricSet
from mlgate.publishing import Publication, PublishResult, local_images, publish, relink
from mlgate.report import ReportInput
from tests.fakeforge import FakeForge
from tests.fakeforge.drive import GITHUB_REPO, HEAD_SHA, make_github_forge

pytest_plugins = ["tests.fakeforge.fixtures"]


def _gate(values: dict[str, tuple[float, float]], config: Config) -> tuple[ReportInput, GateResult]:
    head = MetricSet({n: Metric(n, h, "metrics.json") for n, (_, h) in values.items()})
    base = MetricSet({n: Metric(n, b, "metrics.json") for n, (b, _) in values.items()})
    comparison = compare(head, base, baseline=BaselineRef("git-notes", "c" * 40), head_sha=HEAD_SHA)
    gate = evaluate(comparison, config.rules, strict=False, if_missing="pass")
    return ReportInput(title="Model report", gate=gate, comparison=comparison), gate


def _config(**sections: Any) -> Config:
    return validate({"gates": [{"metric": "*acc*", "abs": 0.01}], **sections})


def _ci(tmp_path: Path, **fields: Any) -> CiContext:
    base = {"provider": "github-actions", "forge": "github", "event": "pull_request", "number": 5,
            "head_sha": HEAD_SHA, "run_url": "https://ci.example/runs/1", "run_id": "1",
            "step_summary": tmp_path / "summary.md", "output": tmp_path / "out.txt"}  # fmt: skip
    return CiContext(**{**base, **fields})


def _publish(tmp_path: Path, forge: Any, acc: float, config: Config, **ci: Any) -> tuple[PublishResult, str]:
    inp, gate = _gate({"acc": (0.9, acc)}, config)
    pub = Publication("full", tmp_path, HEAD_SHA, inp)
    err = io.StringIO()
    result = publish(pub, gate, _ci(tmp_path, **ci), forge, config, Console(io.StringIO(), err))
    return result, err.getvalue()


def test_hundred_thousand_metrics_are_budgeted_under_the_limit_with_verdict_and_link_when_posted(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    config = _config()
    values = {f"m{i:06d}.acc": (0.9, 0.8 if i % 2 else 0.9) for i in range(100_000)}
    inp, gate = _gate(values, config)
    started = time.perf_counter()
    result = publish(
        Publication("full", tmp_path, HEAD_SHA, inp), gate, _ci(tmp_path), make_github_forge(fake_forge),
        config, Console(io.StringIO(), io.StringIO()),
    )  # fmt: skip
    assert result.problems == []
    (comment,) = fake_forge.github.comments(GITHUB_REPO, 5)
    body = str(comment["body"])
    assert len(body) <= 65_536
    assert "50,000" in body or "50000" in body, body[:400]
    assert "[Full report](https://ci.example/runs/1)" in body
    assert "\n### " in body, "the verdict line is kept"
    assert len((tmp_path / "summary.md").read_bytes()) <= 1024 * 1024
    assert time.perf_counter() - started < 30


def test_regression_policy_posts_nothing_when_the_gate_passes_and_no_comment_exists(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path / "dry")
    config = _config(comment={"when": "regression"})
    result, _ = _publish(tmp_path, forge, 0.9, config)
    assert forge.list_comments(5) == []
    assert result.status_state == "success"


def test_regression_policy_updates_the_comment_when_a_regression_was_fixed(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path / "dry")
    config = _config(comment={"when": "regression"})
    _publish(tmp_path, forge, 0.5, config)
    _publish(tmp_path, forge, 0.95, config)
    (comment,) = forge.list_comments(5)
    assert "0.95" in comment.body


def test_mode_new_adds_a_comment_per_run_and_once_never_touches_the_first(tmp_path: Path) -> None:
    new, once = DryRunForge(tmp_path / "new"), DryRunForge(tmp_path / "once")
    for acc in (0.5, 0.95):
        _publish(tmp_path, new, acc, _config(comment={"mode": "new"}))
        _publish(tmp_path, once, acc, _config(comment={"mode": "once"}))
    assert len(new.list_comments(5)) == 2
    (first,) = once.list_comments(5)
    assert "0.5" in first.body
    assert "0.95" not in first.body


def test_informational_status_is_success_when_the_gate_fails(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path / "dry")
    result, _ = _publish(tmp_path, forge, 0.5, _config(status={"informational": True, "name": "ml"}))
    assert result.status_state == "success"
    status = (tmp_path / "dry" / "statuses.jsonl").read_text()
    assert '"context": "ml"' in status
    assert "informational: fail: 1 regression (acc)" in status


def test_deadline_skips_the_forge_steps_but_not_the_summary_when_it_has_passed(tmp_path: Path) -> None:
    forge = DryRunForge(tmp_path / "dry")
    inp, gate = _gate({"acc": (0.9, 0.5)}, _config())
    err = io.StringIO()
    ci = _ci(tmp_path)
    result = publish(
        Publication("x", tmp_path, HEAD_SHA, inp),
        gate,
        ci,
        forge,
        _config(),
        Console(io.StringIO(), err),
        deadline_s=-1,
    )
    assert forge.list_comments(5) == []
    assert "comment skipped: the publish deadline passed" in err.getvalue()
    assert len(result.problems) == 3
    assert "regressed" in (tmp_path / "summary.md").read_text()


def test_status_text_names_the_regressions_and_stays_short_when_many_fail() -> None:
    config = _config()
    _, gate = _gate({f"m{i}.acc": (0.9, 0.5) for i in range(50)}, config)
    text = status_text(gate, failed_run=False)
    assert text.startswith("fail: 50 regressions (m0.acc, m1.acc, m10.acc …)") or text.startswith(
        "fail: 50 regressions ("
    )
    assert len(text) <= 140
    assert status_text(gate, failed_run=True) == "training failed: see the report"


def test_local_images_keeps_links_inside_the_folder_and_relink_swaps_them(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path.parent / "outside.png").write_bytes(b"x")
    text = "![a](a.png) ![b](../outside.png) ![c](https://x/y.png) ![d](missing.png)"
    images = local_images(text, tmp_path)
    assert images == [(tmp_path / "a.png").resolve()]
    relinked = relink(text, {images[0]: "https://forge/a.png"}, tmp_path)
    assert (
        relinked == "![a](https://forge/a.png) ![b](../outside.png) ![c](https://x/y.png) ![d](missing.png)"
    )


def test_job_summary_is_cut_under_one_mebibyte_keeping_the_verdict_when_the_report_has_100000_metrics(
    tmp_path: Path,
) -> None:
    config = _config()
    values = {f"group{i % 97:02d}.metric_{i:06d}.acc": (0.9, 0.8 if i % 3 else 0.9) for i in range(100_000)}
    inp, gate = _gate(values, config)
    result = publish(
        Publication("full", tmp_path, HEAD_SHA, inp), gate, _ci(tmp_path, forge="none"), None, config,
        Console(io.StringIO(), io.StringIO()),
    )  # fmt: skip
    assert result.problems == []
    raw = (tmp_path / "summary.md").read_bytes()
    assert 512 * 1024 < len(raw) <= 1024 * 1024, len(raw)
    summary = raw.decode()
    assert "### ❌ mlgate: 66666 regressions" in summary.split("\n|", 1)[0], "the verdict line is kept, first"
    assert re.search(r"\n… and \d+ more gated metrics \(\d+ regressions\) in the full report\n", summary)
    assert "Shortened to fit the size limit. 📄 [Full report](https://ci.example/runs/1)" in summary
