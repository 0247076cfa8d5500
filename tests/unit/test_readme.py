"""The README's contract: its exit-code table matches ExitCode, and its commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from mlgate.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def test_exit_code_table_matches_exit_codes() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}
    assert codes == {int(code) for code in ExitCode}


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && pytest" in readme
    assert "mlgate demo" in readme
    assert "pytest" in ci
    assert "python3 -m venv .venv" in ci
