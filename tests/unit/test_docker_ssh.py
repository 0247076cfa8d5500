"""The docker backend through `DOCKER_HOST=ssh://…`: a throwaway sshd on 127.0.0.1 in front of the local
engine (tests.sshd), reached with OpenSSH's client and `docker system dial-stdio` as a GPU machine would be;
and the ssh argv and address parsing on their own.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from mlgate.errors import ConfigError
from mlgate.training.dockercopy import WORKDIR
from mlgate.training.dockerssh import SshTarget, check_options, parse_target, ssh_command, ssh_env
from tests.conftest import CliRunner
from tests.gitproject import GitProject
from tests.remotedocker import MARK, leftover_containers
from tests.sshd import ALIAS, BAD_KEY_ALIAS, CLOSED_ALIAS, SshServer

TRAIN = """\
import json, os
n = int(open("data.txt").read())
seen = {"acc": n / 4, "cwd": os.getcwd(), "sees_host_tree": os.path.exists(HOST)}
json.dump(seen, open("metrics.json", "w"))
open("checkpoint.bin", "wb").write(b"0" * 4096)
print("trained", flush=True)
"""


def _config(image: str, server: SshServer, marker: str, options: list[str] | None = None) -> str:
    options_json = json.dumps(server.ssh_options if options is None else options)
    return (
        f"train: {{command: python3 train.py, backend: docker, image: '{image}', "
        f"env: {{{MARK}: '{marker}'}}, docker: {{ssh_options: {options_json}}}}}\nmetrics: [metrics.json]\n"
    )


@pytest.mark.container
def test_work_tree_is_copied_in_and_metrics_come_back_when_the_daemon_is_reached_over_ssh(
    project: GitProject, cli: CliRunner, ssh_server: SshServer, docker_image: str
) -> None:
    marker = uuid.uuid4().hex
    train = f"HOST = {str(project.root)!r}\n" + TRAIN
    config = _config(docker_image, ssh_server, marker)
    project.commit("main", **{".mlgate.yml": config, "train_dot_py": train, "data_dot_txt": "3"})
    result = cli("train", env={"DOCKER_HOST": f"ssh://{ALIAS}"})
    assert result.code == 0, result.err
    metrics = json.loads((project.root / "metrics.json").read_text())
    assert metrics == {"acc": 0.75, "cwd": str(WORKDIR), "sees_host_tree": False}
    assert not (project.root / "checkpoint.bin").exists()  # not a result: it stays in the container
    assert f"training in {docker_image} on DOCKER_HOST=ssh://{ALIAS}" in result.err
    assert "copied back from the container: metrics.json" in result.err
    extra = json.loads((project.root / ".mlgate/run.json").read_text())["extra"]
    assert (extra["docker_transfer"], extra["docker_host"]) == ("copy", f"ssh://{ALIAS}")
    assert "Accepted publickey" in ssh_server.log.read_text()  # it did go through this sshd
    assert leftover_containers(marker) == []


@pytest.mark.container
@pytest.mark.parametrize(
    ("alias", "said"),
    [(BAD_KEY_ALIAS, "Permission denied (publickey)"), (CLOSED_ALIAS, "Connection refused")],
)
def test_refused_login_is_exit_3_with_a_one_line_hint_naming_the_host_when_the_key_or_port_is_wrong(
    project: GitProject, cli: CliRunner, ssh_server: SshServer, docker_image: str, alias: str, said: str
) -> None:
    project.commit("main", **{".mlgate.yml": _config(docker_image, ssh_server, "refused")})
    result = cli("train", env={"DOCKER_HOST": f"ssh://{alias}"})
    assert result.code == 3, result.err
    lines = result.err.splitlines()
    where = f"mlgate: error: docker (DOCKER_HOST=ssh://{alias})"
    prefix = f"{where}: cannot reach the Docker daemon over ssh: ssh:"
    assert lines[0].startswith(prefix), result.err
    assert said in lines[0]
    assert lines[1].startswith(f"hint: check that `ssh {alias} docker version` answers with no prompt")
    assert len(lines) == 2
    assert "Traceback" not in result.err
    for key in (ssh_server.key, ssh_server.bad_key):
        assert key.read_text().splitlines()[1] not in result.out + result.err
        assert str(key) not in result.out + result.err


@pytest.mark.container
def test_ssh_never_sees_the_tokens_when_an_ssh_option_runs_a_local_command(
    project: GitProject, cli: CliRunner, ssh_server: SshServer, docker_image: str, tmp_path: Path
) -> None:
    seen = tmp_path / "ssh.env"  # what a LocalCommand, run by ssh with ssh's environment, finds there
    options = [*ssh_server.ssh_options, "-o", "PermitLocalCommand=yes", "-o", f"LocalCommand=env > {seen}"]
    marker = uuid.uuid4().hex
    config = _config(docker_image, ssh_server, marker, options)
    train = f"HOST = {str(project.root)!r}\n" + TRAIN
    project.commit("main", **{".mlgate.yml": config, "train_dot_py": train, "data_dot_txt": "3"})
    tokens = {
        "GITHUB_TOKEN": "ghs_" + uuid.uuid4().hex,
        "HF_TOKEN": "hf_" + uuid.uuid4().hex,
        "INPUT_TOKEN": "in_" + uuid.uuid4().hex,
        "ACTIONS_RUNTIME_TOKEN": "rt_" + uuid.uuid4().hex,
        "DOCKER_PASSWORD": "pw1",  # short, still named like a credential
    }
    agent = {"SSH_AUTH_SOCK": str(tmp_path / "agent.sock"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env = {"DOCKER_HOST": f"ssh://{ALIAS}", "PATH": os.environ["PATH"], **agent, **tokens}
    result = cli("train", env=env)
    assert result.code == 0, result.err
    printed = dict(line.partition("=")[::2] for line in seen.read_text().splitlines() if "=" in line)
    assert {name: printed.get(name) for name in agent} == agent
    assert not set(tokens) & set(printed)
    assert not [value for value in tokens.values() if value in seen.read_text()]
    assert leftover_containers(marker) == []


@pytest.mark.container
def test_relative_ssh_config_is_read_from_the_repository_root_when_mlgate_starts_in_a_subfolder(
    project: GitProject, cli: CliRunner, ssh_server: SshServer, docker_image: str
) -> None:
    marker = uuid.uuid4().hex
    config = _config(docker_image, ssh_server, marker, ["-F", "ci/ssh_config"])
    train = f"HOST = {str(project.root)!r}\n" + TRAIN
    files = {"ci__ssh_config": ssh_server.client_config.read_text(), "src__keep_dot_txt": "kept"}
    project.commit("main", **{".mlgate.yml": config, "train_dot_py": train, "data_dot_txt": "3", **files})
    result = cli("run", cwd=project.root / "src", env={"DOCKER_HOST": f"ssh://{ALIAS}"})
    assert result.code == 0, result.err
    assert json.loads((project.root / "metrics.json").read_text())["acc"] == 0.75
    assert "Accepted publickey" in ssh_server.log.read_text()
    assert leftover_containers(marker) == []


@pytest.mark.parametrize(
    "options",
    [
        ["-o", "ControlPath=/tmp/mine"],
        ["-oControlPath=/tmp/mine"],
        ["-o", "controlmaster auto"],
        ["-F", "ci/ssh_config", "-o", "ControlPersist=60"],
        ["-S", "/tmp/mine"],
        ["-vS/tmp/mine"],
        ["-vM"],
    ],
)
def test_connection_sharing_option_is_a_config_error_naming_ssh_options_when_the_user_sets_one(
    project: GitProject, cli: CliRunner, options: list[str]
) -> None:
    config = {
        "train": {"command": "true", "backend": "docker", "image": "x", "docker": {"ssh_options": options}}
    }
    project.commit("main", **{".mlgate.yml": json.dumps(config)})
    result = cli("train", env={"DOCKER_HOST": "ssh://gpu-box.invalid"})
    assert result.code == 2, result.err
    lines = result.err.splitlines()
    assert lines[0].startswith("mlgate: error: .mlgate.yml: train.docker.ssh_options: `-"), result.err
    assert "is not allowed: mlgate shares one ssh login" in lines[0]
    assert lines[1].startswith("hint: remove it")
    assert len(lines) == 2


def test_ssh_options_pass_when_they_leave_connection_sharing_alone() -> None:
    check_options(["-F", "-M", "-o", "ProxyJump=bastion", "-i", "ci/key", "-v", "-oServerAliveInterval=5"])


def test_ssh_env_keeps_the_agent_home_and_locale_and_drops_every_token_when_built() -> None:
    kept = {
        "SSH_AUTH_SOCK": "/tmp/agent",
        "SSH_AGENT_PID": "42",
        "HOME": "/home/ci",
        "PATH": "/usr/bin",
        "USER": "ci",
        "LOGNAME": "ci",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "DOCKER_HOST": "ssh://b",
    }
    dropped = [
        "GITHUB_TOKEN",
        "MLGATE_TOKEN",
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "INPUT_TOKEN",
        "HF_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "WANDB_API_KEY",
        "SSH_PRIVATE_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "DOCKER_PASSWORD",
    ]
    assert ssh_env({**kept, **dict.fromkeys(dropped, "s3cret-value")}) == kept


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("ssh://gpu-box", SshTarget("gpu-box")),
        ("ssh://ci@gpu-box:2222", SshTarget("gpu-box", "ci", 2222)),
        ("ssh://ci@GPU-Box/run/docker.sock", SshTarget("GPU-Box", "ci", None, "/run/docker.sock")),
        ("ssh://[fe80::1]:22", SshTarget("fe80::1", None, 22)),
    ],
)
def test_ssh_address_keeps_user_port_alias_and_socket_when_parsed(url: str, target: SshTarget) -> None:
    assert parse_target(url) == target


@pytest.mark.parametrize("url", ["ssh://", "ssh://ci@", "ssh://host:port", "ssh://host?x=1"])
def test_ssh_address_is_a_config_error_naming_docker_host_when_it_is_malformed(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_target(url)
    assert info.value.where == f"DOCKER_HOST={url}"


def test_ssh_argv_puts_the_user_options_first_and_never_prompts_when_built() -> None:
    target = SshTarget("gpu-box", "ci", 2222, "/var/run/my docker.sock")
    argv = ssh_command(target, ["-F", "ci/ssh_config"], "/usr/bin/ssh", "/tmp/x/login")
    assert argv[:3] == ["/usr/bin/ssh", "-F", "ci/ssh_config"]
    assert argv[argv.index("BatchMode=yes") - 1] == "-o"
    assert argv[argv.index("ControlPath=/tmp/x/login") - 1] == "-o"
    assert argv[-4:] == ["-l", "ci", "-p", "2222"]
    assert target.remote_command() == "docker --host 'unix:///var/run/my docker.sock' system dial-stdio"
    assert target.login() == "ssh -p 2222 ci@gpu-box"
