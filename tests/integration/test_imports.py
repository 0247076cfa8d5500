"""`mlgate --help` and `mlgate diff` stay fast: they import none of the heavy libraries (DESIGN §11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.gitproject import GitProject

HEAVY = {
    "matplotlib",
    "jinja2",
    "github",
    "gitlab",
    "httpx",
    "docker",
    "sklearn",
    "scipy",
    "numpy",
    "pyarrow",
}
PROBE = """
import io, json, sys
from mlgate.cli import main
out = io.StringIO()
code = main(sys.argv[1:], out=out, err=io.StringIO())
print(json.dumps({"code": code, "modules": sorted(m.split(".")[0] for m in sys.modules)}))
"""


def loaded(cwd: str, *argv: str) -> tuple[int, set[str]]:
    """The exit code and the top-level modules loaded; run as on a developer's machine (the config cache
    is not used in CI, so CI's own variables are left out)."""
    env = {
        name: value for name, value in os.environ.items() if name not in ("CI", "GITHUB_ACTIONS", "GITLAB_CI")
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=cwd, capture_output=True, text=True, check=True, env=env
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["code"], set(data["modules"])


@pytest.mark.parametrize("argv", [("--help",), ("diff",), ("diff", "--json")])
def test_fast_commands_import_no_heavy_library(project: GitProject, argv: tuple[str, ...]) -> None:
    project.commit("base", **{"metrics.json": {"acc": 0.9}, "params_dot_yaml": "lr: 0.1\n"})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.8})
    code, modules = loaded(str(project.root), *argv)
    assert code == 0
    assert not modules & HEAVY, f"{argv} imported {sorted(modules & HEAVY)}"


def test_markdown_diff_of_plain_names_imports_neither_tabulate_nor_jinja2(project: GitProject) -> None:
    """difftable lays out ASCII tables itself: tabulate 0.10 imports importlib.metadata (≈35 ms)."""
    project.commit("base", **{"metrics.json": {"acc": 0.9}})
    project.write("metrics.json", {"acc": 0.8})
    code, modules = loaded(str(project.root), "diff", "--md")
    assert code == 0
    assert not modules & {"tabulate", "jinja2", "matplotlib", "numpy"}


def test_top_level_help_loads_no_command_module(project: GitProject) -> None:
    code, modules = loaded(str(project.root), "--help")
    assert code == 0
    assert not modules & {"pydantic", "yaml"}, "`mlgate --help` should not build the config models"


def test_diff_imports_no_pydantic_with_no_config_or_once_the_config_is_validated(project: GitProject) -> None:
    project.commit("base", **{"metrics.json": {"acc": 0.9}})
    project.write("metrics.json", {"acc": 0.8})
    _, modules = loaded(str(project.root), "diff", "--md")
    assert "pydantic" not in modules, "no .mlgate.yml: the defaults need no validation"
    assert "yaml" not in modules, "and a JSON project reads no YAML"
    project.commit("config", **{".mlgate_dot_yml": "gates:\n  - {metric: acc, abs: 0.01}\n"})
    project.write("metrics.json", {"acc": 0.7})
    first_code, first = loaded(str(project.root), "diff", "--md")
    again_code, again = loaded(str(project.root), "diff", "--md")
    assert (first_code, again_code) == (0, 0)
    assert "pydantic" in first, "the first read validates"
    assert "pydantic" not in again, "the second read comes from the cache"
    assert "yaml" not in again, "a JSON project whose config is cached parses no YAML"


def test_a_second_diff_of_a_yaml_project_reads_its_documents_without_pyyaml(project: GitProject) -> None:
    """params.yaml and dvc.yaml, at head and at the base, come from yamlcache once they have been parsed."""
    project.commit(
        "base",
        **{
            "dvc_dot_yaml": "metrics: [metrics.json]\nparams: [params.yaml]\n",
            "metrics.json": {"acc": 0.9},
            "params_dot_yaml": "lr: 0.1\n",
        },
    )
    project.write("metrics.json", {"acc": 0.8})
    project.write("params.yaml", "lr: 0.2\n")
    first_code, first = loaded(str(project.root), "diff", "--md")
    again_code, again = loaded(str(project.root), "diff", "--md")
    assert (first_code, again_code) == (0, 0)
    assert "yaml" in first
    assert "yaml" not in again
    ci = {**os.environ, "CI": "true"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "diff"],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=True,
        env=ci,
    )
    assert "yaml" in json.loads(done.stdout.strip().splitlines()[-1])["modules"], "never kept in CI"
