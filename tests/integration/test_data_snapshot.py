"""The data snapshot saved with the baseline: through git notes and a ci-artifact baseline.json, the
drift reference when the base commit has no data file, and the base-commit fallback when it stored none."""

from __future__ import annotations

import json

import numpy as np

from mlgate.baseline import find_baseline
from mlgate.datacheck import check, load_table
from mlgate.datasketch import decode_sketch
from mlgate.gitrepo import GitRepo
from mlgate.tree import WorkTree
from tests.conftest import CliRunner
from tests.gitproject import GitProject
from tests.integration.test_baseline_stores import FakeCi, _github, _store, _zip, fake_ci

__all__ = ["fake_ci"]  # the fixture, shared with the ci-artifact store's tests

CONFIG = """\
metrics: [metrics.json]
gates: [{metric: acc, abs: 0.01}]
baseline: {stores: [git-notes]}
data: {path: data/train.csv}
"""


def _data(shift: float, seed: int = 3) -> str:
    rng = np.random.default_rng(seed)
    age, income = rng.normal(40 + shift, 10, 3000), rng.lognormal(10, 1, 3000)
    city = rng.choice(["a", "b", "c"], 3000)
    rows = "".join(f"{a:.3f},{i:.2f},{c}\n" for a, i, c in zip(age, income, city, strict=True))
    return "age,income,city\n" + rows


def _main_with_data(project: GitProject, config: str = CONFIG) -> str:
    """A main commit whose data file is generated, not committed (git-ignored)."""
    project.write(".gitignore", "metrics.json\ndata/\nmlgate-report/\nout/\n")
    sha = project.commit("main", **{".mlgate.yml": config})
    project.write("metrics.json", {"acc": 0.9})
    project.write("data/train.csv", _data(0))
    return sha


def _report(project: GitProject) -> str:
    return (project.root / "mlgate-report" / "report.md").read_text(encoding="utf-8")


def test_drift_is_computed_from_the_stored_snapshot_when_the_base_commit_has_no_data_file(
    project: GitProject, cli: CliRunner
) -> None:
    sha = _main_with_data(project)
    saved = cli("baseline", "save", "--no-push")
    assert saved.code == 0, saved.err
    note = project.git("notes", "--ref=refs/notes/mlgate", "show", sha)
    assert json.loads(note)["data"]["columns"]["age"]["kind"] == "numeric"
    assert len(note) < 16 * 1024
    assert _data(0).splitlines()[1] not in note  # sketches, not rows
    project.branch("feature")
    project.commit("pr work")
    project.write("data/train.csv", _data(8, seed=4))
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    report = _report(project)
    assert "drift (PSI ≥ 0.1): 1 of 3 features drifted; warning only" in report
    assert f"the snapshot stored with the baseline (git-notes, {sha[:12]})" in report
    assert report.count("the snapshot stored with the baseline") == 2  # data section and provenance
    assert "`age: PSI " in report


def test_stored_snapshot_round_trips_through_the_ci_artifact_when_main_ran_mlgate(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha = _main_with_data(project, CONFIG.replace("[git-notes]", "[ci-artifact]"))
    saved = cli("run", "--no-train", "--save-baseline", "always")
    assert saved.code == 0, saved.err
    artifact = (project.root / "mlgate-report" / "baseline.json").read_bytes()
    _github(fake_ci, sha, _zip(baseline_dot_json=artifact))
    project.write("data/train.csv", _data(8, seed=4))
    warnings: list[str] = []
    repo = GitRepo(project.root)
    found = find_baseline([_store(fake_ci, warnings)], repo, sha, 0)
    assert found is not None
    assert found.data is not None
    assert warnings == []
    report = check(load_table(WorkTree(project.root), "data/train.csv"), decode_sketch(found.data))
    assert [f.name for f in report.drift if f.drifted] == ["age"]
    assert report.reference_rows == 3000


def test_data_reference_is_the_base_commits_copy_when_the_baseline_stored_no_snapshot(
    project: GitProject, cli: CliRunner
) -> None:
    project.write(".gitignore", "metrics.json\nmlgate-report/\n")
    sha = project.commit(
        "main", **{".mlgate.yml": CONFIG.replace("data:", "# data:"), "data__train_dot_csv": _data(0)}
    )
    project.write("metrics.json", {"acc": 0.9})
    assert cli("baseline", "save", "--no-push").code == 0
    assert "data" not in json.loads(project.git("notes", "--ref=refs/notes/mlgate", "show", sha))
    project.branch("feature")
    project.commit("pr", **{".mlgate.yml": CONFIG, "data__train_dot_csv": _data(8, seed=4)})
    result = cli("run", "--no-train")
    assert result.code == 0, result.err
    report = _report(project)
    assert f"the base commit's copy ({sha[:12]})" in report
    assert "1 of 3 features drifted" in report
