"""Several runs (seeds) in one metrics file: a `repeats` list (JSON, YAML, TOML) or a CSV `seed` column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import ExitCode, MetricsError
from mlgate.metrics import load_metrics
from mlgate.model import MetricSet, ValueKind
from mlgate.tree import WorkTree

SEEDS = (0.81, 0.83, 0.82)

FORMATS = {
    "m.json": '{"eval": {"loss": 0.4}, "repeats": [{"eval": {"accuracy": 0.81}},'
    ' {"eval": {"accuracy": 0.83}}, {"eval": {"accuracy": 0.82}}]}',
    "m.yaml": "eval: {loss: 0.4}\nrepeats:\n  - eval: {accuracy: 0.81}\n  - eval: {accuracy: 0.83}\n"
    "  - eval: {accuracy: 0.82}\n",
    "m.toml": '[eval]\nloss = 0.4\n\n[[repeats]]\n"eval.accuracy" = 0.81\n\n[[repeats]]\n'
    '"eval.accuracy" = 0.83\n\n[[repeats]]\neval = {accuracy = 0.82}\n',
}


def load(tmp_path: Path, name: str, text: str) -> MetricSet:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_metrics(WorkTree(tmp_path), [name])


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_repeats_give_the_mean_and_the_runs_when_the_file_has_no_own_value(tmp_path: Path, name: str) -> None:
    metrics = load(tmp_path, name, FORMATS[name])
    accuracy = metrics.get("eval.accuracy")
    assert accuracy is not None
    assert accuracy.repeats == SEEDS
    assert accuracy.value == pytest.approx(0.82)
    assert list(metrics.metrics) == ["eval.loss", "eval.accuracy"]  # the runs are not metrics themselves
    assert metrics.warnings == ()


def test_own_value_wins_over_the_mean_when_the_file_has_both(tmp_path: Path) -> None:
    text = '{"acc": 0.9, "repeats": [{"acc": 0.8}, {"acc": 0.7}]}'
    acc = load(tmp_path, "m.json", text).get("acc")
    assert acc is not None
    assert (acc.value, acc.repeats) == (0.9, (0.8, 0.7))


@pytest.mark.parametrize("sep", [",", "\t"])
def test_csv_rows_are_seeds_when_the_header_has_a_seed_column(tmp_path: Path, sep: str) -> None:
    rows = ["seed,accuracy,loss", "0,0.81,0.5", "1,0.83,0.4", "2,0.82,0.45"]
    metrics = load(tmp_path, "m.tsv" if sep == "\t" else "m.csv", "\n".join(rows).replace(",", sep) + "\n")
    assert list(metrics.metrics) == ["accuracy", "loss"]
    accuracy = metrics.get("accuracy")
    assert accuracy is not None
    assert accuracy.repeats == SEEDS
    assert accuracy.value == pytest.approx(0.82)
    assert metrics.warnings == ()


def test_csv_history_without_a_seed_column_still_uses_its_last_row(tmp_path: Path) -> None:
    metrics = load(tmp_path, "log.csv", "epoch,loss\n1,0.9\n2,0.5\n")
    loss = metrics.get("loss")
    assert loss is not None
    assert (loss.value, loss.repeats) == (0.5, ())


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        (
            '{"acc": 0.9, "repeats": [{"acc": 0.8}]}',
            "m.json: repeats: 1 run; a Welch interval needs at least 2",
        ),
        ('{"acc": 0.9, "repeats": []}', "m.json: repeats: 0 runs; a Welch interval needs at least 2"),
        (
            '{"repeats": [{"acc": 0.8}, {"acc": "high"}]}',
            "m.json: repeats[1].acc: not a number ('high'); the repeats of acc are not used",
        ),
        (
            '{"repeats": [{"acc": 0.8}, {"acc": 0.7}, {"f1": 0.5}]}',
            "m.json: acc: in 2 of 3 runs only; the mean is of those",
        ),
    ],
)
def test_odd_repeats_warn_naming_file_and_key_when_they_cannot_all_be_used(
    tmp_path: Path, text: str, warning: str
) -> None:
    metrics = load(tmp_path, "m.json", text)
    assert any(w.startswith(warning) for w in metrics.warnings), metrics.warnings
    acc = metrics.get("acc")
    assert acc is not None
    assert len(acc.repeats) != 1


def test_text_repeat_is_shown_not_gated_when_the_file_has_no_own_value(tmp_path: Path) -> None:
    acc = load(tmp_path, "m.json", '{"repeats": [{"acc": 0.8}, {"acc": "high"}]}').get("acc")
    assert acc is not None
    assert (acc.kind, acc.value, acc.repeats) == (ValueKind.TEXT, None, ())


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (
            '{"repeats": [{"acc": 0.8}, 0.81]}',
            "repeats[1]: a repeat must be a mapping of metric names, got 0.81",
        ),
        (
            '{"repeats": [[0.8, 0.81]]}',
            "repeats[0]: a repeat must be a mapping of metric names, got [0.8, 0.81]",
        ),
    ],
)
def test_repeat_that_is_not_a_mapping_is_an_error_naming_file_and_index(
    tmp_path: Path, text: str, what: str
) -> None:
    with pytest.raises(MetricsError) as info:
        load(tmp_path, "m.json", text)
    assert (info.value.where, info.value.what) == ("m.json", what)
    assert info.value.exit_code is ExitCode.USAGE


def test_csv_seed_row_with_a_missing_cell_is_an_error_naming_the_line(tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as info:
        load(tmp_path, "m.csv", "seed,acc\n0,0.8\n1\n")
    assert (info.value.where, info.value.what) == ("m.csv:3", "1 cells, but the header has 2")


def test_scalar_repeats_stays_an_ordinary_metric_when_it_is_not_a_list(tmp_path: Path) -> None:
    metrics = load(tmp_path, "m.json", '{"repeats": 5, "acc": 0.9}')
    assert {m.name: m.value for m in metrics} == {"repeats": 5.0, "acc": 0.9}
