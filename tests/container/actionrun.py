"""The GitHub runner's side of a `runs: using: docker` action, as docker flags: this checkout's action.yml
read for its inputs, `args` and `env`, their `${{ }}` expressions evaluated, and the image run with the
runner's mounts and variables (those of ../shared/harness/run-container-action.sh, which passes no `env:`
of action.yml and so cannot carry the token input). Also the job around the step: a PR on the fake forge
and the checkout actions/checkout leaves for it.

Only the expression forms action.yml uses are understood (`inputs.X`, `github.token`, `A == 'v' && B || C`,
`format('…{0}', inputs.X)`); anything else fails the test that meets it, so a new form cannot pass silently.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.fakeforge import FakeForge

REPO = "octo/demo"
PR = 7
BOT = "github-actions[bot]"
ACTION = Path(__file__).resolve().parents[2] / "action.yml"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TERNARY = re.compile(r"(.+?)\s*&&\s*(.+?)\s*\|\|\s*(.+)")
_COMPARE = re.compile(r"(\S+)\s*(==|!=)\s*(\S+)")
_FORMAT = re.compile(r"format\('([^']*)',\s*(\S+)\)")
_RUNNER_FILES = {
    "GITHUB_OUTPUT": "set_output", "GITHUB_ENV": "set_env", "GITHUB_PATH": "add_path",
    "GITHUB_STEP_SUMMARY": "step_summary", "GITHUB_STATE": "save_state",
}  # fmt: skip


@dataclass(frozen=True)
class ActionResult:
    """What the step did: its exit code, its log, the outputs it set and the job summary it wrote."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def tail(self) -> str:
        """The end of the step's log, for an assertion's message."""
        return (self.stdout + self.stderr)[-3000:]


@dataclass(frozen=True)
class Job:
    """The job around the step: the event, the repository, the API, the `github.token`."""

    event: Mapping[str, Any]
    repo: str
    api_url: str
    server_url: str
    sha: str
    ref: str
    token: str = ""
    run_id: str = "4242"


def evaluate(text: str, inputs: Mapping[str, str], token: str) -> str:
    """`text` with each `${{ expr }}` replaced by its value."""
    return _EXPR.sub(lambda match: _value(match[1], inputs, token), text)


def _value(expr: str, inputs: Mapping[str, str], token: str) -> str:
    ternary = _TERNARY.fullmatch(expr)
    if ternary:
        condition, then, otherwise = ternary.groups()
        return _value(then if _true(condition, inputs, token) else otherwise, inputs, token)
    found = _FORMAT.fullmatch(expr)
    if found:
        return found[1].replace("{0}", _value(found[2], inputs, token))
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1]
    if expr.startswith("inputs."):
        return inputs[expr.removeprefix("inputs.")]
    if expr == "github.token":
        return token
    raise AssertionError(f"actionrun: expression not understood: {expr}")


def _true(condition: str, inputs: Mapping[str, str], token: str) -> bool:
    found = _COMPARE.fullmatch(condition)
    assert found, f"actionrun: condition not understood: {condition}"
    left, right = _value(found[1], inputs, token), _value(found[3], inputs, token)
    return (left == right) == (found[2] == "==")


def step_inputs(action: Mapping[str, Any], given: Mapping[str, str], token: str) -> dict[str, str]:
    """The inputs as the runner hands them on: the defaults (evaluated), then the step's `with:`."""
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    resolved = {name: evaluate(value, defaults, token) for name, value in defaults.items()}
    return {**resolved, **given}


def docker_command(
    image: str,
    workspace: Path,
    temp: Path,
    job: Job,
    inputs: Mapping[str, str],
    extra: Sequence[str] = (),
    *,
    socket: bool = True,
) -> tuple[list[str], dict[str, str], str]:
    """The `docker run` line of the step, the variables it passes by name (`-e NAME`, as the runner does,
    so no value is on the command line) and the id of its file-command files."""
    action = yaml.safe_load(ACTION.read_text())
    values = step_inputs(action, inputs, job.token)
    args = [evaluate(str(arg), values, job.token) for arg in action["runs"].get("args", [])]
    env = {f"INPUT_{name.replace(' ', '_').upper()}": value for name, value in values.items()}
    env |= {name: evaluate(str(v), values, job.token) for name, v in action["runs"].get("env", {}).items()}
    env |= _runner_env(job, file_id := uuid.uuid4().hex)
    mounts = {"/var/run/docker.sock": "/var/run/docker.sock"} if socket else {}
    mounts |= {f"{temp}/_github_home": "/github/home", f"{temp}/_github_workflow": "/github/workflow"}
    mounts |= {f"{temp}/_runner_file_commands": "/github/file_commands", str(workspace): "/github/workspace"}
    # NOTE: `--network host`, as run-container-action.sh: the fake forge listens on 127.0.0.1 only (tests
    # open no port beyond loopback) and a host-network container shares the host's loopback; binding it on
    # the docker0 bridge instead would expose it to every container and the LAN. (GitHub's runner uses a
    # per-job bridge network, from which api.github.com is reachable like any public host.)
    command = ["docker", "run", "--rm", "--network", "host", "--workdir", "/github/workspace"]
    for source, target in mounts.items():
        command += ["-v", f"{source}:{target}"]
    for name in env:
        command += ["-e", name]
    return [*command, *extra, image, *args], env, file_id


