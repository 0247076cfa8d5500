"""`mlgate explain METRIC` by tolerances: values and their sources, the rule, the arithmetic, the verdict."""

from __future__ import annotations

import pytest

from tests.conftest import CliRunner, one_error_line
from tests.gitproject import GitProject

CONFIG = "metrics: [metrics.json]\ngates: [{metric: acc, abs: 0.01, rel: 0.05, min: 0.85}]\n"


@pytest.fixture
def base(project: GitProject) -> str:
    sha = project.commit("base", **{".mlgate.yml": CONFIG, "metrics_dot_json": {"acc": 0.9, "loss": 0.3}})
    project.branch("feature")
    return sha


def explained(cli: CliRunner, metric: str) -> dict[str, str]:
    result = cli("explain", metric)
    assert result.code == 0, result.err
    pairs = (line.split(":", 1) for line in result.out.splitlines())
    return {key: value.strip() for key, value in pairs}


def test_a_change_within_both_tolerances_is_unchanged_and_shows_the_arithmetic(
    project: GitProject, cli: CliRunner, base: str
) -> None:
    project.write("metrics.json", {"acc": 0.87, "loss": 0.3})
    lines = explained(cli, "acc")
    assert lines["base"] == f"0.9   from metrics.json at {base[:12]} (store committed, 0 commits back)"
    assert lines["head"] == "0.87   from metrics.json (workspace)"
    assert lines["direction"] == "higher is better (inferred from the name)"
    assert lines["rule"] == "gates[0] metric='acc' severity=fail"
    assert lines["tolerance"] == "abs 0.01, rel 0.05 × |0.9| = 0.045; a regression must exceed both"
    assert lines["bounds"] == "min 0.85 (checked whatever the change)"
    assert lines["change"] == "-0.03 (head − base)"
    assert lines["relative"] == "-3.333 % of |base|"
    assert lines["verdict"] == "unchanged"
    assert lines["because"] == "−0.03 is within tolerance abs 0.01, rel 0.045"


def test_a_value_below_the_floor_blocks_and_says_both_reasons(
    project: GitProject, cli: CliRunner, base: str
) -> None:
    project.write("metrics.json", {"acc": 0.84, "loss": 0.3})
    lines = explained(cli, "acc")
    assert lines["verdict"] == "regressed (blocks the merge)"
    assert lines["because"] == (
        "0.84 is below the floor min 0.85; −0.06 (higher is better) exceeds tolerance abs 0.01, rel 0.045"
    )


def test_a_metric_no_rule_matches_is_shown_not_gated(project: GitProject, cli: CliRunner, base: str) -> None:
    project.write("metrics.json", {"acc": 0.9, "loss": 0.2})
    lines = explained(cli, "loss")
    assert lines["direction"] == "lower is better (inferred from the name)"
    assert lines["rule"] == "none matches: shown, not gated"
    assert "tolerance" not in lines
    assert lines["verdict"] == "improved"


def test_an_unknown_metric_is_one_error_line_with_a_hint(
    project: GitProject, cli: CliRunner, base: str
) -> None:
    project.write("metrics.json", {"acc": 0.9})
    result = cli("explain", "nosuch")
    assert one_error_line(result) == "mlgate: error: explain nosuch: no such metric in head or baseline"
    assert result.err.splitlines()[1] == "hint: `mlgate diff --all` lists the metrics"
