"""`mlgate report` end to end: `--open` hands report.html to the browser that $BROWSER names."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from tests.conftest import CliRunner
from tests.gitproject import GitProject

BROWSER = f"""\
#!{sys.executable}
import pathlib, sys
pathlib.Path(__file__).with_name("opened.txt").write_text(sys.argv[1])
"""


def _browser(folder: Path) -> Path:
    """A browser command that writes the URL it was asked to open next to itself."""
    script = folder / "fake-browser"
    script.write_text(BROWSER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _pr(project: GitProject) -> None:
    project.commit("base", **{"metrics.json": {"acc": 0.8}, ".mlgate.yml": "metrics: [metrics.json]\n"})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.82})


def test_open_hands_the_report_html_file_url_to_the_browser_when_browser_names_a_command(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    _pr(project)
    browser = _browser(tmp_path)
    result = cli("report", "--open", "-o", "out", env={"BROWSER": str(browser)})
    assert result.code == 0, result.err
    page = project.root / "out" / "report.html"
    assert page.is_file()
    assert (tmp_path / "opened.txt").read_text() == page.as_uri()


def test_open_passes_the_url_where_the_browser_command_says_when_it_has_a_percent_s(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    _pr(project)
    browser = _browser(tmp_path)
    result = cli("report", "--open", "-o", "out", env={"BROWSER": f"{browser} %s"})
    assert result.code == 0, result.err
    assert (tmp_path / "opened.txt").read_text() == (project.root / "out" / "report.html").as_uri()


def test_open_warns_with_the_path_and_exits_0_when_no_browser_can_be_started(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    _pr(project)
    result = cli("report", "--open", "-o", "out", env={"BROWSER": str(tmp_path / "no-such-browser")})
    assert result.code == 0, result.err
    page = project.root / "out" / "report.html"
    assert f"mlgate: warning: cannot open a browser: open {page.as_uri()} yourself" in result.err


def test_a_broken_custom_template_is_a_one_line_error_while_plots_are_being_drawn(
    project: GitProject, cli: CliRunner
) -> None:
    """The templates are compiled while the plot worker draws: a broken one stops the report with its line."""
    config = (
        "metrics: [metrics.json]\nreport: {template: report.md.j2}\n"
        "plots:\n  - {kind: curve, path: history.csv, x: epoch}\n  - {kind: bars}\n"
    )
    history = "epoch,loss\n0,1.0\n1,0.5\n"
    project.commit("base", **{"metrics.json": {"acc": 0.8}, ".mlgate.yml": config, "history.csv": history})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.82})
    project.write("report.md.j2", "# {{ title }}\n\n{% if %}\n")
    result = cli("report", "--preview", "-o", "out")
    assert result.code == 2
    assert result.err.startswith("mlgate: error: ")
    assert "report.md.j2:3: template error" in result.err.splitlines()[0]
    assert "Traceback" not in result.err
    assert not (project.root / "out" / "report.md").exists()
