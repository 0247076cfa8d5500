"""The noise model end to end: predictions committed on main and on a PR branch; `mlgate run`, `explain`."""

from __future__ import annotations

import io
import json

import numpy as np

from mlgate.console import Console
from mlgate.gitrepo import GitRepo
from mlgate.model import Verdict, format_number
from mlgate.pipeline import evaluate_checkout, load_effective_config
from mlgate.report import ReportInput, render_markdown
from tests.conftest import CliRunner
from tests.gitproject import GitProject

ROWS = 2000
CONFIG = """\
metrics: [metrics.json]
predictions: {path: eval/predictions.csv, columns: {id: id, y_true: label, y_pred: pred}}
gates:
  - {metric: eval.accuracy, abs: 0.01}
  - {metric: "*", direction: neutral}
baseline: {stores: [committed]}
"""


def _truth() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, ROWS)
    right = rng.random(ROWS) < 0.85
    return y, np.where(right, y, 1 - y)


def _files(y: np.ndarray, pred: np.ndarray) -> dict[str, str | dict[str, object]]:
    rows = "".join(
        f"r{i},{'yes' if t else 'no'},{'yes' if p else 'no'}\n"
        for i, (t, p) in enumerate(zip(y, pred, strict=True))
    )
    accuracy = float(np.mean(y == pred))
    return {
        "eval__predictions_dot_csv": "id,label,pred\n" + rows,
        "metrics_dot_json": {"eval": {"accuracy": accuracy}},
    }


def _flip(y: np.ndarray, pred: np.ndarray, *, to_wrong: int, to_right: int) -> np.ndarray:
    """A head model: `to_wrong` rows the base got right now wrong, `to_right` it got wrong now right."""
    head = pred.copy()
    right, wrong = np.flatnonzero(pred == y), np.flatnonzero(pred != y)
    head[right[:to_wrong]] = 1 - y[right[:to_wrong]]
    head[wrong[:to_right]] = y[wrong[:to_right]]
    return head


def _pr(project: GitProject, *, to_wrong: int, to_right: int) -> None:
    y, base = _truth()
    project.commit("baseline", **{".mlgate.yml": CONFIG, ".gitignore": "mlgate-report/\n"}, **_files(y, base))
    project.branch("feature")
    project.commit("model change", **_files(y, _flip(y, base, to_wrong=to_wrong, to_right=to_right)))


def _report(project: GitProject) -> str:
    return (project.root / "mlgate-report" / "report.md").read_text(encoding="utf-8")


def test_same_quality_model_is_unchanged_with_an_interval_when_predictions_are_paired(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, to_wrong=6, to_right=6)
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    report = _report(project)
    assert "| `eval.accuracy` | 0.8" in report
    assert "| 0 ± 0.00" in report
    assert "➖ unchanged" in report
    assert "this eval set resolves differences of about ±0.00" in report
    assert "paired on 2,000 examples (matched by id)" in report


def test_big_drop_is_regressed_and_fails_when_the_interval_is_below_the_margin(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, to_wrong=160, to_right=0)
    result = cli("run", "--no-train")
    assert result.code == 1, result.err
    report = _report(project)
    assert "| −0.08 ± 0.01" in report
    assert "❌ regressed" in report
    assert "entirely below −margin" in cli("explain", "eval.accuracy").out


def test_small_drop_within_noise_warns_and_strict_fails_when_the_interval_straddles_the_margin(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project, to_wrong=60, to_right=40)  # Δ = −0.01 = −m, ± about 0.01
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    assert "1 warning" in result.out
    assert "⚠️ inconclusive" in _report(project)
    assert cli("run", "--no-train", "--strict").code == 1
    explained = cli("explain", "eval.accuracy")
    assert explained.code == 0, explained.err
    lines = {line.split(":", 1)[0]: line for line in explained.out.splitlines()}
    y, base = _truth()
    accuracy = float(np.mean(y == base))
    head_text, base_text = format_number(accuracy - 0.01, 6), format_number(accuracy, 6)
    arithmetic = f"95 % interval of Δ = head − base on the predictions: {head_text} − {base_text} = −0.01, ["
    assert arithmetic in lines["interval"]
    assert "2,000 resamples, 2,000 rows" in lines["interval"]
    assert f"m = max(abs 0.01, rel 0 × |{base_text}| = 0) = 0.01" in lines["margin"]
    assert lines["decision"].endswith("→ inconclusive")
    assert "verdict:   inconclusive" in explained.out


def test_changed_eval_set_says_so_and_falls_back_to_tolerances_when_labels_differ(
    project: GitProject, cli: CliRunner
) -> None:
    y, base = _truth()
    project.commit("baseline", **{".mlgate.yml": CONFIG}, **_files(y, base))
    project.branch("feature")
    y2 = y.copy()
    y2[:50] = 1 - y2[:50]
    project.commit("relabelled", **_files(y2, base))
    result = cli("explain", "eval.accuracy")
    assert result.code == 0, result.err
    assert "the eval set changed: y_true differs on 50 of 2,000 examples" in result.out
    assert "judged by its tolerances" in result.out


def test_base_without_predictions_has_no_noise_model_when_only_head_has_them(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("baseline", **{".mlgate.yml": CONFIG, "metrics_dot_json": {"eval": {"accuracy": 0.85}}})
    project.branch("feature")
    y, pred = _truth()
    project.commit("predictions", **_files(y, pred))
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    assert "no noise model: the baseline (committed," in _report(project)
    assert "has no eval/predictions.csv; tolerances only" in _report(project)


def test_data_checks_list_the_drifted_feature_when_the_pr_shifts_it(project: GitProject) -> None:
    rng = np.random.default_rng(3)
    config = CONFIG + "data: {path: data/train.csv}\n"

    def data(shift: float) -> str:
        age, income = rng.normal(40 + shift, 10, 3000), rng.lognormal(10, 1, 3000)
        city = rng.choice(["a", "b", "c"], 3000)
        return "age,income,city\n" + "".join(
            f"{a:.2f},{i:.2f},{c}\n" for a, i, c in zip(age, income, city, strict=True)
        )

    y, pred = _truth()
    project.commit("baseline", **{".mlgate.yml": config, "data__train_dot_csv": data(0)}, **_files(y, pred))
    project.branch("feature")
    project.commit("drifted data", data__train_dot_csv=data(8))
    repo = GitRepo.discover(project.root)
    console = Console(io.StringIO(), io.StringIO())
    evaluation = evaluate_checkout(repo, load_effective_config(project.root, None, {}), console)
    assert evaluation.gate.get("eval.accuracy").verdict is Verdict.UNCHANGED  # type: ignore[union-attr]
    lines = evaluation.data_checks
    assert lines[0].startswith("rows: 3,000 (reference 3,000, the base commit's copy (")
    assert "drift (PSI ≥ 0.1): 1 of 3 features drifted; warning only" in lines
    assert lines[lines.index("drift (PSI ≥ 0.1): 1 of 3 features drifted; warning only") + 1].startswith(
        "age: PSI "
    )
    assert evaluation.gate.passed
    inp = ReportInput("t", evaluation.gate, evaluation.comparison, data_checks=evaluation.data_checks)
    assert "#### Data checks\n\n- `rows: 3,000" in render_markdown(inp)
    assert json.dumps(evaluation.data_checks)
