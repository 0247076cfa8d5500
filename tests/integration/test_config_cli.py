"""`mlgate schema` and `mlgate config`, as a user calls them."""

from __future__ import annotations

import json

from tests.conftest import CliRunner
from tests.gitproject import GitProject


def test_schema_is_a_json_schema_that_forbids_unknown_keys_and_lists_every_section(cli: CliRunner) -> None:
    result = cli("schema")
    assert result.code == 0, result.err
    schema = json.loads(result.out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    sections = {"train", "metrics", "params", "predictions", "plots", "gates", "baseline", "data", "report"}
    assert sections | {"comment", "chatops", "status"} <= set(schema["properties"])


def test_config_shows_each_values_source_and_never_a_token_when_env_and_file_set_keys(
    project: GitProject, cli: CliRunner
) -> None:
    project.write(".mlgate.yml", "gates:\n  - {metric: acc, abs: 0.1}\n")
    env = {"MLGATE_TRAIN__COMMAND": "python t.py", "GITHUB_TOKEN": "ghs_canary_token_1234"}
    result = cli("config", env=env)
    assert result.code == 0, result.err
    assert "# gates: from " in result.out
    assert "# train.command: from env MLGATE_TRAIN__COMMAND" in result.out
    assert "command: python t.py" in result.out
    assert "ghs_canary_token_1234" not in result.out + result.err


def test_config_with_a_bad_key_is_exit_2_naming_file_line_and_key(
    project: GitProject, cli: CliRunner
) -> None:
    project.write(".mlgate.yml", "gates:\n  - {metric: acc, treshold: 0.1}\n")
    result = cli("config")
    assert result.code == 2
    assert ".mlgate.yml:2: gates[0].treshold: unknown key" in result.err
