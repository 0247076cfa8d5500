"""The command line: argparse → one command handler → ExitCode. The only module that prints errors or exits.

Every error is one line, `mlgate: error: <where>: <what>`, plus an optional `hint:` line; a traceback is
printed only for an internal error (exit 4), which is a bug.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from mlgate import __version__, localcache
from mlgate.commands import Context
from mlgate.console import Console, one_line
from mlgate.entry import chosen_command, plotter_for
from mlgate.errors import ExitCode, MlgateError, UsageError
from mlgate.yamlfile import keeping

if TYPE_CHECKING:
    from mlgate.plotworker import PlotWorker

# Each command: the module under mlgate.commands that registers it, and its one-line help. Only the module of
# the command being run is imported, so `mlgate --help` and `mlgate diff` load nothing they do not use;
# tests/unit/test_cli.py keeps these lines equal to what each module registers.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "CI one-shot: train, compare with the baseline, gate, report"),
    "train": ("train", "run train.command with telemetry; write .mlgate/run.json"),
    "diff": ("diff", "compare metrics and params with the baseline (like `dvc metrics diff`)"),
    "report": ("report", "render the report from existing metrics (no network)"),
    "explain": ("explain", "why metric M passed or failed: values, rule, arithmetic"),
    "comment": ("comment", "post a Markdown file as a PR/MR, issue or commit comment (like `cml comment`)"),
    "publish": ("publish", "post a report artifact made by an unprivileged (fork PR) job"),
    "baseline": ("baseline", "save, show or list stored baselines (git notes)"),
    "demo": ("demo", "run the whole PR gate on a throwaway scikit-learn project"),
    "config": ("config", "print the effective config (secrets masked)"),
    "schema": ("config", "print the JSON Schema of .mlgate.yml"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one `mlgate: error:` line like every other (argparse prints usage first)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog.removeprefix("mlgate").strip(), message, hint=f"see `{self.prog} --help`")


def common_parser() -> argparse.ArgumentParser:
    """Flags every subcommand takes (DESIGN §2)."""
    common = ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: .mlgate.yml at the repo top)")
    common.add_argument(
        "--strict", action="store_true", default=None, help="no baseline, inconclusive or removed → fail"
    )
    common.add_argument(
        "--dry-run", action="store_true", default=None, help="write what would be posted to files"
    )
    common.add_argument("--forge", choices=("github", "gitlab", "none"), help="code host (default: detected)")
    common.add_argument("-q", "--quiet", action="count", default=0, help="only results and errors")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more detail on stderr")
    return common


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with the full sub-parser of the command named in `argv` (every one when none is)."""
    parser = ArgumentParser(
        prog="mlgate",
        description="Continuous machine learning for CI: train, compare with the main branch's baseline, "
        "gate, and post one sticky report.",
        epilog="exit codes: 0 passed · 1 gate failed · 2 bad input · 3 run failed · 4 internal error · "
        "130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parents = [common_parser()]
    chosen = chosen_command(argv)
    if chosen in COMMANDS:
        importlib.import_module(f"mlgate.commands.{COMMANDS[chosen][0]}").register(sub, parents)
    # NOTE: only the top-level help and its errors list the other commands, and they come from a word before
    # the command (or no command); `mlgate diff …` skips building a parser for each (≈2 ms).
    if argv[:1] == [chosen] and chosen in sub.choices:
        return parser
    for name, (_, help_text) in COMMANDS.items():
        if name not in sub.choices:
            sub.add_parser(name, help=help_text)  # listed in --help; its module is not loaded
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    plotter: PlotWorker | None = None,
) -> int:
    """Run one command and return its exit code (entry.py, the console script, exits with it).

    `plotter`: the plot worker entry.py started; a command that draws starts one when none is given.
    """
    from mlgate.ci import process_env

    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    with contextlib.ExitStack() as stack:
        plotter = plotter or plotter_for(argv)
        if plotter is not None:
            stack.callback(plotter.close)
        parser = build_parser(argv)
        try:
            args = parser.parse_args(argv)
        except UsageError as exc:
            command = chosen_command(argv)
            if not exc.where and command in COMMANDS:  # the top parser's "unrecognized arguments"
                early = [arg for arg in argv[: argv.index(command)] if arg.startswith("-")]
                hint = f"flags go after the command: `mlgate {command} {' '.join(early)} …`" if early else ""
                exc = UsageError(command, exc.what, hint=hint or f"see `mlgate {command} --help`")
            _print_error(exc, err)
            return int(exc.exit_code)
        except SystemExit as exc:  # --help or --version, which argparse printed
            return int(ExitCode.USAGE if exc.code not in (0, None) else ExitCode.OK)
        if getattr(args, "handler", None) is None:
            parser.print_help(out)
            return int(ExitCode.USAGE)
        console = Console(out=out, err=err, verbosity=min(1, args.verbose) - min(1, args.quiet))
        environ = process_env() if env is None else env
        ctx = Context(args=args, env=environ, cwd=cwd or Path.cwd(), console=console, plotter=plotter)
        with keeping(localcache.cache_dir(environ, "yaml")):
            return int(_dispatch(ctx, err))


def leave(code: int) -> NoReturn:
    """Exit with `code` once output is flushed and the atexit handlers have run, skipping finalisation.

    Python's finalisation frees every module and object one by one: ≈30 ms after `mlgate diff` on a 2-core
    runner, a sixth of the command, for memory the kernel takes back at once. The atexit handlers still run
    (tempfile's and weakref finalizers, logging's flush). The exit is Python's own with another thread left
    running, under `python -i`, or while a tracer or profiler watches (coverage, cProfile, a debugger): they
    write their results once the program returns.
    """
    threading = sys.modules.get("threading")
    if sys.flags.inspect or _watched() or (threading is not None and threading.active_count() > 1):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # NOTE: a reader that went away (`| head`)
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def _print_error(exc: MlgateError, err: TextIO, console: Console | None = None) -> None:
    mask = console.mask if console is not None else str
    where = f"{exc.where}: " if exc.where else ""
    err.write(mask(one_line(f"mlgate: error: {where}{exc.what}")) + "\n")
    if exc.hint:
        err.write(mask(one_line(f"hint: {exc.hint}")) + "\n")


def _watched() -> bool:
    """A tracer or profiler is set: sys.settrace/setprofile, or a sys.monitoring tool (Python 3.12+)."""
    monitoring = getattr(sys, "monitoring", None)
    tools = monitoring is not None and any(monitoring.get_tool(tool) for tool in range(6))
    return bool(sys.gettrace() or sys.getprofile() or tools)


def _dispatch(ctx: Context, err: TextIO) -> ExitCode:
    try:
        code: ExitCode = ctx.args.handler(ctx)
        return code
    except MlgateError as exc:
        _print_error(exc, err, ctx.console)
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("mlgate: interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception:
        import traceback  # NOTE: here: only a bug needs it, and it costs every command ≈5 ms to import

        err.write(ctx.console.mask(traceback.format_exc()))
        err.write("mlgate: internal error: this is a bug, please report it with the traceback above\n")
        return ExitCode.INTERNAL
