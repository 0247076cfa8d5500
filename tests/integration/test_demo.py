"""`mlgate demo` trains a real scikit-learn model twice and gates the PR, passing and failing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import CliRunner

pytestmark = pytest.mark.slow


def test_demo_passes_and_writes_the_report_when_the_change_is_harmless(
    cli: CliRunner, tmp_path: Path
) -> None:
    keep = tmp_path / "demo"
    result = cli("demo", "--keep", str(keep), env={"PATH": "/usr/bin:/bin"})
    assert result.code == 0, result.err
    assert "✅ mlgate: gate passed" in result.out
    assert "eval.accuracy" in result.out
    report = keep / "mlgate-report"
    markdown = (report / "report.md").read_text()
    assert markdown.startswith("<!-- mlgate:report")
    assert "`train.learning_rate`" in markdown
    assert len(list(report.glob("*.png"))) == 4
    assert (report / "comment.md").read_text() == markdown
    html = (report / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    log = subprocess.run(["git", "log", "--format=%s", "main"], cwd=keep, capture_output=True, text=True)
    assert "Baseline: metrics of the model on main" in log.stdout


def test_demo_regress_fails_the_gate_with_exit_1(cli: CliRunner) -> None:
    result = cli("demo", "--regress", env={"PATH": "/usr/bin:/bin"})
    assert result.code == 1, result.err
    assert "❌ mlgate: gate failed" in result.out
    assert "regressed ✗" in result.out


def test_demo_refuses_a_non_empty_keep_folder(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    result = cli("demo", "--keep", str(tmp_path / "busy"))
    assert result.code == 2
    assert "not empty" in result.err
