"""The subcommands: each module registers its parser and handles one command, given a `Context`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.console import Console
from mlgate.errors import ExitCode

if TYPE_CHECKING:
    from mlgate.pipeline import Evaluation
    from mlgate.plotworker import PlotWorker


@dataclass
class Context:
    """One invocation: parsed arguments, environment (a Mapping), working directory, console, plotter."""

    args: argparse.Namespace
    env: Mapping[str, str]
    cwd: Path
    console: Console
    plotter: PlotWorker | None = None  # the warm plot worker cli.py starts for the commands that draw

    def flag(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)


Handler = Callable[[Context], ExitCode]
Subparsers = Any  # argparse._SubParsersAction, which argparse does not export


def add_command(
    sub: Subparsers, name: str, handler: Handler, *, help: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """Register one subcommand whose handler receives a Context."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=help,
        parents=parents,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def evaluate_here(ctx: Context, *, confirm: bool = False) -> Evaluation:
    """The work tree (or `--rev`) of the repository at cwd against its baseline (`--base`, `--strict`);
    `confirm`: run `predictions.confirm` when it is configured and a result is inconclusive. The caller
    closes the evaluation's repository when it is done with it (`with evaluation.repo:`)."""
    from mlgate.gitrepo import GitRepo
    from mlgate.pipeline import evaluate_checkout, load_effective_config

    repo = GitRepo.discover(ctx.cwd, note_head=True)  # NOTE: diff, report, explain move no HEAD
    try:
        loaded = load_effective_config(repo.root, ctx.flag("config"), ctx.env)
        rev, base, strict = ctx.flag("rev"), ctx.flag("base"), bool(ctx.flag("strict"))
        confirm_env = ctx.env if confirm else None
        return evaluate_checkout(
            repo, loaded, ctx.console, rev=rev, base=base, strict=strict, confirm_env=confirm_env
        )
    except BaseException:
        repo.close()
        raise
