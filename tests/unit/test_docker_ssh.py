"""The docker backend through `DOCKER_HOST=ssh://…`: a throwaway sshd on 127.0.0.1 in front of the local
engine (tests.sshd), reached with OpenSSH's client and `docker system dial-stdio` as a GPU machine would be;
and the ssh argv and address parsing on their own.
"""

from __future__ import annotations

import json
import uuid

import pytest

from mlgate.errors import ConfigError
from mlgate.training.dockercopy import WORKDIR
from mlgate.training.dockerssh import SshTarget, parse_target, ssh_command
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


def _config(image: str, server: SshServer, marker: str) -> str:
    options = json.dumps(server.ssh_options)
    return (
        f"train: {{command: python3 train.py, backend: docker, image: '{image}', "
        f"env: {{{MARK}: '{marker}'}}, docker: {{ssh_options: {options}}}}}\nmetrics: [metrics.json]\n"
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
