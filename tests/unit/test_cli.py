"""The command line: one parser per command loaded on demand, the help table in sync, exit codes kept."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.cli import COMMANDS, _dispatch, build_parser, main
from mlgate.commands import Context
from mlgate.console import Console
from mlgate.errors import ExitCode, TrainingError


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_table_matches_what_each_module_registers(name: str) -> None:
    sub = _subparsers(build_parser([name]))
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert helps[name] == COMMANDS[name][1]
    assert sub.choices[name].get_default("handler") is not None


def test_top_level_help_lists_every_command_and_exits_0() -> None:
    assert main(["--version"], env={}, out=io.StringIO(), err=io.StringIO()) == ExitCode.OK
    listed = build_parser([]).format_help()
    assert all(f"    {name} " in listed for name in COMMANDS)


def test_no_command_prints_usage_and_exits_2() -> None:
    out = io.StringIO()
    assert main([], env={}, out=out, err=io.StringIO()) == ExitCode.USAGE
    assert "COMMAND" in out.getvalue()


def test_unknown_command_is_exit_2() -> None:
    assert main(["frobnicate"], env={}, out=io.StringIO(), err=io.StringIO()) == ExitCode.USAGE


def _ctx(handler: object, err: io.StringIO) -> Context:
    args = argparse.Namespace(handler=handler)
    return Context(args=args, env={}, cwd=Path("."), console=Console(out=io.StringIO(), err=err))


def test_errors_are_one_line_with_hint_and_their_exit_code() -> None:
    def fail(_: Context) -> ExitCode:
        raise TrainingError("train.command", "exited with code 3", hint="see the log")

    err = io.StringIO()
    assert _dispatch(_ctx(fail, err), err) == ExitCode.RUN_FAILED
    assert err.getvalue() == "mlgate: error: train.command: exited with code 3\nhint: see the log\n"


def test_interrupt_is_130_and_a_bug_is_4_with_a_traceback() -> None:
    def interrupted(_: Context) -> ExitCode:
        raise KeyboardInterrupt

    def bug(_: Context) -> ExitCode:
        raise RuntimeError("boom")

    err = io.StringIO()
    assert _dispatch(_ctx(interrupted, err), err) == ExitCode.INTERRUPTED
    err = io.StringIO()
    assert _dispatch(_ctx(bug, err), err) == ExitCode.INTERNAL
    assert "Traceback" in err.getvalue()
    assert "please report" in err.getvalue()


# The quick exit of the console script (cli.leave): output and atexit handlers kept, finalisation skipped.
LEAVE = """
import atexit, sys, threading, time
from mlgate.cli import leave
atexit.register(lambda: open(sys.argv[1], "w").write("atexit ran"))
if sys.argv[2] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.2), open(sys.argv[1] + ".t", "w").write("done"))).start()
class Finalised:
    def __del__(self):
        sys.stdout.write("finalised")
kept = Finalised()
sys.stdout.write("buffered, no newline")
leave(3)
"""


def test_leave_flushes_output_runs_atexit_handlers_and_skips_finalisation(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    done = subprocess.run([sys.executable, "-c", LEAVE, str(marker), "-"], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (3, "buffered, no newline", "")
    assert marker.read_text() == "atexit ran"


def test_leave_lets_a_running_thread_finish_as_python_does(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    done = subprocess.run(
        [sys.executable, "-c", LEAVE, str(marker), "thread"], capture_output=True, text=True
    )
    assert done.returncode == 3
    assert Path(f"{marker}.t").read_text() == "done"
    assert done.stdout.startswith("buffered, no newline")


def test_a_profiler_watching_the_console_script_still_gets_to_write_its_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-m", "mlgate", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0
    assert "function calls" in done.stdout
