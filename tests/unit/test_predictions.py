"""Per-example predictions (CSV, JSON Lines, .npz) and histories: what the noise model and plots read."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlgate import metrics
from mlgate.config import PredictionsConfig
from mlgate.configschema import validate_section
from mlgate.errors import ExitCode, MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.model import Predictions
from mlgate.predictions import MAX_PREDICTIONS_BYTES, load_history, load_predictions
from mlgate.tree import GitTree, WorkTree
from tests.gitproject import GitProject

COLUMNS = {"id": "id", "y_true": "label", "y_pred": "pred"}


def config(path: str, task: str = "classification", **columns: str | None) -> PredictionsConfig:
    return validate_section(PredictionsConfig, {"path": path, "task": task, "columns": columns or COLUMNS})


def write(root: Path, path: str, content: str | bytes) -> WorkTree:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return WorkTree(root)


def load(root: Path, path: str, content: str | bytes, **kwargs: Any) -> Predictions:
    return load_predictions(write(root, path, content), config(path, **kwargs))


def failure(root: Path, path: str, content: str | bytes, **kwargs: Any) -> MetricsError:
    with pytest.raises(MetricsError) as info:
        load(root, path, content, **kwargs)
    assert info.value.exit_code is ExitCode.USAGE
    return info.value


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


CSV = "id,label,pred\na,cat,cat\nb,dog,cat\nc,bird,dog\n"


# --- classification ---------------------------------------------------------------------------------------


def test_string_labels_are_encoded_in_sorted_order_over_y_true_and_y_pred(tmp_path: Path) -> None:
    found = load(tmp_path, "p.csv", "id,label,pred\na,dog,cat\nb,dog,ant\nc,cat,dog\n")
    assert found.labels == ("ant", "cat", "dog")
    assert found.y_true.tolist() == [2, 2, 1]
    assert found.y_pred.tolist() == [1, 0, 2]
    assert found.ids is not None
    assert found.ids.tolist() == ["a", "b", "c"]
    assert (found.task, found.source, len(found)) == ("classification", "p.csv", 3)


def test_integer_labels_sort_numerically_when_every_label_is_a_number(tmp_path: Path) -> None:
    found = load(tmp_path, "p.csv", "id,label,pred\na,10,9\nb,2,10\nc, 9 ,2.0\n")
    assert found.labels == ("2", "9", "10")
    assert found.y_true.tolist() == [2, 0, 1]
    assert found.y_pred.tolist() == [1, 2, 0]


def test_score_column_is_read_as_floats_when_configured(tmp_path: Path) -> None:
    text = "id,label,pred,proba\na,1,1,0.9\nb,0,1,0.6\nc,0,0,nan\n"
    found = load(tmp_path, "p.csv", text, id="id", y_true="label", y_pred="pred", score="proba")
    assert found.score is not None
    assert found.score[:2].tolist() == [0.9, 0.6]
    assert math.isnan(found.score[2])
    assert found.y_true.dtype == np.int64


def test_tsv_predictions_load_when_extension_is_tsv(tmp_path: Path) -> None:
    found = load(tmp_path, "p.tsv", CSV.replace(",", "\t"))
    assert found.labels == ("bird", "cat", "dog")


def test_jsonl_predictions_load_with_int_and_bool_labels(tmp_path: Path) -> None:
    rows = [{"id": 1, "label": True, "pred": False}, {"id": 2, "label": False, "pred": False}]
    found = load(tmp_path, "p.jsonl", jsonl(rows))
    assert found.labels == ("false", "true")
    assert (found.y_true.tolist(), found.y_pred.tolist()) == ([1, 0], [0, 0])
    assert found.ids is not None
    assert found.ids.tolist() == ["1", "2"]


def test_npz_predictions_load_when_arrays_are_named_like_the_columns(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", id=np.array(["a", "b"]), label=np.array([0, 1]), pred=np.array([1, 1]))
    found = load_predictions(WorkTree(tmp_path), config("p.npz"))
    assert found.labels == ("0", "1")
    assert found.y_pred.tolist() == [1, 1]


def test_default_id_column_is_optional_when_the_file_has_none(tmp_path: Path) -> None:
    tree = write(tmp_path, "p.csv", "y_true,y_pred\n1,0\n")
    found = load_predictions(tree, PredictionsConfig(path="p.csv"))
    assert found.ids is None
    assert len(found) == 1


# --- regression -------------------------------------------------------------------------------------------


def test_regression_reads_y_true_and_y_pred_as_floats(tmp_path: Path) -> None:
    found = load(tmp_path, "p.csv", "id,label,pred\na,1.5,1.0\nb,-2,3e2\n", task="regression")
    assert found.y_true.tolist() == [1.5, -2.0]
    assert found.y_pred.tolist() == [1.0, 300.0]
    assert found.labels == ()


def test_regression_jsonl_reads_floats_when_values_are_numbers(tmp_path: Path) -> None:
    found = load(tmp_path, "p.jsonl", jsonl([{"id": "a", "label": 1, "pred": 0.5}]), task="regression")
    assert (found.y_true.tolist(), found.y_pred.tolist()) == ([1.0], [0.5])


def test_regression_cell_that_is_not_a_number_names_the_line(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.csv", "id,label,pred\na,1,1\nb,x,2\n", task="regression")
    assert error.where == "p.csv"
    assert error.what.startswith("invalid CSV: could not convert string 'x' to float64 on line 3")


def test_regression_jsonl_value_that_is_not_a_number_names_the_row(tmp_path: Path) -> None:
    rows = [{"id": "a", "label": 1, "pred": 1}, {"id": "b", "label": "n/a", "pred": 2}]
    error = failure(tmp_path, "p.jsonl", jsonl(rows), task="regression")
    assert (error.where, error.what) == ("p.jsonl", "column 'label', row 2: not a number ('n/a')")


# --- content hash -----------------------------------------------------------------------------------------


def test_content_hash_is_equal_when_only_predictions_differ(tmp_path: Path) -> None:
    head = load(tmp_path, "head.csv", CSV)
    base = load(
        tmp_path, "base.csv", CSV.replace("c,bird,dog", "c,bird,bird").replace("b,dog,cat", "b,dog,dog")
    )
    assert head.content_hash == base.content_hash
    assert len(head.content_hash) == 64


def test_content_hash_is_equal_across_formats_when_the_eval_set_is_the_same(tmp_path: Path) -> None:
    rows = [{"id": "a", "label": 1, "pred": 0}, {"id": "b", "label": 0, "pred": 0}]
    np.savez(tmp_path / "p.npz", id=np.array(["a", "b"]), label=np.array([1, 0]), pred=np.array([1, 1]))
    from_csv = load(tmp_path, "p.csv", "id,label,pred\na,1,1\nb,0,1\n")
    from_jsonl = load(tmp_path, "p.jsonl", jsonl(rows))
    from_npz = load_predictions(WorkTree(tmp_path), config("p.npz"))
    assert from_csv.content_hash == from_jsonl.content_hash == from_npz.content_hash


def test_content_hash_is_stable_when_a_new_predicted_class_shifts_the_codes(tmp_path: Path) -> None:
    base = load(tmp_path, "base.csv", "id,label,pred\na,b,b\nb,c,c\n")
    head = load(tmp_path, "head.csv", "id,label,pred\na,b,a\nb,c,c\n")
    assert base.y_true.tolist() != head.y_true.tolist()
    assert base.content_hash == head.content_hash


@pytest.mark.parametrize(
    "changed", ["id,label,pred\na,cat,cat\nb,dog,cat\nX,bird,dog\n", CSV.replace("c,bird", "c,dog")]
)
def test_content_hash_differs_when_ids_or_y_true_differ(tmp_path: Path, changed: str) -> None:
    assert load(tmp_path, "a.csv", CSV).content_hash != load(tmp_path, "b.csv", changed).content_hash


def test_content_hash_differs_between_regression_eval_sets(tmp_path: Path) -> None:
    one = load(tmp_path, "a.csv", "id,label,pred\na,1.0,2\n", task="regression")
    same = load(tmp_path, "b.csv", "id,label,pred\na,1,5\n", task="regression")
    other = load(tmp_path, "c.csv", "id,label,pred\na,1.5,2\n", task="regression")
    assert one.content_hash == same.content_hash != other.content_hash


def test_predictions_are_read_at_a_commit_when_the_tree_is_git(project: GitProject) -> None:
    sha = project.commit("eval", eval__p_dot_csv=CSV)
    found = load_predictions(GitTree(GitRepo(project.root), sha), config("eval/p.csv"))
    assert found.labels == ("bird", "cat", "dog")


# --- bad input --------------------------------------------------------------------------------------------


def test_missing_column_names_it_and_the_columns_present(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.csv", "id,truth,pred\na,1,1\n")
    assert (error.where, error.what) == ("p.csv", "no column 'label' (columns: id, truth, pred)")
    assert error.hint == "set predictions.columns in .mlgate.yml"


def test_missing_score_column_is_an_error_when_configured(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.jsonl", jsonl([{"id": 1, "label": 1, "pred": 1}]), score="p", **COLUMNS)
    assert error.what == "no column 'p' (columns: id, label, pred)"


def test_configured_id_column_is_required_when_named_in_the_config(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.csv", "label,pred\n1,1\n", id="example", y_true="label", y_pred="pred")
    assert error.what == "no column 'example' (columns: label, pred)"


def test_missing_jsonl_key_in_a_later_row_names_the_row(tmp_path: Path) -> None:
    rows = [{"id": 1, "label": 1, "pred": 1}, {"id": 2, "label": 0}]
    error = failure(tmp_path, "p.jsonl", jsonl(rows))
    assert error.what == "row 2: no 'pred' (it has id, label)"


@pytest.mark.parametrize(
    ("path", "content"), [("p.csv", "id,label,pred\n"), ("p.csv", "id,label,pred\n\n\n")]
)
def test_header_without_rows_is_an_error(tmp_path: Path, path: str, content: str) -> None:
    error = failure(tmp_path, path, content)
    assert error.what == "no rows: the predictions file has a header but no examples"


def test_empty_predictions_file_is_an_error(tmp_path: Path) -> None:
    assert failure(tmp_path, "p.csv", b"").what == "empty file"


def test_ragged_csv_row_is_an_error(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.csv", "id,label,pred\na,1,1\nb,1\n")
    assert error.what.startswith("invalid CSV: ")


def test_score_that_is_not_a_number_is_an_error(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.csv", "id,label,pred,s\na,1,1,high\n", score="s", **COLUMNS)
    assert "could not convert string 'high' to float64 on line 2" in error.what


def test_invalid_jsonl_line_names_line_and_column(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.jsonl", '{"id": 1, "label": 1, "pred": 1}\n\n{"id": 2,, }\n')
    assert (error.where, error.what) == (
        "p.jsonl:3:10",
        "invalid JSON: Expecting property name enclosed in double quotes",
    )


def test_jsonl_line_that_is_not_an_object_is_an_error(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.jsonl", "[1, 2, 3]\n")
    assert (error.where, error.what) == ("p.jsonl:1", "each line must be a JSON object, got list")


def test_unhashable_jsonl_labels_are_an_error(tmp_path: Path) -> None:
    error = failure(tmp_path, "p.jsonl", jsonl([{"id": 1, "label": [1], "pred": 1}]))
    assert error.what == "column 'label': labels must be strings or numbers"


def test_npz_that_is_not_a_zip_archive_is_an_error(tmp_path: Path) -> None:
    with (tmp_path / "p.npz").open("wb") as handle:
        np.save(handle, np.arange(3))  # a plain .npy under an .npz name
    with pytest.raises(MetricsError, match=r"not an \.npz archive"):
        load_predictions(WorkTree(tmp_path), config("p.npz"))


def test_npz_with_a_two_dimensional_array_is_an_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", id=np.arange(4), label=np.zeros((2, 2)), pred=np.arange(4))
    with pytest.raises(MetricsError, match=r"array 'label' has shape \(2, 2\); expected one dimension"):
        load_predictions(WorkTree(tmp_path), config("p.npz"))


def test_npz_with_columns_of_different_lengths_is_an_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", id=np.arange(3), label=np.arange(3), pred=np.arange(2))
    with pytest.raises(MetricsError, match="the columns have different lengths"):
        load_predictions(WorkTree(tmp_path), config("p.npz"))


def test_binary_csv_is_an_error(tmp_path: Path) -> None:
    assert failure(tmp_path, "p.csv", b"id,label\x00pred\n").what == "binary file (NUL bytes), not text"


def test_predictions_over_two_gib_are_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "p.csv").open("wb") as handle:
        handle.truncate(MAX_PREDICTIONS_BYTES + 1)  # sparse
    started = time.perf_counter()
    with pytest.raises(MetricsError) as info:
        load_predictions(WorkTree(tmp_path), config("p.csv"))
    assert time.perf_counter() - started < 5
    assert info.value.what == "2048.0 MiB is over the 2048 MiB limit for this file"


def test_million_row_csv_loads_in_well_under_two_seconds(tmp_path: Path) -> None:
    rows = 1_000_000
    rng = np.random.default_rng(7)
    table = np.column_stack(
        [np.arange(rows), rng.integers(0, 3, rows), rng.integers(0, 3, rows), rng.random(rows)]
    )
    np.savetxt(
        tmp_path / "p.csv",
        table,
        fmt=["%d", "%d", "%d", "%.6f"],
        delimiter=",",
        header="id,label,pred,p",
        comments="",
    )
    cfg = config("p.csv", id="id", y_true="label", y_pred="pred", score="p")
    timings = []
    for _ in range(2):  # the best of two: a shared CI runner can stall one run
        started = time.perf_counter()
        found = load_predictions(WorkTree(tmp_path), cfg)
        timings.append(time.perf_counter() - started)
    assert len(found) == rows
    assert found.y_true.tolist()[:100] == table[:100, 1].astype(int).tolist()
    assert found.score is not None
    assert np.allclose(found.score, table[:, 3], atol=1e-6)
    assert min(timings) < 2.0, f"{min(timings):.2f} s"


def test_metrics_module_loads_predictions_the_same_way(tmp_path: Path) -> None:
    tree = write(tmp_path, "p.csv", CSV)
    assert (
        metrics.load_predictions(tree, config("p.csv")).content_hash
        == load_predictions(tree, config("p.csv")).content_hash
    )


# --- histories --------------------------------------------------------------------------------------------


def test_dvclive_tsv_history_loads_as_columns(tmp_path: Path) -> None:
    tree = write(
        tmp_path, "dvclive/plots/metrics/loss.tsv", "timestamp\tstep\tloss\n1700\t0\t0.9\n1701\t1\t0.5\n"
    )
    assert load_history(tree, "dvclive/plots/metrics/loss.tsv") == {
        "timestamp": [1700.0, 1701.0],
        "step": [0.0, 1.0],
        "loss": [0.9, 0.5],
    }


def test_csv_history_cells_that_are_not_numbers_are_nan(tmp_path: Path) -> None:
    history = metrics.load_history(write(tmp_path, "h.csv", "epoch,loss,note\n1,0.5,ok\n2,,x\n3\n"), "h.csv")
    assert history["epoch"] == [1.0, 2.0, 3.0]
    assert history["loss"][0] == 0.5
    assert all(math.isnan(v) for v in history["loss"][1:] + history["note"])


def test_csv_history_with_only_a_header_has_empty_columns(tmp_path: Path) -> None:
    assert load_history(write(tmp_path, "h.csv", "epoch,loss\n"), "h.csv") == {"epoch": [], "loss": []}


def test_jsonl_history_fills_missing_keys_with_nan(tmp_path: Path) -> None:
    tree = write(tmp_path, "h.jsonl", '{"step": 0, "loss": 1}\n{"step": 1, "val_loss": 2}\n')
    history = load_history(tree, "h.jsonl")
    assert list(history) == ["step", "loss", "val_loss"]
    assert history["step"] == [0.0, 1.0]
    assert math.isnan(history["loss"][1])
    assert math.isnan(history["val_loss"][0])


def test_json_history_loads_when_it_is_a_list_of_rows_or_an_object_of_columns(tmp_path: Path) -> None:
    tree = write(tmp_path, "rows.json", '[{"x": 1, "y": 2}, {"x": 2, "y": "bad"}]')
    write(tmp_path, "cols.json", '{"x": [1, 2], "y": [2, null]}')
    rows, cols = load_history(tree, "rows.json"), load_history(tree, "cols.json")
    assert rows["x"] == cols["x"] == [1.0, 2.0]
    assert rows["y"][0] == cols["y"][0] == 2.0
    assert math.isnan(rows["y"][1])
    assert math.isnan(cols["y"][1])


def test_json_history_of_another_shape_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="a history is a list of rows"):
        load_history(write(tmp_path, "h.json", '{"x": 1}'), "h.json")


def test_history_row_longer_than_the_header_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as info:
        load_history(write(tmp_path, "h.csv", "a,b\n1,2\n1,2,3\n"), "h.csv")
    assert (info.value.where, info.value.what) == ("h.csv:3", "3 cells, but the header has 2")


def test_history_header_repeating_a_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="the header repeats a column name"):
        load_history(write(tmp_path, "h.csv", "a,a\n1,2\n"), "h.csv")


def test_missing_history_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as info:
        load_history(WorkTree(tmp_path), "logs/history.csv")
    assert (info.value.where, info.value.what) == ("logs/history.csv", "no such file (work tree)")


def test_predictions_path_outside_the_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="must be a relative path inside the repository"):
        load_predictions(WorkTree(tmp_path), config("../p.csv"))


def test_corrupt_npz_archive_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match=r"not a readable \.npz archive"):
        load(tmp_path, "p.npz", b"PK\x03\x04 this is not really a zip")


def test_npz_with_no_rows_is_an_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", label=np.array([], dtype=int), pred=np.array([], dtype=int))
    with pytest.raises(MetricsError, match="no rows"):
        load_predictions(WorkTree(tmp_path), config("p.npz", id=None, y_true="label", y_pred="pred"))


def test_the_id_column_is_used_if_present_by_default_required_when_named_and_off_when_null(
    tmp_path: Path,
) -> None:
    text = "id,label,pred\na,1,1\nb,0,1\n"
    by_default = load(tmp_path, "p.csv", text, y_true="label", y_pred="pred")
    assert by_default.ids is not None
    assert list(by_default.ids) == ["a", "b"]
    assert load(tmp_path, "p.csv", "label,pred\n1,1\n", y_true="label", y_pred="pred").ids is None
    off = load(tmp_path, "p.csv", text, id=None, y_true="label", y_pred="pred")
    assert off.ids is None, "id: null turns ids off even where the file has an id column"
    assert off.content_hash != by_default.content_hash
    error = failure(tmp_path, "p.csv", "label,pred\n1,1\n", id="row", y_true="label", y_pred="pred")
    assert error.what.startswith("no column 'row'")
