"""`.mlgate.yml`: every section validates, bad input names the key and line, env and flags override."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config import Config, parse_duration
from mlgate.configfile import load_config
from mlgate.configschema import json_schema
from mlgate.errors import ConfigError, ExitCode
from mlgate.model import Direction, Severity
from mlgate.yamlfile import load_value

FULL = """\
version: 1
train:
  command: python train.py
  backend: subprocess
  image: ghcr.io/org/trainer:cuda12
  gpus: all
  timeout: 2h
  env: {SEED: 0}
  ray: {address: null, num_cpus: 1, resources: {}, excludes: [data/]}
metrics: [metrics.json, eval/*.yaml]
params: [params.yaml]
predictions:
  path: eval/predictions.csv
  task: classification
  columns: {id: id, y_true: label, y_pred: pred, score: proba}
plots:
  - {kind: curve, path: logs/history.csv, x: epoch, y: [loss, val_loss]}
  - {kind: confusion}
  - {kind: roc}
  - {kind: image, path: "plots/*.png"}
gates:
  - {metric: "eval.accuracy", direction: higher, abs: 0.005, rel: 0.01, min: 0.80, severity: fail}
  - {metric: "*latency*",      direction: lower,  rel: 0.10, severity: warn}
  - {metric: "*",              direction: neutral}
baseline:
  branch: main
  stores: [git-notes, ci-artifact, committed, retrain]
  max_distance: 20
  if_missing: pass
data:
  path: data/train.csv
  drift: {method: psi, warn: 0.1}
report: {title: "Model report", template: null}
comment: {when: always, mode: update}
chatops: {enabled: true, min_permission: write, allow_self_accept: false}
status: {name: mlgate, informational: false}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".mlgate.yml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.exit_code is ExitCode.USAGE
    return info.value


def test_design_example_loads_when_every_section_is_present(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL)).config
    assert config.train.timeout == 7200
    assert config.train.env == {"SEED": "0"}
    assert config.train.gpus == "all"
    assert [p.kind for p in config.plots] == ["curve", "confusion", "roc", "image"]
    rules = config.rules
    assert rules[0].direction is Direction.HIGHER
    assert rules[0].min == 0.8
    assert rules[1].severity is Severity.WARN
    assert rules[2].index == 2


def test_defaults_apply_when_file_is_empty(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "")).config
    assert config == Config()
    assert config.baseline.branch == "main"
    assert config.metrics is None


def test_unknown_key_names_path_and_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, "version: 1\ntrain:\n  comand: python t.py\n")
    assert str(err) == f"{tmp_path / '.mlgate.yml'}:3: train.comand: unknown key"
    assert err.hint is not None


def test_negative_tolerance_names_rule_index(tmp_path: Path) -> None:
    err = error_of(tmp_path, "gates:\n  - {metric: acc}\n  - {metric: loss, abs: -0.1}\n")
    assert "gates[1].abs" in str(err)
    assert ":3:" in str(err)
    assert "greater than or equal to 0, got -0.1" in str(err)


def test_bad_glob_is_rejected_when_brackets_are_unbalanced(tmp_path: Path) -> None:
    err = error_of(tmp_path, "gates:\n  - {metric: 'eval.[acc'}\n")
    assert "gates[0].metric" in str(err)
    assert "bad glob" in str(err)


def test_wrong_type_is_named_when_a_number_is_a_string(tmp_path: Path) -> None:
    err = error_of(tmp_path, "baseline:\n  max_distance: lots\n")
    assert "baseline.max_distance" in str(err)


def test_invalid_yaml_reports_line_and_column(tmp_path: Path) -> None:
    err = error_of(tmp_path, "train:\n  command: [unclosed\n")
    assert err.where.startswith(str(tmp_path / ".mlgate.yml") + ":")
    assert "invalid YAML" in err.what


def test_duplicate_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, "train:\n  command: a\n  command: b\n")
    assert err.where.endswith(":3")
    assert "duplicate key 'train.command'" in err.what


def test_top_level_list_is_rejected(tmp_path: Path) -> None:
    err = error_of(tmp_path, "- a\n- b\n")
    assert "mapping" in err.what


def test_unknown_plot_kind_and_bad_literal_are_named(tmp_path: Path) -> None:
    err = error_of(tmp_path, "plots:\n  - {kind: pie}\n")
    assert "plots[0]" in str(err)
    err = error_of(tmp_path, "comment: {when: sometimes}\n")
    assert "comment.when" in str(err)
    assert "'sometimes'" in str(err)


def test_env_overrides_file_and_flags_override_env(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  command: python a.py\nbaseline: {branch: main}\n")
    env = {"MLGATE_TRAIN__COMMAND": "python b.py", "MLGATE_BASELINE__MAX_DISTANCE": "5", "MLGATE_TOKEN": "x"}
    loaded = load_config(path, env)
    assert loaded.config.train.command == "python b.py"
    assert loaded.config.baseline.max_distance == 5
    assert loaded.sources["train.command"] == "env MLGATE_TRAIN__COMMAND"
    flagged = load_config(path, env, {"train.command": "python c.py", "baseline.branch": None})
    assert flagged.config.train.command == "python c.py"
    assert flagged.sources["train.command"] == "flag"
    assert flagged.config.baseline.branch == "main"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.01", 0.01),
        ("[a, b]", ["a", "b"]),
        ("{x: 1}", {"x": 1}),
        ("on", "on"),
        ("", ""),
        ("!!float abc", "!!float abc"),
        ("{a: 1, a: 2}", "{a: 1, a: 2}"),
        ("&a [*a]", "&a [*a]"),
        ("python train.py --lr 0.1", "python train.py --lr 0.1"),
    ],
)
def test_an_override_value_is_read_as_strict_yaml_else_kept_as_text(text: str, value: object) -> None:
    assert load_value(text) == value


def test_a_bad_override_value_is_named_by_its_variable_not_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "baseline: {branch: main}\n")
    for text in ("abc", "!!int x"):
        with pytest.raises(ConfigError) as caught:
            load_config(path, {"MLGATE_BASELINE__MAX_DISTANCE": text})
        assert caught.value.where == "env MLGATE_BASELINE__MAX_DISTANCE"
        assert caught.value.what.startswith("baseline.max_distance: Input should be a valid integer")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {}, {"baseline.max_distance": "x"})
    assert caught.value.where == "flag"
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"MLGATE_TRAIN__RAY__RESOURCES__my_gpu": "abc"})
    assert caught.value.where == "env MLGATE_TRAIN__RAY__RESOURCES__my_gpu"  # as the user spelled it


def test_env_variable_names_keep_their_case_when_set_through_mlgate_train_env(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  env: {SEED: '0'}\n")
    env = {"MLGATE_TRAIN__ENV__HF_HOME": "/cache/hf", "MLGATE_TRAIN__RAY__RESOURCES__GPU_A100": "1"}
    config = load_config(path, env).config
    assert config.train.env == {"SEED": "0", "HF_HOME": "/cache/hf"}
    assert config.train.ray.resources == {"GPU_A100": 1.0}


def test_yaml_11_booleans_stay_strings_when_written_as_on_or_yes(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "train:\n  env: {FLAG: on, OTHER: yes}\n")).config
    assert config.train.env == {"FLAG": "on", "OTHER": "yes"}


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), (30, 30)])
def test_durations_parse_when_given_units(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5m", "0"])
def test_bad_durations_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match=r"duration|> 0"):
        parse_duration(bad)


def test_bad_gpus_and_min_above_max_are_rejected(tmp_path: Path) -> None:
    assert "train.gpus" in str(error_of(tmp_path, "train: {gpus: several}\n"))
    assert "min" in str(error_of(tmp_path, "gates: [{metric: acc, min: 0.9, max: 0.1}]\n"))


def test_a_bars_plot_glob_is_checked_like_a_gate_glob(tmp_path: Path) -> None:
    error = error_of(tmp_path, "plots: [{kind: bars, metrics: ['a[b']}]\n")
    assert "plots[0].metrics[0]: bad glob 'a[b': unbalanced brackets" in str(error)


def test_an_error_under_a_key_named_like_a_plot_kind_keeps_that_key(tmp_path: Path) -> None:
    assert "train.image:" in str(error_of(tmp_path, "train: {image: [1]}\n"))
    assert "plots[0].path:" in str(error_of(tmp_path, "plots: [{kind: image, path: [1]}]\n"))


def test_schema_is_whole_and_forbids_extra_keys() -> None:
    schema = json_schema()
    assert set(schema["properties"]) >= {
        "train", "metrics", "params", "predictions", "plots", "gates", "baseline", "data", "report",
        "comment", "chatops", "status",
    }  # fmt: skip
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["TrainConfig"]["additionalProperties"] is False
