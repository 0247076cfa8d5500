"""Copy transfer: the work tree into a container and the result files out, safely; on a real engine reached
through `DOCKER_HOST=tcp://127.0.0.1:PORT` (a loopback forwarder to the local socket standing in for a remote
GPU machine), and the tar handling on its own without Docker.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlgate.config import DockerConfig
from mlgate.console import Console
from mlgate.errors import ExitCode, MetricsError, TrainingError
from mlgate.metrics import load_metrics
from mlgate.training import TrainSpec
from mlgate.training.docker import DockerBackend
from mlgate.training.dockercopy import WORKDIR, copy_results, fetch_roots, scan_tree, write_tar
from mlgate.tree import WorkTree
from tests.conftest import CliRunner
from tests.gitproject import GitProject
from tests.remotedocker import DOCKER_SOCKET, MARK, forward_tcp, leftover_containers


@pytest.fixture
def tcp_daemon(docker_image: str) -> Iterator[str]:
    """`tcp://127.0.0.1:PORT`, forwarded to the local daemon: to mlgate, a daemon on another machine."""
    if not Path(DOCKER_SOCKET).exists():
        pytest.skip(f"the engine does not listen on {DOCKER_SOCKET}")
    with forward_tcp() as url:
        yield url


TRAIN = """\
import json, os
os.makedirs("eval", exist_ok=True)
os.makedirs("scratch", exist_ok=True)
n = int(open("data.txt").read())
seen = {"acc": n / 4, "cwd": os.getcwd(), "sees_host_tree": os.path.exists(HOST)}
json.dump(seen, open("metrics.json", "w"))
json.dump({"f1": 0.5}, open("eval/extra.json", "w"))
open("scratch/checkpoint.bin", "wb").write(b"0" * 4096)
os.symlink("/etc/hostname", "eval/leak.json")
print("trained", flush=True)
"""


@pytest.mark.container
def test_metrics_come_back_and_nothing_else_when_training_on_a_tcp_daemon_with_copy(
    project: GitProject, cli: CliRunner, tcp_daemon: str, docker_image: str
) -> None:
    marker = uuid.uuid4().hex
    config = (
        f"train: {{command: python3 train.py, backend: docker, image: '{docker_image}', "
        f"env: {{{MARK}: '{marker}'}}, docker: {{transfer: copy}}}}\nmetrics: [metrics.json, 'eval/*.json']\n"
    )
    train = f"HOST = {str(project.root)!r}\n" + TRAIN
    project.commit("main", **{".mlgate.yml": config, "train_dot_py": train, "data_dot_txt": "3\n"})
    result = cli("train", env={"DOCKER_HOST": tcp_daemon})
    assert result.code == 0, result.err
    metrics = json.loads((project.root / "metrics.json").read_text())
    assert metrics == {"acc": 0.75, "cwd": str(WORKDIR), "sees_host_tree": False}
    assert not Path(str(WORKDIR)).exists()  # the container's tree is at a path this machine does not have
    assert json.loads((project.root / "eval/extra.json").read_text()) == {"f1": 0.5}
    assert not (project.root / "scratch").exists()
    assert not (project.root / "eval/leak.json").exists()
    assert "copied back from the container: eval/extra.json, metrics.json" in result.err
    extra = json.loads((project.root / ".mlgate/run.json").read_text())["extra"]
    assert (extra["docker_transfer"], extra["docker_host"]) == ("copy", tcp_daemon)
    assert leftover_containers(marker) == []


def _spec(root: Path, command: str, outputs: tuple[str, ...], marker: str = "") -> TrainSpec:
    log, env = root / ".mlgate" / "train.log", {MARK: marker}
    return TrainSpec(command=command, cwd=root, env=env, timeout_s=60.0, log_path=log, outputs=outputs)


def _backend(image: str, daemon: str, **docker: Any) -> DockerBackend:
    return DockerBackend(image, {"DOCKER_HOST": daemon}, grace_s=1, docker=DockerConfig(**docker))


@pytest.mark.container
def test_auto_copies_and_a_missing_result_is_the_usual_metrics_error_when_the_daemon_is_tcp(
    tmp_path: Path, tcp_daemon: str, docker_image: str
) -> None:
    console = Console(out=io.StringIO(), err=io.StringIO())
    record = _backend(docker_image, tcp_daemon).run(_spec(tmp_path, "pwd", ("metrics.json",)), console)
    assert record.ok, record.log_tail
    assert (record.log_tail, record.extra["docker_transfer"]) == ((str(WORKDIR),), "copy")
    assert "copied back from the container: nothing" in console.err.getvalue()  # type: ignore[attr-defined]
    with pytest.raises(MetricsError, match="no such file"):
        load_metrics(WorkTree(tmp_path), ["metrics.json"])


@pytest.mark.container
def test_results_over_the_limit_are_refused_and_the_container_removed_when_copying_back(
    tmp_path: Path, tcp_daemon: str, docker_image: str
) -> None:
    command, marker = "head -c 20000 /dev/zero > metrics.json", uuid.uuid4().hex
    backend = _backend(docker_image, tcp_daemon, transfer="copy", max_results_mb=0.01)
    spec = _spec(tmp_path, command, ("metrics.json",), marker)
    with pytest.raises(TrainingError) as info:
        backend.run(spec, Console(out=io.StringIO(), err=io.StringIO()))
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert info.value.where == "train.docker.max_results_mb"
    assert not (tmp_path / "metrics.json").exists()
    assert leftover_containers(marker) == []


def _tar(*members: tuple[str, bytes | str | None]) -> bytes:
    """A tar stream: (name, bytes) is a file, (name, "target") a symlink, (name, None) a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _fetch(archives: dict[str, bytes]) -> Any:
    def fetch(path: str) -> contextlib.AbstractContextManager[Iterable[bytes] | None]:
        data = archives.get(path)
        return contextlib.nullcontext(
            None if data is None else (data[i : i + 100] for i in range(0, len(data), 100))
        )

    return fetch


