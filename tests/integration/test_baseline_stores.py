"""The ci-artifact and retrain baseline stores, and a shallow clone that fetches its base.

The ci-artifact store talks to a tiny stdlib HTTP server on 127.0.0.1 that serves the GitHub Actions and
GitLab job-artifact routes the store calls, from a snapshot that `mlgate baseline save --to-file` wrote.
"""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest

from mlgate.baseline import CiArtifactStore, find_baseline
from mlgate.configfile import load_config
from mlgate.console import Console
from mlgate.errors import BaselineError, ExitCode
from mlgate.gitrepo import GitRepo
from mlgate.metrics import load_predictions
from mlgate.retrain import RetrainStore
from tests.conftest import CliRunner
from tests.gitproject import GitProject


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class FakeCi:
    """Routes by path (query string included, as sent); every request is logged with its auth headers."""

    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def json(self, path: str, document: object, status: int = 200) -> None:
        self.routes[path] = Route(status, json.dumps(document).encode())


@pytest.fixture
def fake_ci() -> Iterator[FakeCi]:
    state = FakeCi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = {
                k: v for k in ("Authorization", "PRIVATE-TOKEN", "JOB-TOKEN") if (v := self.headers.get(k))
            }
            state.log.append((self.path, auth))
            route = state.routes.get(self.path, Route(404, b'{"message": "Not Found"}'))
            time.sleep(route.delay_s)
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


CONFIG = "metrics: [metrics.json]\ngates: [{metric: acc, abs: 0.01}]\nbaseline: {stores: [ci-artifact]}\n"
RUNS = "/repos/acme/model/actions/runs?branch=main&status=success&per_page=100"


def _snapshot(project: GitProject, cli: CliRunner, acc: float) -> tuple[str, bytes]:
    """A commit on main and the snapshot file `mlgate baseline save --to-file` writes for it."""
    project.write(".gitignore", "metrics.json\nout/\n")
    sha = project.commit("main", **{".mlgate.yml": CONFIG})
    project.write("metrics.json", {"acc": acc})
    saved = cli("baseline", "save", "--to-file", "out/baseline.json")
    assert saved.code == 0, saved.err
    assert f"baseline for {sha[:12]} written to" in saved.out
    return sha, (project.root / "out" / "baseline.json").read_bytes()


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("_dot_", "."), data)
    return buffer.getvalue()


def _github(fake_ci: FakeCi, sha: str, archive: bytes) -> None:
    fake_ci.json(RUNS, {"workflow_runs": [{"id": 7, "head_sha": sha}, {"id": 3, "head_sha": "0" * 40}]})
    download = f"{fake_ci.url}/repos/acme/model/actions/artifacts/99/zip"
    fake_ci.json(
        "/repos/acme/model/actions/runs/7/artifacts?name=mlgate-baseline",
        {"artifacts": [{"name": "mlgate-baseline", "expired": False, "archive_download_url": download}]},
    )
    fake_ci.routes["/repos/acme/model/actions/artifacts/99/zip"] = Route(
        302, headers={"Location": "/blob/a.zip"}
    )
    fake_ci.routes["/blob/a.zip"] = Route(200, archive)


def _store(
    fake_ci: FakeCi, warnings: list[str], forge: Literal["github", "gitlab"] = "github", timeout: float = 5.0
) -> CiArtifactStore:
    repo = "acme/model" if forge == "github" else "grp/model"
    return CiArtifactStore(forge, fake_ci.url, repo, "tok123", "main", warnings.append, timeout=timeout)


