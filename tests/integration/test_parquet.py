"""Parquet predictions and data files (pyarrow, `mlgate[parquet]`), and the message when pyarrow is absent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CliRunner
from tests.gitproject import GitProject

CONFIG = """\
metrics: [metrics.json]
predictions: {{path: {path}, columns: {{id: id, y_true: label, y_pred: pred, score: proba}}}}
gates:
  - {{metric: eval.accuracy, abs: 0.01}}
  - {{metric: eval.roc_auc, abs: 0.01}}
baseline: {{stores: [committed]}}
"""
ROWS = 2000


def _parquet(columns: dict[str, np.ndarray]) -> bytes:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'mlgate[parquet]')")
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({name: pa.array(values) for name, values in columns.items()}), buffer)
    return buffer.getvalue()


def _side(project: GitProject, seed: int, y: np.ndarray) -> None:
    """Both files of one side (CSV and Parquet, the same rows) and the metrics they reproduce."""
    rng = np.random.default_rng(seed)
    proba = np.clip(0.5 * y + rng.normal(0.25, 0.2, ROWS), 0, 1).round(6)
    pred = (proba > 0.5).astype(int)
    labels = np.where(y == 1, "yes", "no")
    ids = np.array([f"r{i}" for i in range(ROWS)])
    columns = {"id": ids, "label": labels, "pred": np.where(pred == 1, "yes", "no"), "proba": proba}
    (project.root / "eval").mkdir(exist_ok=True)
    (project.root / "eval" / "predictions.parquet").write_bytes(_parquet(columns))
    lists = [values.tolist() for values in columns.values()]
    rows = "".join(f"{i},{t},{p},{s!r}\n" for i, t, p, s in zip(*lists, strict=True))
    project.write("eval/predictions.csv", "id,label,pred,proba\n" + rows)
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, proba))
    project.write("metrics.json", {"eval": {"accuracy": float(np.mean(pred == y)), "roc_auc": float(auc)}})


def _interval_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("interval:", "gain:", "decision:"))]


def test_parquet_predictions_give_the_same_interval_as_the_csv_when_the_rows_are_the_same(
    project: GitProject, cli: CliRunner
) -> None:
    y = np.random.default_rng(0).integers(0, 2, ROWS)
    project.write("csv.yml", CONFIG.format(path="eval/predictions.csv"))
    project.write("parquet.yml", CONFIG.format(path="eval/predictions.parquet"))
    _side(project, 1, y)
    project.commit("baseline")
    project.branch("feature")
    _side(project, 2, y)
    project.commit("model change")
    for metric in ("eval.accuracy", "eval.roc_auc"):
        from_csv = cli("explain", metric, "--config", "csv.yml")
        from_parquet = cli("explain", metric, "--config", "parquet.yml")
        assert from_csv.code == from_parquet.code == 0, from_parquet.err
        assert len(_interval_lines(from_parquet.out)) == 3
        assert _interval_lines(from_parquet.out) == _interval_lines(from_csv.out)


def test_parquet_data_file_is_checked_for_drift_when_data_path_is_parquet(
    project: GitProject, cli: CliRunner
) -> None:
    rng = np.random.default_rng(5)
    config = "metrics: [metrics.json]\nbaseline: {stores: [committed]}\ndata: {path: data/train.parquet}\n"
    project.write(".gitignore", "mlgate-report/\n")
    project.write("data/train.parquet", "")
    data = project.root / "data" / "train.parquet"
    data.write_bytes(_parquet({"age": rng.normal(40, 10, 3000), "city": rng.choice(["a", "b"], 3000)}))
    project.commit("main", **{".mlgate.yml": config, "metrics_dot_json": {"acc": 0.9}})
    project.branch("feature")
    data.write_bytes(_parquet({"age": rng.normal(48, 10, 3000), "city": rng.choice(["a", "b"], 3000)}))
    project.commit("drifted")
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    report = (project.root / "mlgate-report" / "report.md").read_text(encoding="utf-8")
    assert "rows: 3,000 (reference 3,000, the base commit's copy (" in report
    assert "1 of 2 features drifted" in report


def test_parquet_without_pyarrow_is_a_one_line_error_exit_2_naming_the_file_and_the_extra(
    project: GitProject,
) -> None:
    project.write(".mlgate.yml", CONFIG.format(path="eval/predictions.parquet"))
    project.write("eval/predictions.parquet", "PAR1 (the file is never opened without pyarrow) PAR1")
    project.commit("baseline", metrics_dot_json={"eval": {"accuracy": 0.9}})
    # NOTE: a None entry in sys.modules makes `import pyarrow` raise ImportError, as when it is not installed.
    code = "import sys; sys.modules['pyarrow'] = None; from mlgate.cli import main; sys.exit(main(['diff']))"
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "mlgate: error: eval/predictions.parquet: reading Parquet needs pyarrow, which is not installed:"
        " pip install 'mlgate[parquet]'"
    ]