def test_only_matching_regular_files_inside_the_tree_come_back_when_the_archive_is_hostile(
    tmp_path: Path,
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    hostile = _tar(
        ("work", None), ("work/metrics.json", b'{"acc": 1}'), ("work/eval/ok.json", b"{}"),
        ("work/eval/link.json", "/etc/passwd"), ("work/../evil.json", b"x"), ("/abs.json", b"x"),
        ("work/other.txt", b"not asked for"), ("evil.json", b"outside the work dir"),
    )  # fmt: skip
    written = copy_results(_fetch({str(WORKDIR): hostile}), ["*.json", "eval/*.json"], root, 1 << 20)
    assert written == ["eval/ok.json", "metrics.json"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "tree/eval/ok.json", "tree/metrics.json",
    ]  # fmt: skip


def test_a_symlink_at_the_result_path_is_replaced_not_followed_when_copying_back(tmp_path: Path) -> None:
    root, outside = tmp_path / "tree", tmp_path / "outside.json"
    root.mkdir()
    outside.write_text("keep")
    (root / "metrics.json").symlink_to(outside)
    archive = _tar(("metrics.json", b'{"acc": 1}'))
    assert copy_results(_fetch({f"{WORKDIR}/metrics.json": archive}), ["metrics.json"], root, 1 << 20)
    assert outside.read_text() == "keep"
    assert not (root / "metrics.json").is_symlink()
    assert (root / "metrics.json").read_text() == '{"acc": 1}'


def test_a_result_under_a_folder_that_leads_out_is_refused_when_copying_back(tmp_path: Path) -> None:
    root, outside = tmp_path / "tree", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "eval").symlink_to(outside)
    archive = _tar(("eval", None), ("eval/ok.json", b"{}"))
    with pytest.raises(TrainingError, match="lead outside"):
        copy_results(_fetch({f"{WORKDIR}/eval": archive}), ["eval/*.json"], root, 1 << 20)
    assert list(outside.iterdir()) == []


def test_results_over_the_limit_raise_naming_the_key_when_copying_back(tmp_path: Path) -> None:
    archive = _tar(("metrics.json", b"x" * 2000))
    with pytest.raises(TrainingError) as info:
        copy_results(_fetch({f"{WORKDIR}/metrics.json": archive}), ["metrics.json"], tmp_path, 1000)
    assert info.value.where == "train.docker.max_results_mb"
    assert not (tmp_path / "metrics.json").exists()


def test_each_file_or_the_folder_above_its_glob_is_read_once_when_fetching_results() -> None:
    patterns = ["metrics.json", "eval/*.yaml", "eval/sub/x.csv", "plots/**/*.png", "logs/history.csv"]
    assert fetch_roots(patterns) == ["eval", "logs/history.csv", "metrics.json", "plots"]
    assert fetch_roots(["metrics.json", "*.json"]) == [""]


def test_tree_is_packed_under_the_workdir_with_outside_symlinks_left_out_when_copying_in(
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/train.py").write_text("print(1)\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/HEAD").write_text("ref\n")
    secret = tmp_path.parent / f"{tmp_path.name}-secret"
    secret.write_text("host-only key")
    (tmp_path / "src/key").symlink_to(secret)
    (tmp_path / "src/alias.py").symlink_to(tmp_path / "src/train.py")
    console = Console(out=io.StringIO(), err=io.StringIO())
    package = scan_tree(tmp_path, DockerConfig(), console)
    buffer = io.BytesIO()
    write_tar(package, buffer, (1001, 127))
    assert b"host-only key" not in buffer.getvalue()
    assert any("src/key (a symlink to a file outside the work tree)" in w for w in console.warnings)
    with tarfile.open(fileobj=io.BytesIO(buffer.getvalue())) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["mlgate", "mlgate/work", "mlgate/work/src", "mlgate/work/run.sh",
                             "mlgate/work/src/alias.py", "mlgate/work/src/train.py"]  # fmt: skip
    assert members["mlgate/work/src/alias.py"].issym()
    assert {(m.uid, m.gid) for m in members.values()} == {(1001, 127)}
    assert members["mlgate/work/run.sh"].mode == 0o755
    assert members["mlgate/work/src/train.py"].mode == 0o644
    assert {m.name for m in members.values() if m.isreg()} == {
        "mlgate/work/run.sh",
        "mlgate/work/src/train.py",
    }


def test_upload_is_refused_naming_the_docker_keys_when_the_tree_is_over_the_limit(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"0" * 20000)
    with pytest.raises(TrainingError) as info:
        scan_tree(tmp_path, DockerConfig(max_upload_mb=0.01), Console(out=io.StringIO(), err=io.StringIO()))
    assert info.value.where == "train.docker.max_upload_mb"
    assert "data.bin" in info.value.what
    assert info.value.hint is not None
    assert "train.docker.excludes" in info.value.hint