def _runner_env(job: Job, file_id: str) -> dict[str, str]:
    files = {name: f"/github/file_commands/{kind}_{file_id}" for name, kind in _RUNNER_FILES.items()}
    pull = job.event.get("pull_request") or {}
    return {
        "HOME": "/github/home", "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux",
        "RUNNER_TEMP": "/github/runner_temp", "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json", "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REPOSITORY": job.repo, "GITHUB_SHA": job.sha, "GITHUB_REF": job.ref,
        "GITHUB_REF_NAME": job.ref.removeprefix("refs/pull/").removeprefix("refs/heads/"),
        "GITHUB_HEAD_REF": str((pull.get("head") or {}).get("ref", "")),
        "GITHUB_BASE_REF": str((pull.get("base") or {}).get("ref", "")),
        "GITHUB_API_URL": job.api_url, "GITHUB_SERVER_URL": job.server_url, "GITHUB_RUN_ID": job.run_id,
        "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "gate", "GITHUB_ACTION": "self", "GITHUB_ACTOR": "alice",
        **files,
    }  # fmt: skip


def run_action(
    image: str,
    workspace: Path,
    temp: Path,
    job: Job,
    inputs: Mapping[str, str] | None = None,
    *,
    extra: Sequence[str] = (),
    socket: bool = True,
    timeout: float = 300,
) -> ActionResult:
    """Run the action's image as the runner would for a step `with: inputs`; `extra`: more docker flags,
    `socket`: mount the daemon's socket as the runner does (False: as a runner without Docker)."""
    for folder in ("_github_home", "_github_workflow", "_runner_file_commands"):
        (temp / folder).mkdir(parents=True, exist_ok=True)
    (temp / "_github_workflow" / "event.json").write_text(json.dumps(job.event))
    command, env, file_id = docker_command(image, workspace, temp, job, inputs or {}, extra, socket=socket)
    for kind in _RUNNER_FILES.values():
        (temp / "_runner_file_commands" / f"{kind}_{file_id}").touch()
    docker_env = {name: os.environ[name] for name in ("PATH", "DOCKER_HOST") if name in os.environ}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**docker_env, **env}, check=False
    )
    files = temp / "_runner_file_commands"
    return ActionResult(
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        outputs=_outputs((files / f"set_output_{file_id}").read_text()),
        summary=(files / f"step_summary_{file_id}").read_text(),
    )


def _outputs(text: str) -> dict[str, str]:
    """`name=value` lines, the last value of a name winning (mlgate never writes the `name<<EOF` form)."""
    outputs: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        outputs[name] = value
    return outputs


def _git(workspace: Path, *args: str) -> str:
    identity = ["-c", "user.email=runner@example.invalid", "-c", "user.name=runner"]
    done = subprocess.run(["git", "-C", str(workspace), *identity, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pr_checkout(workspace: Path) -> tuple[str, str]:
    """What actions/checkout leaves for a `pull_request` (fetch-depth 0): the PR head merged into main as
    refs/pull/N/merge, detached; (merge SHA, head SHA). The demo's trained metrics stay in the work tree."""
    head = _git(workspace, "rev-parse", "HEAD")
    _git(workspace, "checkout", "-q", "--detach", "main")
    _git(workspace, "merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head)
    return _git(workspace, "rev-parse", "HEAD"), head


def open_pr(fake: FakeForge, workspace: Path, token: str = FakeForge.GITHUB_ACTIONS_TOKEN) -> Job:
    """The PR on the fake forge, the checkout, and the job that runs the action for it."""
    merge, head = pr_checkout(workspace)
    fake.github.add_pull(REPO, PR, head)
    pull = {
        "number": PR,
        "head": {"sha": head, "ref": "demo/tune", "repo": {"full_name": REPO}},
        "base": {"sha": _git(workspace, "rev-parse", "main"), "ref": "main", "repo": {"full_name": REPO}},
    }
    event = {"action": "synchronize", "number": PR, "pull_request": pull}
    event["repository"] = {"full_name": REPO, "default_branch": "main"}
    api = fake.github_api_url
    return Job(event, REPO, api, fake.server.base, merge, f"refs/pull/{PR}/merge", token=token)


def bot_comments(fake: FakeForge) -> list[dict[str, Any]]:
    return [c for c in fake.github.comments(REPO, PR) if c["login"] == BOT]


def check_runs(fake: FakeForge) -> list[tuple[str, str, str]]:
    """(head SHA, conclusion, name) of each check run: the Actions token's verdict (`check_run: auto`)."""
    return [(c["head_sha"], c["conclusion"], c["name"]) for c in fake.github.check_runs(REPO)]
