"""The README's contract: its exit-code table matches ExitCode, and its commands are the ones CI runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from mlgate.cli import build_parser
from mlgate.errors import (
    BaselineError,
    ConfigError,
    ExitCode,
    ForgeError,
    GitError,
    MetricsError,
    TrainingError,
    UsageError,
)

ROOT = Path(__file__).resolve().parents[2]


def test_exit_code_table_matches_exit_codes_and_the_help_in_order() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    assert [int(code) for code, _ in rows] == [int(code) for code in ExitCode]
    epilog = build_parser(["--help"]).epilog or ""
    assert [int(code) for code in re.findall(r"(\d+) [a-z]", epilog)] == [int(code) for code in ExitCode]
    meanings = dict(rows)
    assert meanings["2"].startswith("usage or bad input")
    assert meanings["3"].startswith("run failed")
    for error in (UsageError, ConfigError, MetricsError, GitError, TrainingError, BaselineError, ForgeError):
        assert str(int(error.exit_code)) in meanings, error


def readme_setup_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return [line for line in readme.splitlines() if line.startswith("python3 -m venv .venv")]


def test_readme_has_exactly_two_setup_lines_try_it_and_the_tests() -> None:
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert readme_setup_lines() == [
        venv + "pip install -e '.[demo]' && mlgate demo",
        venv + "pip install -e '.[test]' && pytest",
    ]


def test_ci_runs_the_readme_setup_lines_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    helper = next(line for line in ci.splitlines() if line.startswith("readme_line()"))
    found = [
        subprocess.run(
            ["bash", "-c", f'{helper}\nreadme_line "$1"', "-", ending],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
        for ending in ("mlgate demo", "pytest")
    ]  # fmt: skip
    assert found == readme_setup_lines()
    assert 'bash -euo pipefail -c "$try_it"' in ci
    assert 'bash -euo pipefail -c "$test_it"' in ci
