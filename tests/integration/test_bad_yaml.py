"""Through the CLI, YAML PyYAML cannot build or that aliases blow up: exit 2, one line naming the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import CliRunner, one_error_line
from tests.gitproject import GitProject

METRICS_CONFIG = "metrics: [m.yaml]\n"
PARAMS_CONFIG = "metrics: [m.yaml]\nparams: [params.yaml]\n"
BAD_VALUES = [
    ("!!float abc", "'abc' is not a !!float"),
    ("!!int 1.5", "'1.5' is not a !!int"),
    ("!!timestamp xx", "'xx' is not a !!timestamp"),
    ("!!binary a", "failed to decode base64 data"),
    ("!!python/object:os.system x", "a constructor for the tag '!!python/object:os.system'"),
]
IDS = ["float", "int", "timestamp", "binary", "unknown-tag"]


def bomb(levels: int) -> str:
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _base(project: GitProject, config: str = METRICS_CONFIG) -> None:
    files = {".mlgate.yml": config, "m_dot_yaml": "acc: 0.9\n", "params_dot_yaml": "lr: 0.1\n"}
    project.commit("base", **files)


@pytest.mark.parametrize(("value", "expected"), BAD_VALUES, ids=IDS)
def test_a_bad_tagged_metric_is_one_line_with_line_and_column(
    project: GitProject, cli: CliRunner, value: str, expected: str
) -> None:
    _base(project)
    project.write("m.yaml", f"loss: 0.1\nacc: {value}\n")
    line = one_error_line(cli("diff"))
    assert line.startswith("mlgate: error: m.yaml:2:6: invalid YAML: ")
    assert expected in line


@pytest.mark.parametrize(("value", "expected"), BAD_VALUES, ids=IDS)
def test_a_bad_tagged_param_is_one_line_with_line_and_column(
    project: GitProject, cli: CliRunner, value: str, expected: str
) -> None:
    _base(project, PARAMS_CONFIG)
    project.write("params.yaml", f"lr: {value}\n")
    line = one_error_line(cli("diff"))
    assert line.startswith("mlgate: error: params.yaml:1:5: invalid YAML: ")
    assert expected in line


@pytest.mark.parametrize(
    ("value", "expected"), [*BAD_VALUES, ("!foo 1", "tag '!foo'")], ids=[*IDS, "local-tag"]
)
def test_a_bad_tagged_config_value_is_one_line_with_line_and_column(
    project: GitProject, cli: CliRunner, value: str, expected: str
) -> None:
    _base(project)
    (project.root / ".mlgate.yml").write_text(f"metrics: [m.yaml]\nbaseline: {{max_distance: {value}}}\n")
    line = one_error_line(cli("diff"))
    assert ".mlgate.yml:2:26: invalid YAML: " in line
    assert expected in line


@pytest.mark.parametrize(("name", "config"), [("m.yaml", METRICS_CONFIG), ("params.yaml", PARAMS_CONFIG)])
def test_an_alias_bomb_fails_fast_naming_the_alias(
    project: GitProject, cli: CliRunner, name: str, config: str
) -> None:
    _base(project, config)
    project.write(name, bomb(9))  # 306 bytes for 387 million numbers
    started = time.monotonic()
    line = one_error_line(cli("diff"))
    assert time.monotonic() - started < 5
    assert line.startswith(f"mlgate: error: {name}:6:10: aliases repeat more than 100,000 nodes")


def test_an_alias_inside_the_node_it_names_fails_fast(project: GitProject, cli: CliRunner) -> None:
    _base(project)
    project.write("m.yaml", "acc: &x [1, *x]\n")
    started = time.monotonic()
    line = one_error_line(cli("diff"))
    assert time.monotonic() - started < 5
    assert "m.yaml:1:13: alias *x is inside the node it names" in line


def test_metrics_and_params_with_a_few_aliases_are_compared(project: GitProject, cli: CliRunner) -> None:
    _base(project, PARAMS_CONFIG)
    project.write("m.yaml", "val: &scores {acc: 0.95, loss: 0.1}\ntest: *scores\n")
    project.write("params.yaml", "base: &base {lr: 0.2, depth: 3}\nfinetune:\n  <<: *base\n  lr: 0.01\n")
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    assert '"test.acc"' in result.out
    assert '"finetune.depth"' in result.out
    assert '"new": 0.95' in result.out


def test_a_file_that_failed_is_not_kept_in_the_yaml_cache(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    _base(project)
    project.write("m.yaml", "acc: !!float abc\n")
    env = {"MLGATE_CACHE_DIR": str(tmp_path / "cache")}
    first = one_error_line(cli("diff", env=env))
    assert one_error_line(cli("diff", env=env)) == first
    kept = [entry.read_text() for entry in (tmp_path / "cache" / "yaml").glob("*.json")]
    assert kept  # the base's m.yaml is kept; the work tree's is not
    assert not any("abc" in entry for entry in kept)