def test_github_artifact_is_the_baseline_when_the_main_run_uploaded_it(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, snapshot = _snapshot(project, cli, 0.9)
    _github(fake_ci, sha, _zip(baseline_dot_json=snapshot))
    for i in range(3):
        project.commit(f"later {i}")
    warnings: list[str] = []
    repo = GitRepo(project.root)
    found = find_baseline([_store(fake_ci, warnings)], repo, repo.head(), 20)
    assert found is not None
    assert found.metrics.metrics["acc"].value == 0.9
    assert (found.ref.store, found.ref.sha, found.ref.distance) == ("ci-artifact", sha, 3)
    assert warnings == []
    paths = [path for path, _ in fake_ci.log]
    assert paths == [RUNS, "/repos/acme/model/actions/runs/7/artifacts?name=mlgate-baseline",
                     "/repos/acme/model/actions/artifacts/99/zip", "/blob/a.zip"]  # fmt: skip
    assert fake_ci.log[0][1] == {"Authorization": "Bearer tok123"}


def test_missing_artifact_is_a_warning_and_no_baseline_when_github_says_404(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, _ = _snapshot(project, cli, 0.9)
    fake_ci.json(RUNS, {"workflow_runs": [{"id": 7, "head_sha": sha}]})
    warnings: list[str] = []
    assert _store(fake_ci, warnings).load(sha) is None
    assert len(warnings) == 1
    assert "/repos/acme/model/actions/runs/7/artifacts: not found (404)" in warnings[0]


def test_forbidden_token_is_a_warning_naming_actions_read_when_github_says_403(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, _ = _snapshot(project, cli, 0.9)
    fake_ci.json(RUNS, {"message": "Resource not accessible by integration"}, status=403)
    warnings: list[str] = []
    assert _store(fake_ci, warnings).load(sha) is None
    assert "actions: read" in warnings[0]


def test_damaged_artifact_warns_and_falls_through_when_it_is_not_a_snapshot(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, _ = _snapshot(project, cli, 0.9)
    _github(fake_ci, sha, _zip(baseline_dot_json=b"{not json"))
    warnings: list[str] = []
    assert _store(fake_ci, warnings).load(sha) is None
    assert "not a JSON snapshot" in warnings[0]


def test_slow_forge_is_a_baseline_error_exit_3_when_it_times_out(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, _ = _snapshot(project, cli, 0.9)
    fake_ci.routes[RUNS] = Route(200, b"{}", delay_s=1.5)
    with pytest.raises(BaselineError) as info:
        _store(fake_ci, [], timeout=0.3).load(sha)
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert "no answer within 0.3 s" in info.value.what
    assert info.value.hint is not None


def test_gitlab_job_artifact_is_the_baseline_for_the_commit_it_was_made_on(
    project: GitProject, cli: CliRunner, fake_ci: FakeCi
) -> None:
    sha, snapshot = _snapshot(project, cli, 0.8)
    route = "/projects/grp%2Fmodel/jobs/artifacts/main/raw/mlgate-report/baseline.json?job=mlgate%3Abaseline"
    fake_ci.routes[route] = Route(200, snapshot)
    later = project.commit("later")
    warnings: list[str] = []
    store = _store(fake_ci, warnings, forge="gitlab")
    assert store.load(later) is None  # the artifact was made on `sha`, not on the later commit
    found = store.load(sha)
    assert found is not None
    assert found.metrics.metrics["acc"].value == 0.8
    assert [entry[0] for entry in fake_ci.log] == [route]  # fetched once, then kept
    assert fake_ci.log[0][1] == {"PRIVATE-TOKEN": "tok123"}
    assert warnings == []


def test_gitlab_job_token_is_sent_as_job_token_when_the_ci_job_token_is_used(fake_ci: FakeCi) -> None:
    warnings: list[str] = []
    store = CiArtifactStore("gitlab", fake_ci.url, "7", "job-tok", "main", warnings.append, job_token=True)
    assert store.load("a" * 40) is None
    assert fake_ci.log == [
        (
            "/projects/7/jobs/artifacts/main/raw/mlgate-report/baseline.json?job=mlgate%3Abaseline",
            {"JOB-TOKEN": "job-tok"},
        )
    ]


def test_gitlab_missing_artifact_is_a_warning_when_no_pipeline_uploaded_one(fake_ci: FakeCi) -> None:
    warnings: list[str] = []
    assert _store(fake_ci, warnings, forge="gitlab").load("a" * 40) is None
    assert "not found (404)" in warnings[0]


TRAIN = """\
import json, sys
acc = float(open("acc.txt").read())
json.dump({"acc": acc}, open("metrics.json", "w"))
open("preds.csv", "w").write("id,y_true,y_pred\\n1,1,1\\n2,0,1\\n")
print("trained", acc)
"""
RETRAIN_CONFIG = (
    "train: {command: python3 train.py}\nmetrics: [metrics.json]\n"
    "predictions: {path: preds.csv}\nbaseline: {stores: [retrain]}\n"
)


def _retrain_project(project: GitProject, acc: str) -> str:
    project.write(".gitignore", "metrics.json\npreds.csv\n.mlgate/\n")
    return project.commit(
        "main", **{".mlgate.yml": RETRAIN_CONFIG, "train_dot_py": TRAIN, "acc_dot_txt": acc}
    )


def test_retrain_trains_the_base_commit_in_a_worktree_and_keeps_it_in_notes(project: GitProject) -> None:
    sha = _retrain_project(project, "0.75")
    project.branch("feature")
    project.commit("pr", acc_dot_txt="0.5")
    repo = GitRepo(project.root)
    config = load_config(project.root / ".mlgate.yml", {})
    console = Console(out=io.StringIO(), err=io.StringIO())
    found = RetrainStore(repo, config.config, {"PATH": "/usr/bin:/bin"}, console).load(sha)
    assert found is not None, console.err.getvalue()  # type: ignore[attr-defined]
    assert (found.ref.store, found.metrics.metrics["acc"].value) == ("retrain", 0.75)
    assert found.tree is not None
    assert config.config.predictions is not None
    assert len(load_predictions(found.tree, config.config.predictions).y_true) == 2
    assert project.git("worktree", "list").count("\n") == 0  # the temporary worktree is gone
    assert not list(Path("/tmp").glob("mlgate-retrain-*"))
    note = json.loads(project.git("notes", "--ref=refs/notes/mlgate", "show", sha))
    assert note["metrics"]["acc"]["value"] == 0.75
    assert note["predictions"]["path"] == "preds.csv"
    assert (project.root / "acc.txt").read_text() == "0.5"  # the work tree was not touched


def test_retrain_keeps_the_forge_tokens_from_the_training_when_the_job_has_them(project: GitProject) -> None:
    _retrain_project(project, "0.75")
    env = {"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": "ghs_canary", "MLGATE_TOKEN": "canary", "SEED": "1"}
    train = TRAIN + (
        "import os\nseen = {k: int(k in os.environ) for k in ('GITHUB_TOKEN', 'MLGATE_TOKEN', 'SEED')}\n"
        "json.dump({'acc': acc, 'seen': seen}, open('metrics.json', 'w'))\n"
    )
    project.commit("record the env", train_dot_py=train)
    sha = project.git("rev-parse", "HEAD").strip()
    repo = GitRepo(project.root)
    config = load_config(project.root / ".mlgate.yml", {}).config
    console = Console(out=io.StringIO(), err=io.StringIO())
    found = RetrainStore(repo, config, env, console).load(sha)
    assert found is not None, console.err.getvalue()  # type: ignore[attr-defined]
    seen = {name: m.value for name, m in found.metrics.metrics.items() if name.startswith("seen.")}
    assert seen == {"seen.GITHUB_TOKEN": 0, "seen.MLGATE_TOKEN": 0, "seen.SEED": 1}


def test_retrain_failure_is_a_warning_and_no_baseline_when_training_crashes(project: GitProject) -> None:
    sha = _retrain_project(project, "not a number")
    repo = GitRepo(project.root)
    config = load_config(project.root / ".mlgate.yml", {}).config
    console = Console(out=io.StringIO(), err=io.StringIO())
    assert RetrainStore(repo, config, {"PATH": "/usr/bin:/bin"}, console).load(sha) is None
    assert any("exited with code 1" in w for w in console.warnings)
    assert project.git("worktree", "list").count("\n") == 0


def _shallow_clone(project: GitProject, tmp_path: Path) -> Path:
    first: dict[str, Any] = {"metrics.json": {"acc": 0.5}, ".mlgate.yml": "baseline: {stores: [committed]}\n"}
    project.commit("one", **first)
    project.commit("two", **{"metrics.json": {"acc": 0.6}})
    project.branch("feature")
    for i in range(4):
        project.commit(f"pr {i}", **{"metrics.json": {"acc": 0.61 + i / 100}})
    project.checkout("main")
    project.commit("main moves on", **{"metrics.json": {"acc": 0.9}})
    clone = tmp_path / "shallow"
    project.git("clone", "-q", "--depth", "1", "--branch", "feature", f"file://{project.root}", str(clone))
    return clone


def test_shallow_clone_fetches_the_base_branch_and_deepens_when_the_merge_base_is_missing(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    clone = _shallow_clone(project, tmp_path)
    fork = project.git("rev-parse", "main~1")
    result = cli("diff", "--json", cwd=clone)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["metrics"]["metrics.json"]["acc"]["old"] == 0.6
    assert GitRepo(clone).merge_base("HEAD", "main") == fork


def test_shallow_clone_gives_the_fetch_depth_hint_when_origin_cannot_help(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    clone = _shallow_clone(project, tmp_path)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=clone, check=True)
    result = cli("diff", cwd=clone)
    assert result.code == 2
    assert "fetch-depth: 0" in result.err


@pytest.mark.parametrize(
    ("config", "broken"),
    [
        (None, '{"acc": 0.9,'),
        ("metrics: [metrics.json]\n", '{"acc": 0.9,'),
        (None, "\0binary"),
    ],
    ids=["dvc-layout", "configured", "binary-dvc-layout"],
)
def test_broken_committed_baseline_is_a_warning_naming_the_commit_with_or_without_config(
    project: GitProject, cli: CliRunner, config: str | None, broken: str
) -> None:
    files = {"metrics.json": broken} | ({".mlgate.yml": config} if config else {})
    base = project.commit("broken baseline", **{k.replace(".", "_dot_"): v for k, v in files.items()})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.8})
    result = cli("diff")
    assert result.code == 0, result.err
    warning = [line for line in result.err.splitlines() if "baseline store committed" in line]
    assert len(warning) == 1, result.err
    assert f"commit {base[:12]}: metrics.json" in warning[0]
    assert warning[0].endswith("; ignored")


def test_commits_from_before_the_metrics_existed_are_skipped_without_a_warning(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("no metrics yet", **{"README_dot_md": "hello"})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.8})
    result = cli("diff")
    assert result.code == 0, result.err
    assert "baseline store committed" not in result.err
