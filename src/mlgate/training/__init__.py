"""Training: run the configured command behind one `Backend` interface and describe the run as a RunRecord.

Backends: `subprocess` (here), `docker` and `ray` (their own modules). A backend never raises for a failed
training run: the RunRecord says how it ended, and `check_run` turns a failure into a TrainingError (exit 3)
after the caller has reported it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Protocol

from mlgate.ci import SECRET_VARIABLES
from mlgate.console import Console
from mlgate.errors import TrainingError
from mlgate.model import RunRecord
from mlgate.record import Record

# NOTE: the training command is the repository's code; the tokens mlgate posts with never reach it
# (a PR can change train.py). The runner's own job secrets that the user passes in train.env still do.
# INPUT_TOKEN: a container action's runner also passes every input as INPUT_<NAME>, the `token` input too.
FORGE_TOKENS = frozenset(
    {*SECRET_VARIABLES, "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "INPUT_TOKEN"}
)  # the runner's own tokens too, and the action's `token` input as the runner passes it


def training_env(env: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment the training runs with: ours without the forge tokens, plus `train.env`."""
    return {**{k: v for k, v in env.items() if k not in FORGE_TOKENS}, **extra}


class TrainSpec(Record):
    """What to run and how: the command line, where, with which environment, for how long at most."""

    command: str
    cwd: Path
    env: Mapping[str, str]
    timeout_s: float
    log_path: Path
    gpus: str = "none"
    runner_env: Mapping[str, str] = field(default_factory=dict)
    result_paths: tuple[str, ...] = ()  # files and globs the run must bring back (remote backends)
    outputs: tuple[str, ...] = ()  # files and globs mlgate reads after the run (metrics, predictions, plots)


class Backend(Protocol):
    """Somewhere a training command runs."""

    name: str

    def run(self, spec: TrainSpec, console: Console) -> RunRecord:
        """Run to the end, the timeout, or Ctrl-C (which is re-raised as KeyboardInterrupt after cleanup)."""
        ...


def describe_failure(record: RunRecord) -> str:
    """One line saying how a failed run ended."""
    if record.timed_out:
        return f"training timed out after {record.duration_s:.0f} s and was stopped"
    if record.exit_code == 127:
        return "training command not found (exit 127)"
    if record.extra.get("oom_killed") == "true":
        return "training was killed: out of memory (container OOMKilled, exit 137)"
    if record.exit_code == 137 or record.signal == "SIGKILL":
        return "training was killed (SIGKILL, exit 137): out of memory?"
    if record.signal:
        return f"training was killed by {record.signal}"
    return f"training exited with code {record.exit_code}"


def check_run(record: RunRecord) -> None:
    """Raise TrainingError (exit 3) for a failed run; the hint names the log."""
    if record.ok:
        return
    hint = f"the full log is in {record.log_path}" if record.log_path else None
    if record.exit_code == 127:
        hint = "check train.command in .mlgate.yml and that the program is installed on the runner"
    raise TrainingError("train.command", describe_failure(record), hint=hint)
