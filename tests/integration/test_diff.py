"""`mlgate diff` end to end in real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CliRunner, one_error_line
from tests.gitproject import GitProject

COMMITTED_CONFIG = "metrics: [metrics.json]\nparams: [params.yaml]\nbaseline: {stores: [committed]}\n"
CONFIG = "gates:\n  - {metric: acc, abs: 0.01}\n  - {metric: loss}\n"


def _pr(project: GitProject) -> None:
    project.commit(
        "baseline",
        **{".mlgate.yml": CONFIG, "metrics.json": {"acc": 0.9, "loss": 0.3, "epochs": 5}},
        params_dot_yaml="lr: 0.1\ndepth: 3\n",
    )
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.85, "loss": 0.3, "epochs": 5})
    project.write("params.yaml", "lr: 0.2\ndepth: 3\n")


def test_markdown_diff_shows_changed_metrics_and_params_when_work_tree_differs(
    project: GitProject, cli: CliRunner
) -> None:
    _pr(project)
    result = cli("diff", "--md")
    assert result.code == 0, result.err
    assert "| metrics.json | acc" in result.out
    assert "0.85" in result.out
    assert "-0.05" in result.out
    assert "loss" not in result.out  # unchanged metrics are hidden without --all
    assert "| params.yaml | lr" in result.out


def test_all_shows_unchanged_metrics(project: GitProject, cli: CliRunner) -> None:
    _pr(project)
    result = cli("diff", "--all")
    assert result.code == 0, result.err
    assert "loss" in result.out
    assert "epochs" in result.out
    assert "depth" in result.out


def test_json_diff_has_dvc_shape_and_verdicts(project: GitProject, cli: CliRunner) -> None:
    _pr(project)
    result = cli("diff", "--json")
    data = json.loads(result.out)
    acc = data["metrics"]["metrics.json"]["acc"]
    assert acc["old"] == 0.9
    assert acc["new"] == 0.85
    assert abs(acc["diff"] + 0.05) < 1e-12
    assert acc["verdict"] == "regressed"
    assert data["regressions"] == ["acc"]
    assert data["outcome"] == "fail"
    assert data["params"]["params.yaml"]["lr"] == {"old": "0.1", "new": "0.2"}


def test_explicit_base_and_rev_compare_two_commits(project: GitProject, cli: CliRunner) -> None:
    first = project.commit("one", **{"metrics.json": {"acc": 0.5}})
    second = project.commit("two", **{"metrics.json": {"acc": 0.75}})
    result = cli("diff", second, "--base", first, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["metrics"]["metrics.json"]["acc"]["diff"] == 0.25


def test_unknown_base_rev_is_a_usage_error(project: GitProject, cli: CliRunner) -> None:
    project.commit("one", **{"metrics.json": {"acc": 0.5}})
    result = cli("diff", "--base", "no-such-rev")
    assert one_error_line(result).startswith("mlgate: error: --base no-such-rev: unknown revision")
    assert result.err.startswith("mlgate: error:")


def test_unknown_rev_to_compare_is_named_as_given_not_as_the_base(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("one", **{"metrics.json": {"acc": 0.5}})
    result = cli("diff", "no-such-rev")
    assert one_error_line(result).startswith("mlgate: error: no-such-rev: unknown revision")


def test_not_a_git_repository_is_a_usage_error(tmp_path_factory, cli: CliRunner) -> None:  # type: ignore[no-untyped-def]
    bare = tmp_path_factory.mktemp("plain")
    (bare / "metrics.json").write_text('{"acc": 1}')
    result = cli("diff", cwd=bare)
    assert "not a git repository" in one_error_line(result)


def test_shallow_clone_without_base_gives_fetch_depth_hint(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    project.commit("one", **{"metrics.json": {"acc": 0.5}})
    project.commit("two", **{"metrics.json": {"acc": 0.6}})
    project.branch("feature")
    project.commit("three", **{"metrics.json": {"acc": 0.7}})
    clone = tmp_path / "shallow"
    project.git("clone", "-q", "--depth", "1", "--branch", "feature", f"file://{project.root}", str(clone))
    project.git("-C", str(clone), "remote", "remove", "origin")  # nothing to fetch the base from
    result = cli("diff", cwd=clone)
    error = one_error_line(result)
    assert error.startswith("mlgate: error: baseline.branch main:"), error
    assert "fetch-depth: 0" in result.err


def test_no_baseline_is_said_when_base_has_no_metrics(project: GitProject, cli: CliRunner) -> None:
    project.commit("empty", **{"README.md": "x"})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.9})
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["base"]["found"] is False
    assert data["outcome"] == "no_baseline"


def test_a_dvclive_project_with_no_config_gets_its_curves_when_the_report_is_previewed(
    project: GitProject, cli: CliRunner
) -> None:
    loss = "timestamp\tstep\tloss\n" + "".join(f"{1700000000 + s}\t{s}\t{1 / (s + 1)}\n" for s in range(30))
    acc = "timestamp\tstep\tacc\n" + "".join(f"{1700000000 + s}\t{s}\t{s / 30}\n" for s in range(30))
    project.commit("main", **{"dvclive/metrics.json": {"acc": 0.9}})
    project.branch("feature")
    project.write("dvclive/metrics.json", {"acc": 0.91})
    project.write("dvclive/plots/metrics/loss.tsv", loss)
    project.write("dvclive/plots/metrics/train/acc.tsv", acc)
    result = cli("report", "--preview", "-o", "out")
    assert result.code == 0, result.err
    pngs = sorted(p.name for p in (project.root / "out").glob("*.png"))
    assert len(pngs) == 2
    report = (project.root / "out" / "report.md").read_text()
    assert "loss against step](loss-dvclive-plots-metrics-loss-tsv-" in report
    assert "acc against step](acc-dvclive-plots-metrics-train-acc-tsv-" in report


def _precise_pr(project: GitProject) -> None:
    project.commit(
        "baseline",
        **{".mlgate.yml": CONFIG, "metrics.json": {"acc": 0.912345, "loss": 0.3}},
        params_dot_yaml="lr: 0.1\n",
    )
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.854321, "loss": 0.3})
    project.write("params.yaml", "lr: 0.2\n")


def _row(out: str, name: str) -> list[str]:
    [line] = [line for line in out.splitlines() if f" {name} " in f" {line} "]
    return line.split()


def test_precision_rounds_values_and_change_to_n_decimals_when_precision_is_2(
    project: GitProject, cli: CliRunner
) -> None:
    _precise_pr(project)
    result = cli("diff", "--precision", "2")
    assert result.code == 0, result.err
    assert _row(result.out, "acc") == ["metrics.json", "acc", "0.91", "0.85", "-0.06"]
    assert "0.9123" not in result.out
    default = cli("diff")
    assert _row(default.out, "acc") == ["metrics.json", "acc", "0.91234", "0.85432", "-0.05802"]


def test_precision_zero_rounds_to_whole_numbers_when_asked(project: GitProject, cli: CliRunner) -> None:
    _precise_pr(project)
    result = cli("diff", "--precision", "0")
    assert result.code == 0, result.err
    assert _row(result.out, "acc") == ["metrics.json", "acc", "1.0", "1.0", "-0.0"]


def test_table_prints_plain_columns_without_markdown_when_asked(project: GitProject, cli: CliRunner) -> None:
    _precise_pr(project)
    result = cli("diff", "--table")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["Path", "Metric"]
    assert "|" not in result.out
    assert "---" not in result.out
    assert _row(result.out, "lr") == ["params.yaml", "lr", "0.1", "0.2"]
    assert result.out == cli("diff").out, "--table is the default format"
    assert "| metrics.json | acc" in cli("diff", "--md").out


def test_no_params_leaves_the_params_table_out_when_params_changed(
    project: GitProject, cli: CliRunner
) -> None:
    _precise_pr(project)
    result = cli("diff", "--no-params")
    assert result.code == 0, result.err
    assert _row(result.out, "acc")[:2] == ["metrics.json", "acc"]
    assert "Param" not in result.out
    assert "lr" not in result.out
    assert "params.yaml" in cli("diff").out, "without the flag the changed param is shown"
    assert json.loads(cli("diff", "--json", "--no-params").out)["params"] == {}


def traced_markdown_diff(
    project: GitProject, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`mlgate diff --md` in the project (it must pass), and the git commands it started (GIT_TRACE)."""
    trace = tmp_path / "git-trace.txt"
    env = {**os.environ, "GIT_TRACE": str(trace)}
    argv = [sys.executable, "-m", "mlgate", "diff", "--md"]
    done = subprocess.run(argv, cwd=project.root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = trace.read_text().splitlines()
    return done, [line.split("trace: built-in: ")[1] for line in lines if "built-in" in line]


@pytest.mark.parametrize(("ahead", "most"), [(False, 3), (True, 4)], ids=["at-the-base", "a-commit-ahead"])
def test_markdown_diff_starts_at_most_four_git_processes_when_the_baseline_is_committed(
    project: GitProject, tmp_path: Path, ahead: bool, most: int
) -> None:
    """DESIGN §11: each git process is a fork and an exec; the top level with HEAD, one `cat-file --batch`
    for the branch, HEAD's parents and the base's files, the merge-base (none when the branch is at HEAD),
    the ancestors with their dates."""
    project.commit(
        "baseline",
        **{".mlgate.yml": COMMITTED_CONFIG, "metrics.json": {"acc": 0.9}},
        params_dot_yaml="lr: 0.1\n",
    )
    project.branch("feature")
    if ahead:
        project.commit("feature", **{"metrics.json": {"acc": 0.85}})
    project.write("metrics.json", {"acc": 0.8})
    done, started = traced_markdown_diff(project, tmp_path)
    assert "| metrics.json | acc      | 0.9       | 0.8         | -0.1     |" in done.stdout
    assert len(started) <= most, started
    assert started.count("git cat-file --batch") == 1, started


def test_markdown_diff_reads_the_base_files_in_the_batch_when_the_config_names_none(
    project: GitProject, tmp_path: Path
) -> None:
    """The DVC layout's files (dvc.yaml, metrics.json, params.yaml…) are looked up with the branch and
    HEAD's parents: no listing of the base commit, no git process per file."""
    project.commit("baseline", **{"metrics.json": {"acc": 0.9}}, params_dot_yaml="lr: 0.1\n")
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.8})
    project.write("params.yaml", "lr: 0.2\n")
    done, started = traced_markdown_diff(project, tmp_path)
    assert "| metrics.json | acc      | 0.9       | 0.8         | -0.1     |" in done.stdout
    assert "| params.yaml | lr      | 0.1       | 0.2         |" in done.stdout
    assert not [git for git in started if git.startswith(("git ls-tree", "git cat-file blob"))], started
    assert started.count("git cat-file --batch") == 1, started
