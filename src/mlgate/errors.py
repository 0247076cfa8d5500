"""Exit codes and the exception tree; each error carries its exit code and an optional hint.

    MlgateError                 (exit 4 unless a subclass says otherwise)
    ├── UsageError              2  bad flag or argument
    ├── ConfigError             2  .mlgate.yml: unknown key, wrong type, bad glob
    ├── MetricsError            2  a metrics / params / predictions file that cannot be read
    ├── GitError                2  not a repository, unknown revision, shallow clone
    ├── TrainingError           3  the training command crashed, timed out or wrote no metrics
    ├── BaselineError           3  a baseline store that cannot be reached
    └── ForgeError              3  the code host cannot be reached or refused a request

A failed gate is a result (ExitCode.GATE_FAILED), never an exception.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes; the README's table is the contract (tests/unit/test_readme.py)."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    RUN_FAILED = 3
    INTERNAL = 4
    INTERRUPTED = 130


class MlgateError(Exception):
    """Base of every error mlgate reports as one line; `where` names the file, key path or line."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, where: str, what: str, *, hint: str | None = None) -> None:
        super().__init__(f"{where}: {what}" if where else what)
        self.where = where
        self.what = what
        self.hint = hint


class UsageError(MlgateError):
    """A flag or argument that cannot be used as given."""

    exit_code = ExitCode.USAGE


class ConfigError(MlgateError):
    """.mlgate.yml is not valid."""

    exit_code = ExitCode.USAGE


class MetricsError(MlgateError):
    """A metrics, params or predictions file that cannot be read."""

    exit_code = ExitCode.USAGE


class GitError(MlgateError):
    """The work tree is not a git repository, a revision is unknown, or the clone is too shallow."""

    exit_code = ExitCode.USAGE


class TrainingError(MlgateError):
    """The training run failed: crashed, timed out, killed, or wrote no metrics."""

    exit_code = ExitCode.RUN_FAILED


class BaselineError(MlgateError):
    """A baseline store could not be read or written."""

    exit_code = ExitCode.RUN_FAILED


class ForgeError(MlgateError):
    """The code host (GitHub, GitLab) could not be reached or refused a request."""

    exit_code = ExitCode.RUN_FAILED
