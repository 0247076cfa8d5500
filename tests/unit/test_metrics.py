"""Metrics and params files: every format, flattening, merging, and every kind of bad input."""

from __future__ import annotations

import json
import math
import string
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.documents import MAX_DEPTH
from mlgate.errors import ExitCode, MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.metrics import MAX_METRICS_BYTES, flatten, load_metrics, load_params, render
from mlgate.model import MetricSet, ValueKind
from mlgate.tree import GitTree, WorkTree
from tests.gitproject import GitProject


def write(root: Path, path: str, content: str | bytes) -> WorkTree:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    return WorkTree(root)


def values(metrics: MetricSet) -> dict[str, float | None]:
    return {metric.name: metric.value for metric in metrics}


def failure(tree: WorkTree | GitTree, patterns: list[str]) -> MetricsError:
    with pytest.raises(MetricsError) as info:
        load_metrics(tree, patterns)
    assert info.value.exit_code is ExitCode.USAGE
    assert "\n" not in str(info.value)
    return info.value


# --- formats and flattening -------------------------------------------------------------------------------


def test_nested_json_keys_flatten_to_dotted_names_when_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "metrics.json", '{"eval": {"acc": 0.9, "f1": {"macro": 0.8}}, "loss": 2}')
    metrics = load_metrics(tree, ["metrics.json"])
    assert values(metrics) == {"eval.acc": 0.9, "eval.f1.macro": 0.8, "loss": 2.0}
    assert metrics.sources == ("metrics.json",)
    assert metrics.warnings == ()


def test_list_items_flatten_to_indexed_names_when_they_are_numbers(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"per_class": [0.5, 0.7, {"x": 1}]}')
    assert values(load_metrics(tree, ["m.json"])) == {
        "per_class.0": 0.5,
        "per_class.1": 0.7,
        "per_class.2.x": 1,
    }


@pytest.mark.parametrize("name", ["metrics.yaml", "metrics.yml", "eval/metrics.YAML"])
def test_yaml_metrics_load_when_extension_is_yaml_or_yml(tmp_path: Path, name: str) -> None:
    tree = write(tmp_path, name, "eval:\n  acc: 0.91\n  auc: 0.97\nepochs: 10\n")
    assert values(load_metrics(tree, [name])) == {"eval.acc": 0.91, "eval.auc": 0.97, "epochs": 10.0}


