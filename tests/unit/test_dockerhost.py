"""Where the Docker daemon is: DOCKER_HOST, a docker context, or the local socket; and mount or copy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlgate.errors import ConfigError, ExitCode
from mlgate.training.dockerhost import Daemon, find_daemon, transfer_mode


def _context(config: Path, name: str, host: str, *, tls: bool = False, skip_verify: bool = False) -> None:
    key = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / key / "meta.json"
    meta.parent.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": skip_verify}
    meta.write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}}))
    if tls:
        certs = config / "contexts" / "tls" / key / "docker"
        certs.mkdir(parents=True)
        for pem in ("ca.pem", "cert.pem", "key.pem"):
            (certs / pem).write_text("x")


@pytest.mark.parametrize(
    ("setting", "url", "expected"),
    [
        ("auto", "tcp://gpu-box:2376", "copy"),
        ("auto", "ssh://ci@gpu-box", "copy"),
        ("auto", "unix:///run/user/1000/docker.sock", "mount"),
        ("auto", None, "mount"),
        ("mount", "tcp://gpu-box:2376", "mount"),
        ("copy", None, "copy"),
    ],
)
def test_transfer_copies_only_for_a_remote_daemon_when_auto(
    setting: str, url: str | None, expected: str
) -> None:
    assert transfer_mode(setting, Daemon(url)) == expected


def test_docker_host_wins_over_the_context_when_both_are_set(tmp_path: Path) -> None:
    _context(tmp_path, "gpu", "ssh://ci@gpu-box")
    daemon = find_daemon(
        {"DOCKER_HOST": "tcp://10.0.0.7:2375", "DOCKER_CONTEXT": "gpu", "DOCKER_CONFIG": str(tmp_path)}
    )
    assert (daemon.url, daemon.context, daemon.remote) == ("tcp://10.0.0.7:2375", None, True)
    assert daemon.describe() == "DOCKER_HOST=tcp://10.0.0.7:2375"


def test_current_context_of_config_json_is_used_when_docker_host_is_unset(tmp_path: Path) -> None:
    _context(tmp_path / ".docker", "gpu", "ssh://ci@gpu-box")
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "gpu"}))
    daemon = find_daemon({"HOME": str(tmp_path)})
    assert (daemon.url, daemon.context, daemon.remote) == ("ssh://ci@gpu-box", "gpu", True)
    assert daemon.describe() == "docker context gpu (ssh://ci@gpu-box)"
    assert daemon.client_env({"HOME": str(tmp_path)})["DOCKER_HOST"] == "ssh://ci@gpu-box"


def test_context_tls_files_reach_the_sdk_when_the_context_has_them(tmp_path: Path) -> None:
    _context(tmp_path, "secure", "tcp://gpu-box:2376", tls=True)
    _context(tmp_path, "lax", "tcp://gpu-box:2376", tls=True, skip_verify=True)
    secure = find_daemon({"DOCKER_CONTEXT": "secure", "DOCKER_CONFIG": str(tmp_path)}).client_env({})
    lax = find_daemon({"DOCKER_CONTEXT": "lax", "DOCKER_CONFIG": str(tmp_path)}).client_env({})
    assert secure["DOCKER_TLS_VERIFY"] == "1"
    assert Path(secure["DOCKER_CERT_PATH"], "ca.pem").is_file()
    assert "DOCKER_TLS_VERIFY" not in lax
    assert "DOCKER_CERT_PATH" in lax


def test_local_socket_is_used_when_the_context_is_default_or_unset(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert find_daemon({"DOCKER_CONFIG": str(tmp_path)}) == Daemon()
    assert find_daemon({"DOCKER_CONFIG": str(tmp_path / "absent")}) == Daemon()
    local = find_daemon({"DOCKER_HOST": "unix:///var/run/docker.sock"})
    assert not local.remote


def test_missing_context_is_a_config_error_naming_it_when_docker_context_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_daemon({"DOCKER_CONTEXT": "nope", "DOCKER_CONFIG": str(tmp_path)})
    assert info.value.exit_code is ExitCode.USAGE
    assert info.value.where == "docker context nope"
    assert info.value.hint is not None
    assert "docker context ls" in info.value.hint
