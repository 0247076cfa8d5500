"""`mlgate run`: train, gate against the baseline at the merge-base, report, save baselines on main."""

from __future__ import annotations

import json
import sys

from tests.conftest import CliRunner
from tests.gitproject import GitProject

TRAIN = """\
import json, os, sys
acc = float(os.environ.get("ACC", "0.9"))
print("training with acc", acc)
if os.environ.get("CRASH"):
    print("CUDA error: out of cheese", flush=True)
    sys.exit(3)
if not os.environ.get("NO_METRICS"):
    json.dump({"acc": acc, "loss": 1 - acc}, open("metrics.json", "w"))
"""


def config(extra: str = "") -> str:
    return (
        f"train:\n  command: {sys.executable} train.py\n  timeout: 20s\n{extra}"
        "metrics: [metrics.json]\n"
        "gates:\n  - {metric: acc, abs: 0.01}\n"
        "baseline: {stores: [git-notes]}\n"
    )


def _main(project: GitProject) -> str:
    project.write(".gitignore", "metrics.json\nmlgate-report/\n.mlgate/\n")
    return project.commit("model", **{".mlgate.yml": config(), "train_dot_py": TRAIN})


def test_run_on_main_saves_the_baseline_and_a_pr_run_gates_against_it(
    project: GitProject, cli: CliRunner
) -> None:
    main_sha = _main(project)
    on_main = cli("run", env={"ACC": "0.9"})
    assert on_main.code == 0, on_main.err
    assert f"baseline saved for {main_sha[:12]}" in on_main.out
    project.branch("feature")
    pr_sha = project.commit("worse model")
    on_pr = cli("run", env={"ACC": "0.8"})
    assert on_pr.code == 1, on_pr.err
    assert "mlgate: fail: 1 failing" in on_pr.out
    report = (project.root / "mlgate-report" / "report.md").read_text()
    assert "`acc`" in report
    assert "regressed" in report
    notes = project.git("notes", "--ref=refs/notes/mlgate", "list")
    assert main_sha in notes
    assert pr_sha not in notes, "a PR run must never write a baseline"
    artifact = json.loads((project.root / "mlgate-report" / "baseline.json").read_text())
    assert artifact["sha"] == main_sha, "the main run's snapshot is left for the ci-artifact store"
    assert artifact["metrics"]["acc"]["value"] == 0.9
    record = json.loads((project.root / ".mlgate" / "run.json").read_text())
    assert record["exit_code"] == 0
    assert record["backend"] == "subprocess"


def test_training_crash_exits_3_and_the_report_says_why(project: GitProject, cli: CliRunner) -> None:
    _main(project)
    project.write("metrics.json", {"acc": 0.9, "loss": 0.1})  # stale metrics from an earlier run
    result = cli("run", env={"CRASH": "1"})
    assert result.code == 3
    assert "mlgate: error: train.command: training exited with code 3" in result.err
    report = (project.root / "mlgate-report" / "report.md").read_text()
    assert "out of cheese" in report
    assert "Traceback" not in result.err


def test_metrics_not_written_after_training_is_exit_3(project: GitProject, cli: CliRunner) -> None:
    _main(project)
    result = cli("run", env={"NO_METRICS": "1"})
    assert result.code == 3, result.err
    assert "after training" in result.err


def test_timeout_is_exit_3(project: GitProject, cli: CliRunner) -> None:
    project.write(".gitignore", "metrics.json\nmlgate-report/\n.mlgate/\n")
    project.commit("m", **{".mlgate.yml": config(), "train_dot_py": "import time; time.sleep(30)\n"})
    result = cli("run", "--timeout", "1s")
    assert result.code == 3
    assert "timed out" in result.err


def test_missing_command_is_exit_3_with_hint(project: GitProject, cli: CliRunner) -> None:
    project.commit("m", **{".mlgate.yml": config().replace(f"{sys.executable} train.py", "no-such-trainer")})
    result = cli("run")
    assert result.code == 3
    assert "not found" in result.err
    assert "hint:" in result.err


def test_no_train_gates_existing_metrics(project: GitProject, cli: CliRunner) -> None:
    _main(project)
    project.write("metrics.json", {"acc": 0.5, "loss": 0.5})
    result = cli("run", "--no-train", "--save-baseline", "never")
    assert result.code == 0, result.err
    assert "no_baseline" in result.out


def test_crash_that_wrote_no_metrics_still_reports_why(project: GitProject, cli: CliRunner) -> None:
    _main(project)
    result = cli("run", env={"CRASH": "1"})
    assert result.code == 3
    assert "training exited with code 3" in result.err
    report = (project.root / "mlgate-report" / "report.md").read_text()
    assert "out of cheese" in report, "the report of a crashed run carries the log tail"
