"""The files a run brings back when the training cannot share the work tree: what mlgate reads afterwards."""

from __future__ import annotations

from pathlib import Path

from mlgate.config import Config
from mlgate.configschema import validate
from mlgate.training.outputs import output_paths


def test_metrics_predictions_and_plot_data_are_outputs_when_configured(tmp_path: Path) -> None:
    config = validate({
        "metrics": ["metrics.json", "eval/*.yaml", "../outside.json"],
        "params": ["params.yaml"],
        "predictions": {"path": "eval/predictions.csv"},
        "plots": [{"kind": "curve", "path": "logs/history.csv"}, {"kind": "confusion"},
                  {"kind": "image", "path": "plots/*.png"}, {"kind": "curve", "path": "metrics.json"}],
    })  # fmt: skip
    assert output_paths(config, tmp_path) == (
        "metrics.json", "eval/*.yaml", "params.yaml", "eval/predictions.csv", "logs/history.csv",
        "plots/*.png",
    )  # fmt: skip


def test_dvc_layout_gives_the_outputs_when_metrics_are_not_configured(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    metrics: [eval/m.json]\n"
    )
    assert output_paths(Config(), tmp_path) == ("eval/m.json", "dvclive/metrics.json", "metrics.json")
    (tmp_path / "dvc.yaml").write_text("stages: [unclosed\n")
    assert output_paths(Config(), tmp_path) == ("dvclive/metrics.json", "metrics.json")
