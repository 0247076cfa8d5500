"""Seeds end to end: metrics files with `repeats` committed on main and on a PR branch; `run`, `explain`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CliRunner
from tests.gitproject import GitProject

CONFIG = """\
metrics: [metrics.json]
gates:
  - {metric: eval.accuracy, abs: 0.005}
  - {metric: "*", direction: neutral}
baseline: {stores: [committed]}
"""
BASE = (0.820, 0.821, 0.822, 0.823, 0.824)  # five seeds, s ≈ 0.0016: the Welch half-width is about ±0.0023


def _seeds(shift: float) -> dict[str, object]:
    return {"eval": {"loss": 0.4}, "repeats": [{"eval": {"accuracy": round(v + shift, 6)}} for v in BASE]}


def _pr(project: GitProject, shift: float, config: str = CONFIG) -> None:
    files = {".mlgate.yml": config, ".gitignore": "mlgate-report/\n"}
    project.commit("baseline", **files, metrics_dot_json=_seeds(0.0))
    project.branch("feature")
    project.commit("model change", metrics_dot_json=_seeds(shift))


def _report(project: GitProject) -> str:
    return (project.root / "mlgate-report" / "report.md").read_text(encoding="utf-8")


def test_same_quality_seeds_pass_unchanged_with_a_welch_interval_when_both_sides_have_five(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, 0.001)
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    report = _report(project)
    assert "| `eval.accuracy` | 0.822 | 0.823 | +0.001 ± 0.00" in report
    assert "➖ unchanged" in report
    assert "Welch t over 5 + 5 seeds for eval.accuracy" in report
    assert "these seeds resolve differences of about ±0.00" in report
    assert "(95 % interval, Welch t over 5 + 5 seeds (df 8.0))" in report


def test_real_drop_over_seeds_fails_and_explain_shows_the_welch_arithmetic(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, -0.02)
    result = cli("run", "--no-train")
    assert result.code == 1, result.err
    assert "❌ regressed" in _report(project)
    explained = cli("explain", "eval.accuracy")
    assert explained.code == 0, explained.err
    lines = {line.split(":", 1)[0]: line for line in explained.out.splitlines()}
    assert "head 5 runs, mean 0.802, variance s² 2.5e−06; base 5 runs, mean 0.822" in lines["seeds"]
    assert "interval of Δ = mean(head) − mean(base) over seeds: 0.802 − 0.822 = −0.02, [" in lines["interval"]
    assert "SE = √(s²_head/5 + s²_base/5) = 0.001; t(0.975, df 8) = 2.306" in lines["welch"]
    assert lines["decision"].endswith("→ fail")


def test_drop_at_the_margin_is_inconclusive_and_strict_fails_when_the_seeds_straddle_it(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, -0.005)
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    assert "⚠️ inconclusive" in _report(project)
    assert cli("run", "--no-train", "--strict").code == 1


def test_git_notes_baseline_carries_the_seeds_when_saved_on_main(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    config = CONFIG.replace("stores: [committed]", "stores: [git-notes]")
    project.write(".gitignore", "metrics.json\nmlgate-report/\n")
    project.commit("main", **{".mlgate.yml": config})
    project.write("metrics.json", _seeds(0.0))
    assert cli("baseline", "save", "--no-push").code == 0
    assert '"repeats": [\n    0.82,' in project.git("notes", "--ref", "mlgate", "show", "HEAD")
    project.write("metrics.json", _seeds(-0.02))
    explained = cli("explain", "eval.accuracy")
    assert explained.code == 0, explained.err
    assert "(store git-notes, 0 commits back)" in explained.out
    assert "(Welch t over 5 + 5 seeds (df 8.0))" in explained.out
    assert "verdict:   regressed (blocks the merge)" in explained.out


def test_baseline_without_seeds_falls_back_to_tolerances_and_says_why(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("baseline", **{".mlgate.yml": CONFIG}, metrics_dot_json={"eval": {"accuracy": 0.822}})
    project.branch("feature")
    project.commit("seeds", metrics_dot_json=_seeds(-0.001))
    explained = cli("explain", "eval.accuracy")
    assert explained.code == 0, explained.err
    assert (
        "eval.accuracy: seeds: Welch needs ≥ 2 finite values per side, got 5 head and 0 base" in explained.out
    )
    assert "judged by its tolerances" in explained.out
    assert "verdict:   unchanged" in explained.out


def test_repeat_that_is_not_a_mapping_exits_2_naming_file_and_index(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit(
        "bad", **{".mlgate.yml": CONFIG}, metrics_dot_json={"repeats": [{"eval": {"accuracy": 0.8}}, 3]}
    )
    result = cli("diff")
    assert result.code == 2
    assert "metrics.json: repeats[1]: a repeat must be a mapping of metric names, got 3" in result.err
    assert "Traceback" not in result.err
