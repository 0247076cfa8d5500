"""Baselines in git notes: save, push, fetch, find through ancestors, concurrent writers, damaged notes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CliRunner
from tests.gitproject import GitProject

CONFIG = "metrics: [metrics.json]\ngates: [{metric: acc, abs: 0.01}]\nbaseline: {stores: [git-notes]}\n"


def _origin(tmp_path: Path, project: GitProject) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.git("remote", "add", "origin", str(origin))
    return origin


def test_saved_baseline_is_pushed_and_found_from_a_fresh_clone(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    origin = _origin(tmp_path, project)
    project.write(".gitignore", "metrics.json\n")
    sha = project.commit("main", **{".mlgate.yml": CONFIG})
    project.write("metrics.json", {"acc": 0.9})
    saved = cli("baseline", "save")
    assert saved.code == 0, saved.err
    assert f"baseline saved for {sha[:12]}" in saved.out
    project.git("push", "-q", "origin", "main")
    clone = GitProject.__new__(GitProject)
    clone.root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone.root)], check=True)
    clone.git("config", "user.email", "x@example.invalid")
    clone.git("config", "user.name", "x")
    clone.branch("feature")
    clone.commit("pr work")
    clone.write("metrics.json", {"acc": 0.8})
    result = cli("diff", "--json", cwd=clone.root)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["metrics"]["metrics.json"]["acc"]["old"] == 0.9
    assert data["outcome"] == "fail"
    shown = cli("baseline", "show", sha, cwd=clone.root)
    assert json.loads(shown.out)["metrics"] == {"acc": 0.9}


def test_lookup_walks_back_to_the_nearest_ancestor_with_a_note(project: GitProject, cli: CliRunner) -> None:
    project.write(".gitignore", "metrics.json\n")
    noted = project.commit("noted", **{".mlgate.yml": CONFIG})
    project.write("metrics.json", {"acc": 0.7})
    assert cli("baseline", "save", "--no-push").code == 0
    for i in range(5):
        project.commit(f"later {i}")
    project.write("metrics.json", {"acc": 0.75})
    result = cli("explain", "acc")
    assert result.code == 0, result.err
    assert f"at {noted[:12]} (store git-notes, 5 commits back)" in result.out
    listed = cli("baseline", "list")
    assert listed.out.startswith(noted[:12])


def test_damaged_or_future_notes_warn_and_fall_through(project: GitProject, cli: CliRunner) -> None:
    config = CONFIG.replace("[git-notes]", "[git-notes, committed]")
    files: dict[str, Any] = {".mlgate.yml": config, "metrics.json": {"acc": 0.5}}
    sha = project.commit("main", **files)
    project.git("notes", "--ref=refs/notes/mlgate", "add", "-m", "{not json", sha)
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    assert "note on" in result.err
    assert "not a JSON snapshot" in result.err
    assert json.loads(result.out)["base"]["found"] is True  # the committed store answered
    project.git("notes", "--ref=refs/notes/mlgate", "add", "-f", "-m", '{"schema": 99}', sha)
    assert "newer mlgate" in cli("diff", "--json").err


def test_concurrent_saves_on_different_commits_both_survive(project: GitProject, tmp_path: Path) -> None:
    origin = _origin(tmp_path, project)
    project.write(".gitignore", "metrics.json\n")
    first = project.commit("a", **{".mlgate.yml": CONFIG})
    second = project.commit("b")
    project.git("push", "-q", "origin", "main")
    clones = []
    for name, sha, acc in (("one", first, 0.1), ("two", second, 0.2)):
        root = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(origin), str(root)], check=True)
        (root / "metrics.json").write_text(json.dumps({"acc": acc}))
        clones.append((root, sha))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlgate", "baseline", "save", sha],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for root, sha in clones
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    check = tmp_path / "check"
    subprocess.run(["git", "clone", "-q", str(origin), str(check)], check=True)
    subprocess.run(
        ["git", "fetch", "-q", "origin", "refs/notes/mlgate:refs/notes/mlgate"], cwd=check, check=True
    )
    for sha, acc in ((first, 0.1), (second, 0.2)):
        note = subprocess.run(
            ["git", "notes", "--ref=refs/notes/mlgate", "show", sha],
            cwd=check,
            capture_output=True,
            text=True,
        )
        assert json.loads(note.stdout)["metrics"]["acc"]["value"] == acc


def test_same_commit_later_writer_wins_with_valid_json(
    project: GitProject, tmp_path: Path, cli: CliRunner
) -> None:
    _origin(tmp_path, project)
    project.write(".gitignore", "metrics.json\n")
    sha = project.commit("a", **{".mlgate.yml": CONFIG})
    project.git("push", "-q", "origin", "main")
    for acc in (0.1, 0.3):
        project.write("metrics.json", {"acc": acc})
        assert cli("baseline", "save").code == 0
    shown = cli("baseline", "show", sha)
    assert json.loads(shown.out)["metrics"] == {"acc": 0.3}


PREDICTIONS_CONFIG = CONFIG + "predictions: {path: eval/preds.csv}\n"
PREDICTIONS = "id,y_true,y_pred\n1,1,1\n2,0,0\n3,1,0\n"


def test_predictions_are_kept_in_a_second_notes_ref_and_served_when_the_baseline_loads(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    from mlgate.baseline import PREDICTIONS_REF, GitNotesStore
    from mlgate.config import PredictionsConfig
    from mlgate.gitrepo import GitRepo
    from mlgate.metrics import load_predictions

    origin = _origin(tmp_path, project)
    project.write(".gitignore", "metrics.json\neval/\n")
    sha = project.commit("main", **{".mlgate.yml": PREDICTIONS_CONFIG})
    project.write("metrics.json", {"acc": 0.9})
    project.write("eval/preds.csv", PREDICTIONS)
    saved = cli("baseline", "save")
    assert saved.code == 0, saved.err
    assert "+ predictions" in saved.out
    project.git("push", "-q", "origin", "main")
    assert subprocess.run(
        ["git", "rev-parse", "--verify", PREDICTIONS_REF], cwd=origin, capture_output=True
    ).returncode == 0  # fmt: skip
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    warnings: list[str] = []
    baseline = GitNotesStore(GitRepo(clone), warnings.append).load(sha)
    assert baseline is not None
    assert baseline.tree is not None
    assert baseline.tree.read_bytes("eval/preds.csv").decode() == PREDICTIONS
    predictions = load_predictions(baseline.tree, PredictionsConfig(path="eval/preds.csv"))
    assert len(predictions.y_true) == 3
    assert warnings == []


def test_rejected_push_is_exit_3_with_a_hint_when_origin_refuses_notes(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    origin = _origin(tmp_path, project)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected: no notes here' >&2\nexit 1\n")
    hook.chmod(0o755)
    project.write(".gitignore", "metrics.json\n")
    project.commit("main", **{".mlgate.yml": CONFIG})
    project.write("metrics.json", {"acc": 0.9})
    result = cli("baseline", "save")
    assert result.code == 3
    assert "mlgate: error: git push origin refs/notes/mlgate: rejected" in result.err
    assert "hint: the CI token needs write access" in result.err
    assert "Traceback" not in result.err


def test_absent_notes_ref_is_no_baseline_when_nothing_was_ever_saved(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    _origin(tmp_path, project)
    project.write(".gitignore", "metrics.json\n")
    project.commit("main", **{".mlgate.yml": CONFIG})
    project.git("push", "-q", "origin", "main")
    project.branch("feature")
    project.commit("pr")
    project.write("metrics.json", {"acc": 0.9})
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["base"]["found"] is False
    assert data["outcome"] == "no_baseline"
    assert "warning" not in result.err
