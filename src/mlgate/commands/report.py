"""`mlgate report`: render the report from existing metrics; `--preview` writes report.md + report.html."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from mlgate.commands import Context, Subparsers, add_command, evaluate_here
from mlgate.errors import ExitCode

DEFAULT_FOLDER = "mlgate-report"


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "report", run, help="render the report from existing metrics (no network)", parents=parents
    )
    parser.add_argument(
        "--preview", action="store_true", help="write report.md and a self-contained report.html"
    )
    parser.add_argument(
        "--open", action="store_true", help="open report.html in the browser (implies --preview)"
    )
    parser.add_argument("--output", "-o", metavar="DIR", default=DEFAULT_FOLDER, help="folder for the files")
    parser.add_argument(
        "--base", metavar="REV", help="baseline commit (default: merge-base with the base branch)"
    )
    parser.add_argument("--rev", help="report on this commit instead of the work tree")


def run(ctx: Context) -> ExitCode:
    from mlgate.bundle import write_bundle

    evaluation = evaluate_here(ctx)
    folder = Path(ctx.args.output)
    folder = folder if folder.is_absolute() else ctx.cwd / folder
    with evaluation.repo:
        bundle = write_bundle(evaluation, folder, ctx.console, plotter=ctx.plotter)
    if not (ctx.args.preview or ctx.args.open):
        ctx.console.print(bundle.markdown)
        return ExitCode.OK
    ctx.console.print(f"verdict: {evaluation.gate.outcome.value}")
    ctx.console.print(f"report.md:   {bundle.markdown_path}")
    ctx.console.print(f"report.html: {bundle.html_path}")
    if ctx.args.open and not open_in_browser(bundle.html_path.as_uri(), ctx.env):
        ctx.console.warn(f"cannot open a browser: open {bundle.html_path.as_uri()} yourself")
    return ExitCode.OK


def open_in_browser(url: str, env: Mapping[str, str]) -> bool:
    """Open `url` with the first command $BROWSER names that starts (`%s` marks where the URL goes), or,
    with no $BROWSER, the platform's default browser; False when none could be started.

    NOTE: the stdlib's webbrowser reads $BROWSER from os.environ (once per process); commands get their
    environment as a Mapping, so its choices are tried here as webbrowser would register them.
    """
    import webbrowser

    choices = [choice for choice in env.get("BROWSER", "").split(os.pathsep) if choice.strip()]
    if not choices:
        return webbrowser.open(url)
    for choice in choices:
        try:
            browser = webbrowser.get(choice)
        except webbrowser.Error:
            browser = webbrowser.GenericBrowser(choice)
        if browser.open(url):
            return True
    return False
