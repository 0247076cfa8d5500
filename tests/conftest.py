"""Shared fixtures: real git projects in tmp dirs, and the CLI run in-process with captured output."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlgate.cli import main
from tests.gitproject import GitProject


@dataclass
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


def one_error_line(result: CliResult) -> str:
    """The one `mlgate: error:` line of a usage error (exit 2), with no traceback anywhere."""
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("mlgate: error:")]
    assert len(errors) == 1, result.err
    return errors[0]


@pytest.fixture(autouse=True, scope="session")
def _config_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """mlgate processes the tests start keep their validated configs in a temp dir, not in ~/.cache."""
    os.environ["MLGATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("mlgate-cache"))
    yield
    os.environ.pop("MLGATE_CACHE_DIR", None)


@pytest.fixture
def project(tmp_path: Path) -> GitProject:
    return GitProject(tmp_path / "repo")


@pytest.fixture
def cli(project: GitProject) -> CliRunner:
    """`cli("diff", "--md")` runs `mlgate` in-process in the project, with an empty environment."""

    def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), env=env or {}, cwd=cwd or project.root, out=out, err=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