def test_toml_metrics_load_when_extension_is_toml(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.toml", "loss = 0.25\n[eval]\nacc = 0.5\n")
    assert values(load_metrics(tree, ["m.toml"])) == {"loss": 0.25, "eval.acc": 0.5}


def test_json_is_sniffed_when_the_extension_is_unknown(tmp_path: Path) -> None:
    tree = write(tmp_path, "metrics.out", '{"acc": NaN}')
    write(tmp_path, "other.txt", "acc: 0.5\n")
    assert math.isnan(load_metrics(tree, ["metrics.out"]).metrics["acc"].value or 0)
    assert values(load_metrics(tree, ["other.txt"])) == {"acc": 0.5}


def test_csv_header_and_data_row_load_as_columns(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.csv", "acc,loss,eval.f1\n0.9,0.1,0.8\n")
    metrics = load_metrics(tree, ["m.csv"])
    assert values(metrics) == {"acc": 0.9, "loss": 0.1, "eval.f1": 0.8}
    assert metrics.warnings == ()


def test_tsv_header_and_data_row_load_when_extension_is_tsv(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.tsv", "acc\tloss\n0.75\t1.5\n")
    assert values(load_metrics(tree, ["m.tsv"])) == {"acc": 0.75, "loss": 1.5}


@pytest.mark.parametrize("header", ["name,value", "metric,value", "Metric,Value"])
def test_csv_name_value_rows_load_when_the_header_says_so(tmp_path: Path, header: str) -> None:
    tree = write(tmp_path, "m.csv", f"{header}\nacc,0.9\nloss,0.1\n")
    assert values(load_metrics(tree, ["m.csv"])) == {"acc": 0.9, "loss": 0.1}


def test_csv_name_value_rows_load_when_there_is_no_header(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.csv", "acc,0.9\n\nloss,0.1\n")
    assert values(load_metrics(tree, ["m.csv"])) == {"acc": 0.9, "loss": 0.1}


def test_csv_history_uses_the_last_row_with_a_warning_when_it_has_many_rows(tmp_path: Path) -> None:
    tree = write(tmp_path, "log.csv", "epoch,loss\n1,0.9\n2,0.5\n3,0.2\n")
    metrics = load_metrics(tree, ["log.csv"])
    assert values(metrics) == {"epoch": 3.0, "loss": 0.2}
    assert metrics.warnings == ("log.csv: 3 data rows (a history); the last row is used",)


def test_csv_cells_read_nan_inf_and_booleans_deliberately(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.csv", "a,b,c,d,e\nnan,inf,-Infinity,true,FALSE\n")
    metrics = load_metrics(tree, ["m.csv"]).metrics
    assert math.isnan(metrics["a"].value or 0)
    assert metrics["b"].value == math.inf
    assert metrics["c"].value == -math.inf
    assert (metrics["d"].kind, metrics["d"].value, metrics["e"].value) == (ValueKind.BOOL, 1.0, 0.0)


def test_csv_text_cell_is_kept_as_text_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.csv", "name,value\nacc,0.9\nmodel,resnet\n")
    metrics = load_metrics(tree, ["m.csv"])
    assert metrics.metrics["model"].kind is ValueKind.TEXT
    assert metrics.metrics["model"].raw == "resnet"
    assert metrics.warnings == ("m.csv:3: model: not a number ('resnet'); shown, not compared",)


def test_json_booleans_become_bool_metrics_when_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"converged": true, "diverged": false}')
    metrics = load_metrics(tree, ["m.json"]).metrics
    assert metrics["converged"].kind is ValueKind.BOOL
    assert (metrics["converged"].value, metrics["diverged"].value) == (1.0, 0.0)
    assert metrics["diverged"].display() == "false"


def test_json_nan_and_infinity_are_kept_as_floats(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"a": NaN, "b": Infinity, "c": -Infinity}')
    metrics = load_metrics(tree, ["m.json"])
    assert math.isnan(metrics.metrics["a"].value or 0)
    assert (metrics.metrics["b"].value, metrics.metrics["c"].value) == (math.inf, -math.inf)
    assert metrics.warnings == ()


def test_yaml_nan_and_inf_are_kept_as_floats(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.yaml", "a: .nan\nb: .inf\nc: -.inf\n")
    metrics = load_metrics(tree, ["m.yaml"]).metrics
    assert math.isnan(metrics["a"].value or 0)
    assert (metrics["b"].value, metrics["c"].value) == (math.inf, -math.inf)


def test_string_value_is_text_with_a_warning_naming_file_and_key(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"eval": {"acc": "0.9", "model": "bert"}}')
    metrics = load_metrics(tree, ["m.json"])
    acc = metrics.metrics["eval.acc"]
    assert (acc.kind, acc.value, acc.raw, acc.is_number) == (ValueKind.TEXT, None, "0.9", False)
    assert metrics.warnings[0] == "m.json: eval.acc: not a number ('0.9'); shown, not compared"
    assert len(metrics.warnings) == 2


def test_yaml_text_warning_names_the_line_when_the_value_is_not_a_number(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.yaml", "acc: 0.9\nnotes:\n  model: bert\n")
    assert load_metrics(tree, ["m.yaml"]).warnings == (
        "m.yaml:3: notes.model: not a number ('bert'); shown, not compared",
    )


def test_list_of_strings_is_one_text_metric_when_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"classes": ["cat", "dog"], "acc": 1}')
    metrics = load_metrics(tree, ["m.json"])
    assert list(metrics.metrics) == ["classes", "acc"]
    assert metrics.metrics["classes"].raw == '["cat", "dog"]'
    assert metrics.metrics["classes"].kind is ValueKind.TEXT


def test_null_is_text_null_when_a_value_is_missing(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.yaml", "acc: null\nf1: ~\n")
    metrics = load_metrics(tree, ["m.yaml"])
    assert [(m.kind, m.raw, m.display()) for m in metrics] == [(ValueKind.TEXT, "null", "null")] * 2
    assert len(metrics.warnings) == 2


def test_integer_too_large_for_a_float_is_text_when_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"big": 1' + "0" * 400 + "}")
    assert load_metrics(tree, ["m.json"]).metrics["big"].kind is ValueKind.TEXT


def test_utf8_bom_is_accepted_silently(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", b'\xef\xbb\xbf{"acc": 0.5}')
    write(tmp_path, "m.csv", b"\xef\xbb\xbfacc,loss\n1,2\n")
    assert values(load_metrics(tree, ["m.json"])) == {"acc": 0.5}
    assert values(load_metrics(tree, ["m.csv"])) == {"acc": 1.0, "loss": 2.0}


# --- several files ----------------------------------------------------------------------------------------


def test_each_metric_names_its_file_when_several_files_are_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "train.json", '{"loss": 0.3}')
    write(tmp_path, "eval/test.yaml", "acc: 0.8\n")
    metrics = load_metrics(tree, ["train.json", "eval/test.yaml"])
    assert [(m.name, m.source) for m in metrics] == [("loss", "train.json"), ("acc", "eval/test.yaml")]
    assert metrics.sources == ("train.json", "eval/test.yaml")


def test_later_file_wins_with_a_warning_when_a_name_is_defined_twice(tmp_path: Path) -> None:
    tree = write(tmp_path, "a.json", '{"acc": 0.1, "loss": 1}')
    write(tmp_path, "b.json", '{"acc": 0.2}')
    metrics = load_metrics(tree, ["a.json", "b.json"])
    assert metrics.metrics["acc"].value == 0.2
    assert metrics.metrics["acc"].source == "b.json"
    assert metrics.warnings == ("b.json: acc: defined again; this value wins over the one in a.json",)


def test_dotted_key_and_nested_key_collide_with_a_warning_when_in_one_file(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"eval.acc": 0.1, "eval": {"acc": 0.2}}')
    metrics = load_metrics(tree, ["m.json"])
    assert values(metrics) == {"eval.acc": 0.2}
    assert "earlier in this file" in metrics.warnings[0]


def test_glob_loads_matching_files_sorted_when_a_pattern_has_wildcards(tmp_path: Path) -> None:
    tree = write(tmp_path, "eval/b.yaml", "b: 2\n")
    write(tmp_path, "eval/a.yaml", "a: 1\n")
    write(tmp_path, "eval/c.json", '{"c": 3}')
    metrics = load_metrics(tree, ["eval/*.yaml"])
    assert metrics.sources == ("eval/a.yaml", "eval/b.yaml")


def test_file_matched_by_two_patterns_is_loaded_once(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"acc": 1}')
    metrics = load_metrics(tree, ["m.json", "*.json"])
    assert metrics.sources == ("m.json",)
    assert metrics.warnings == ()


def test_metrics_are_read_at_the_commit_when_the_tree_is_a_git_commit(project: GitProject) -> None:
    sha = project.commit("baseline", metrics_dot_json={"eval": {"acc": 0.8}})
    project.write("metrics.json", {"eval": {"acc": 0.9}})
    assert values(load_metrics(GitTree(GitRepo(project.root), sha), ["metrics.json"])) == {"eval.acc": 0.8}
    assert values(load_metrics(WorkTree(project.root), ["metrics.json"])) == {"eval.acc": 0.9}


def test_missing_file_names_the_commit_when_the_tree_is_a_git_commit(project: GitProject) -> None:
    sha = project.commit("empty", README_dot_md="x")
    error = failure(GitTree(GitRepo(project.root), sha), ["metrics.json"])
    assert error.where == "metrics.json"
    assert error.what == f"no such file (commit {sha[:12]})"


# --- bad input --------------------------------------------------------------------------------------------


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    error = failure(WorkTree(tmp_path), ["metrics.json"])
    assert (error.where, error.what) == ("metrics.json", "no such file (work tree)")


def test_pattern_matching_nothing_is_an_error_naming_the_pattern(tmp_path: Path) -> None:
    error = failure(WorkTree(tmp_path), ["eval/*.json"])
    assert (error.where, error.what) == ("eval/*.json", "the pattern matched no files (work tree)")


@pytest.mark.parametrize("pattern", ["../outside.json", "/etc/passwd", "a/../../b.json", "C:/x.json"])
def test_path_outside_the_repository_is_refused(tmp_path: Path, pattern: str) -> None:
    error = failure(WorkTree(tmp_path), [pattern])
    assert (error.where, error.what) == (pattern, "must be a relative path inside the repository")


@pytest.mark.parametrize("content", [b"", b"  \n\t\n", b"\xef\xbb\xbf\n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    error = failure(write(tmp_path, "m.json", content), ["m.json"])
    assert (error.where, error.what) == ("m.json", "empty file")


def test_binary_file_is_an_error_when_it_has_nul_bytes(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.json", b'{"a": 1}\x00\x01\x02'), ["m.json"])
    assert (error.where, error.what) == ("m.json", "binary file (NUL bytes), not text")
    assert error.hint == "save it as UTF-8 text"


def test_non_utf8_file_is_an_error_naming_the_byte(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.yaml", "model: café\n".encode("latin-1")), ["m.yaml"])
    assert (error.where, error.what) == ("m.yaml", "not UTF-8 text (byte 10)")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.json", '{\n  "acc": 0.9,\n  "loss": ,\n}'), ["m.json"])
    assert (error.where, error.what) == ("m.json:3:11", "invalid JSON: Expecting value")


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.yaml", "acc: 0.9\nloss: [1, 2\nf1: 3\n"), ["m.yaml"])
    assert error.where.startswith("m.yaml:3:")
    assert error.what.startswith("invalid YAML: ")


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.toml", "acc = 0.9\nloss = = 1\n"), ["m.toml"])
    assert error.where == "m.toml:2:8"
    assert error.what.startswith("invalid TOML: ")


def test_duplicate_json_key_names_the_key_path_and_line(tmp_path: Path) -> None:
    text = '{"eval": {"acc": 0.9,\n  "loss": [{"x": 1}],\n  "acc": 0.8}}'
    error = failure(write(tmp_path, "m.json", text), ["m.json"])
    assert (error.where, error.what) == ("m.json:3", "duplicate key 'eval.acc'")


def test_duplicate_json_key_inside_a_list_names_the_index(tmp_path: Path) -> None:
    text = '{"runs": [{"a": 1}, {"a": 2,\n "a": 3}], "x": {"a": 1}}'
    error = failure(write(tmp_path, "m.json", text), ["m.json"])
    assert (error.where, error.what) == ("m.json:2", "duplicate key 'runs.1.a'")


def test_duplicate_yaml_key_names_the_key_path_and_line(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.yaml", "eval:\n  acc: 0.9\n  acc: 0.8\n"), ["m.yaml"])
    assert (error.where, error.what) == ("m.yaml:3", "duplicate key 'eval.acc'")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"a":' * 1000 + "1" + "}" * 1000),
        ("deep.yaml", "{a: " * 1000 + "1" + "}" * 1000),
        ("deep.yml", "".join("  " * i + "a:\n" for i in range(1000)) + "  " * 1000 + "b: 1\n"),
        ("medium.json", '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)),
    ],
)
def test_nesting_too_deep_is_a_clean_error(tmp_path: Path, name: str, text: str) -> None:
    error = failure(write(tmp_path, name, text), [name])
    assert error.where == name
    assert "nested" in error.what
    assert "deep" in error.what


def test_nesting_at_the_limit_loads_when_it_is_not_deeper(tmp_path: Path) -> None:
    text = '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH
    assert values(load_metrics(write(tmp_path, "m.json", text), ["m.json"])) == {".".join("a" * MAX_DEPTH): 1}


def test_huge_file_is_refused_fast_naming_size_and_limit(tmp_path: Path) -> None:
    with (tmp_path / "metrics.json").open("wb") as handle:
        handle.truncate(100 * 2**20)  # sparse: no 100 MB written
    started = time.perf_counter()
    error = failure(WorkTree(tmp_path), ["metrics.json"])
    assert time.perf_counter() - started < 5
    assert (error.where, error.what) == ("metrics.json", "100 MiB is over the 16 MiB limit for this file")


def test_file_just_over_the_limit_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "m.json").open("wb") as handle:
        handle.truncate(MAX_METRICS_BYTES + 1)
    assert failure(WorkTree(tmp_path), ["m.json"]).what == "16.0 MiB is over the 16 MiB limit for this file"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[0.1, 0.2]", "a list"), ("0.9", "a number"), ('"acc"', "a string"), ("true", "a boolean")],
)
def test_top_level_that_is_not_a_mapping_is_an_error(tmp_path: Path, text: str, kind: str) -> None:
    error = failure(write(tmp_path, "m.json", text), ["m.json"])
    assert (error.where, error.what) == ("m.json", f"top level must be a mapping of metric names, got {kind}")


def test_yaml_with_only_comments_is_an_error(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.yaml", "# no metrics yet\n"), ["m.yaml"])
    assert error.what.startswith("no data: the document is empty")


def test_csv_with_a_header_and_no_data_row_is_an_error(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.csv", "acc,loss,f1\n"), ["m.csv"])
    assert (error.where, error.what) == ("m.csv:1", "a header row but no data row")


@pytest.mark.parametrize("text", ["name,value\n", "metric,value\n\n"])
def test_name_value_csv_without_rows_is_an_error(tmp_path: Path, text: str) -> None:
    error = failure(write(tmp_path, "m.csv", text), ["m.csv"])
    assert (error.where, error.what) == ("m.csv:1", "a header row but no data row")


def test_csv_of_empty_cells_is_an_error(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.csv", ",,\n , \n"), ["m.csv"])
    assert (error.where, error.what) == ("m.csv", "no rows: every cell is empty")


def test_invalid_csv_names_the_line(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.csv", 'a,b\n1,"' + "x" * 200_000 + '"\n'), ["m.csv"])
    assert error.where == "m.csv:2"
    assert error.what.startswith("invalid CSV: field larger than field limit")


def test_yaml_nested_a_hundred_deep_is_refused_at_the_depth_limit(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.yaml", "{a: " * 100 + "1" + "}" * 100), ["m.yaml"])
    assert (error.where, error.what) == ("m.yaml", f"a.a.a.…: nested more than {MAX_DEPTH} levels deep")


def test_csv_row_with_the_wrong_number_of_cells_names_the_line(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.csv", "acc,loss,f1\n0.1,0.2\n"), ["m.csv"])
    assert (error.where, error.what) == ("m.csv:2", "2 cells, but the header has 3")


def test_csv_name_value_row_with_three_cells_names_the_line(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "m.csv", "name,value\nacc,0.9\nloss,0.1,extra\n"), ["m.csv"])
    assert (error.where, error.what) == ("m.csv:3", "expected two cells, name and value; got 3")


# --- params -----------------------------------------------------------------------------------------------


def test_params_flatten_and_render_as_display_text(tmp_path: Path) -> None:
    text = "lr: 0.1\ntrain:\n  epochs: 10\n  shuffle: true\n  layers: [1, 2]\n  optim: adam\n  decay: null\n"
    params = load_params(write(tmp_path, "params.yaml", text), ["params.yaml"])
    shown = {p.name: p.value for p in params.params.values()}
    assert shown == {
        "lr": "0.1",
        "train.epochs": "10",
        "train.shuffle": "true",
        "train.layers": "[1, 2]",
        "train.optim": "adam",
        "train.decay": "null",
    }
    assert params.get("lr") is not None
    assert params.sources == ("params.yaml",)


def test_params_yaml_is_found_when_no_patterns_are_configured(tmp_path: Path) -> None:
    params = load_params(write(tmp_path, "params.yaml", "seed: 42\n"), None)
    assert params.sources == ("params.yaml",)
    assert params.params["seed"].value == "42"


def test_params_later_file_wins_when_several_files_are_loaded(tmp_path: Path) -> None:
    tree = write(tmp_path, "a.json", '{"lr": 0.1, "tags": ["x", "y"]}')
    write(tmp_path, "b.toml", "lr = 0.01\n")
    params = load_params(tree, ["a.json", "b.toml"])
    assert (params.params["lr"].value, params.params["lr"].source) == ("0.01", "b.toml")
    assert params.params["tags"].value == '["x", "y"]'


def test_params_with_only_comments_are_empty_when_loaded(tmp_path: Path) -> None:
    assert load_params(write(tmp_path, "params.yaml", "# none\n"), ["params.yaml"]).params == {}


def test_params_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="params files are YAML, JSON or TOML"):
        load_params(write(tmp_path, "p.csv", "a,b\n1,2\n"), ["p.csv"])


def test_params_duplicate_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as info:
        load_params(write(tmp_path, "params.yaml", "lr: 1\nlr: 2\n"), ["params.yaml"])
    assert (info.value.where, info.value.what) == ("params.yaml:2", "duplicate key 'lr'")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (True, "true"),
        (None, "null"),
        ([1, "a"], '[1, "a"]'),
        ({"k": 1}, "{k: 1}"),
    ],
)
def test_render_writes_values_as_a_diff_shows_them(value: Any, text: str) -> None:
    assert render(value) == text


# --- properties -------------------------------------------------------------------------------------------

_KEYS = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=6)
_LEAF = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**6)
_TREES = st.recursive(
    st.dictionaries(_KEYS, _LEAF, max_size=4),
    lambda children: st.dictionaries(_KEYS, children | _LEAF, max_size=4),
    max_leaves=40,
)


def _count_leaves(data: dict[str, Any]) -> int:
    return sum(_count_leaves(v) if isinstance(v, dict) else 1 for v in data.values())


@given(_TREES)
def test_flatten_keeps_every_leaf_when_dicts_of_numbers_are_nested(data: dict[str, Any]) -> None:
    leaves = flatten(data)
    assert len(leaves) == _count_leaves(data)
    assert len({key for key, _ in leaves}) == len(leaves)


@settings(max_examples=40, deadline=None)
@given(_TREES)
def test_loaded_json_round_trips_every_leaf_when_keys_have_no_dots(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as root:
        tree = write(Path(root), "m.json", json.dumps(data) if data else '{"_": 0}')
        metrics = load_metrics(tree, ["m.json"])
    assert len(metrics) == (_count_leaves(data) if data else 1)
    for key, value in flatten(data):
        loaded = metrics.metrics[".".join(map(str, key))].value
        assert loaded == float(value) or (math.isnan(value) and loaded is not None and math.isnan(loaded))


def test_single_pattern_string_is_one_pattern_not_its_letters(tmp_path: Path) -> None:
    tree = write(tmp_path, "m.json", '{"acc": 1}')
    assert load_metrics(tree, "m.json").sources == ("m.json",)  # a str is a Sequence[str] too


def test_yaml_date_is_text_rendered_as_written(tmp_path: Path) -> None:
    metrics = load_metrics(write(tmp_path, "m.yaml", "trained: 2024-05-01\nacc: 1\n"), ["m.yaml"])
    assert metrics.metrics["trained"].raw == "2024-05-01"
    assert metrics.metrics["trained"].kind is ValueKind.TEXT
