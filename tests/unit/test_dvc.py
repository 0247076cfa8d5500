"""DVC layouts: what dvc.yaml lists, DVCLive's defaults, and discovery when no files are configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.dvc import is_inside, metrics_files, params_files
from mlgate.errors import MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.metrics import load_metrics, load_params
from mlgate.tree import GitTree, WorkTree
from tests.gitproject import GitProject


def write(root: Path, files: dict[str, str]) -> WorkTree:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content, encoding="utf-8")
    return WorkTree(root)


DVC_YAML = """\
metrics:
  - dvclive/metrics.json
stages:
  train:
    cmd: python train.py
    params: [lr, {train.yaml: [epochs]}]
    metrics:
      - metrics.json:
          cache: false
      - eval/scores.yaml
  report:
    wdir: reports
    cmd: python report.py
    metrics: [summary.json, ../root.json]
"""


# --- what dvc.yaml says (pure) ----------------------------------------------------------------------------


def test_metrics_files_lists_top_level_then_stage_entries_in_order() -> None:
    doc = {
        "metrics": ["dvclive/metrics.json"],
        "stages": {
            "train": {"metrics": [{"metrics.json": {"cache": False}}, "eval/scores.yaml"]},
            "report": {"wdir": "reports", "metrics": ["summary.json", "../root.json"]},
        },
    }
    paths, warnings = metrics_files(doc)
    assert paths == [
        "dvclive/metrics.json",
        "metrics.json",
        "eval/scores.yaml",
        "reports/summary.json",
        "root.json",
    ]
    assert warnings == []


def test_metrics_files_skips_templated_and_outside_paths_with_warnings() -> None:
    doc = {
        "stages": {
            "evaluate": {"foreach": ["a", "b"], "do": {"metrics": ["eval/${item}.json"]}},
            "leak": {"metrics": ["/etc/passwd", "../../secret.json", 7]},
        }
    }
    paths, warnings = metrics_files(doc)
    assert paths == []
    assert warnings == [
        "dvc.yaml: metrics: templated path 'eval/${item}.json' is not expanded; skipped",
        "dvc.yaml: metrics: '/etc/passwd' is outside the repository; skipped",
        "dvc.yaml: metrics: '../../secret.json' is outside the repository; skipped",
        "dvc.yaml: metrics: entry 7 is not a path; skipped",
    ]


def test_metrics_files_is_empty_when_there_is_no_dvc_yaml_or_no_metrics() -> None:
    assert metrics_files(None) == ([], [])
    assert metrics_files({"stages": {"train": {"cmd": "python t.py"}}, "plots": ["x.json"]}) == ([], [])
    assert metrics_files({"stages": ["not", "a", "mapping"], "metrics": "m.json"}) == (["m.json"], [])


def test_params_files_names_stage_files_and_the_stage_params_yaml() -> None:
    doc = {
        "params": ["global.yaml"],
        "stages": {
            "train": {"params": ["lr", {"train.yaml": ["epochs"]}]},
            "sub": {"wdir": "sub", "params": ["seed"]},
        },
    }
    assert params_files(doc) == (["global.yaml", "params.yaml", "train.yaml", "sub/params.yaml"], [])


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("m.json", True),
        ("a/./b.json", True),
        ("a/b/../c.json", False),
        ("/m", False),
        ("C:\\m", False),
        ("", False),
    ],
)
def test_is_inside_accepts_only_relative_paths_in_the_repository(path: str, inside: bool) -> None:
    assert is_inside(path) is inside


# --- discovery through load_metrics / load_params ---------------------------------------------------------


def test_dvc_yaml_metrics_are_loaded_when_no_patterns_are_configured(tmp_path: Path) -> None:
    tree = write(
        tmp_path,
        {
            "dvc.yaml": DVC_YAML,
            "dvclive/metrics.json": '{"step": 9, "acc": 0.7}',
            "metrics.json": '{"acc": 0.8}',
            "eval/scores.yaml": "f1: 0.5\n",
            "reports/summary.json": '{"auc": 0.9}',
        },
    )
    metrics = load_metrics(tree, None)
    assert metrics.sources == (
        "dvclive/metrics.json",
        "metrics.json",
        "eval/scores.yaml",
        "reports/summary.json",
    )
    assert metrics.metrics["acc"].source == "metrics.json"
    assert {m.name for m in metrics} == {"step", "acc", "f1", "auc"}
    assert "dvc.yaml lists root.json but it is not in the work tree" in metrics.warnings


def test_dvclive_metrics_are_found_when_there_is_no_dvc_yaml(tmp_path: Path) -> None:
    tree = write(tmp_path, {"dvclive/metrics.json": '{"loss": 0.2}', "metrics.json": '{"other": 1}'})
    metrics = load_metrics(tree, None)
    assert metrics.sources == ("dvclive/metrics.json",)
    assert metrics.warnings == ()


def test_metrics_json_is_found_when_nothing_else_is_there(tmp_path: Path) -> None:
    tree = write(tmp_path, {"metrics.json": '{"acc": 0.5}'})
    assert load_metrics(tree, None).sources == ("metrics.json",)


def test_metrics_json_is_the_fallback_when_dvc_yaml_lists_only_missing_files(tmp_path: Path) -> None:
    tree = write(tmp_path, {"dvc.yaml": "metrics: [cached.json]\n", "metrics.json": '{"acc": 0.5}'})
    metrics = load_metrics(tree, None)
    assert metrics.sources == ("metrics.json",)
    assert metrics.warnings == ("dvc.yaml lists cached.json but it is not in the work tree",)


def test_discovery_finds_nothing_with_a_warning_when_the_tree_has_no_metrics(tmp_path: Path) -> None:
    metrics = load_metrics(WorkTree(tmp_path), None)
    assert len(metrics) == 0
    assert metrics.sources == ()
    assert metrics.warnings[0].startswith("no metrics files found in the work tree")


def test_invalid_dvc_yaml_is_an_error_naming_it_and_the_line(tmp_path: Path) -> None:
    tree = write(tmp_path, {"dvc.yaml": "stages:\n  train:\n    cmd: [a\n", "metrics.json": "{}"})
    with pytest.raises(MetricsError) as info:
        load_metrics(tree, None)
    assert info.value.where.startswith("dvc.yaml:")
    assert info.value.what.startswith("invalid YAML")


def test_dvc_yaml_that_is_a_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="top level must be a mapping of sections, got a list"):
        load_metrics(write(tmp_path, {"dvc.yaml": "- a\n- b\n"}), None)


def test_empty_dvc_yaml_falls_back_when_it_holds_only_comments(tmp_path: Path) -> None:
    tree = write(tmp_path, {"dvc.yaml": "# nothing yet\n", "metrics.json": '{"acc": 1}'})
    assert load_metrics(tree, None).sources == ("metrics.json",)


def test_discovery_reads_the_commit_when_the_tree_is_a_git_commit(project: GitProject) -> None:
    sha = project.commit(
        "dvc project",
        dvc_dot_yaml="stages:\n  e:\n    cmd: x\n    metrics:\n      - out/m.json:\n          cache: false\n",
        out__m_dot_json={"acc": 0.6},
    )
    project.write("out/m.json", {"acc": 0.9})
    metrics = load_metrics(GitTree(GitRepo(project.root), sha), None)
    assert (metrics.sources, metrics.metrics["acc"].value) == (("out/m.json",), 0.6)


def test_params_come_from_params_yaml_and_dvc_yaml_files_when_not_configured(tmp_path: Path) -> None:
    tree = write(tmp_path, {"dvc.yaml": DVC_YAML, "params.yaml": "lr: 0.1\n", "train.yaml": "epochs: 5\n"})
    params = load_params(tree, None)
    assert params.sources == ("params.yaml", "train.yaml")
    assert {p.name: p.value for p in params.params.values()} == {"lr": "0.1", "epochs": "5"}


def test_params_are_empty_when_the_tree_has_no_params_files(tmp_path: Path) -> None:
    params = load_params(WorkTree(tmp_path), None)
    assert (params.params, params.sources) == ({}, ())


def test_metrics_files_lists_a_path_once_and_ignores_stages_that_are_not_mappings() -> None:
    doc = {"metrics": ["m.json"], "stages": {"a": {"metrics": ["./m.json", "x/../n.json"]}, "b": "cmd"}}
    assert metrics_files(doc) == (["m.json", "n.json"], [])
