"""`mlgate demo`: a throwaway git repo with a small scikit-learn project, a baseline on main, a PR branch,
and the whole PR gate run locally with the dry-run forge.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.commands import Context, Subparsers, add_command
from mlgate.console import Console
from mlgate.errors import ExitCode, UsageError
from mlgate.gitrepo import GitRepo
from mlgate.model import GateResult, Outcome, RunRecord
from mlgate.training import TrainSpec, check_run

if TYPE_CHECKING:
    from mlgate.pipeline import Evaluation

PR_PARAMS = {
    False: "train:\n  n_estimators: 80\n  learning_rate: 0.15\n  max_depth: 2\n",
    True: "train:\n  n_estimators: 3\n  learning_rate: 0.05\n  max_depth: 1\n",
}
_EMOJI = {Outcome.PASS: "✅", Outcome.WARN: "⚠️", Outcome.FAIL: "❌", Outcome.NO_BASELINE: "ℹ️"}


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "demo", run, help="run the whole PR gate on a throwaway scikit-learn project", parents=parents
    )
    parser.add_argument("--keep", metavar="DIR", help="build the demo repository in DIR and keep it")
    parser.add_argument(
        "--regress", action="store_true", help="make a PR change that fails the gate (exit 1)"
    )


def run(ctx: Context) -> ExitCode:
    from mlgate.bundle import write_bundle
    from mlgate.pipeline import evaluate_checkout, load_effective_config

    _require_sklearn()
    started = time.monotonic()
    root = _demo_root(ctx)
    console = ctx.console
    repo = _create_repo(root)
    console.info(f"mlgate demo: project in {root}")
    console.info("mlgate demo: [1/3] training on main to make the baseline")
    _train(repo, ctx)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Baseline: metrics of the model on main")
    console.info("mlgate demo: [2/3] PR branch demo/tune changes a hyperparameter; training again")
    repo.git("checkout", "-q", "-b", "demo/tune")
    (root / "params.yaml").write_text(PR_PARAMS[bool(ctx.args.regress)])
    repo.git(
        "commit", "-q", "-am", "Tune the model" if not ctx.args.regress else "Make the model much smaller"
    )
    record = _train(repo, ctx)
    console.info("mlgate demo: [3/3] gating the PR against main's baseline at the merge-base")
    loaded = load_effective_config(root, None, {})
    evaluation = evaluate_checkout(repo, loaded, console, strict=bool(ctx.flag("strict")))
    bundle = write_bundle(evaluation, root / "mlgate-report", console, run=record, plotter=ctx.plotter)
    comment = root / "mlgate-report" / "comment.md"
    comment.write_text(bundle.markdown, encoding="utf-8")
    _summary(ctx.console, evaluation, bundle.markdown_path, bundle.html_path, comment)
    ctx.console.info(f"mlgate demo: done in {time.monotonic() - started:.1f} s")
    return ExitCode.GATE_FAILED if not evaluation.gate.passed else ExitCode.OK


def _require_sklearn() -> None:
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        raise UsageError("demo", "needs scikit-learn", hint="pip install 'mlgate[demo]'")


def _demo_root(ctx: Context) -> Path:
    if ctx.args.keep is None:
        return Path(tempfile.mkdtemp(prefix="mlgate-demo-"))
    root = Path(ctx.args.keep)
    root = root if root.is_absolute() else ctx.cwd / root
    if root.exists() and any(root.iterdir()):
        raise UsageError(
            f"--keep {ctx.args.keep}", "folder exists and is not empty", hint="name a new folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    return root


def _create_repo(root: Path) -> GitRepo:
    from mlgate.reporttemplate import templates_dir

    source = templates_dir() / "demo"
    for name in ("train.py", "params.yaml"):
        shutil.copyfile(source / name, root / name)
    shutil.copyfile(source / "mlgate.yml", root / ".mlgate.yml")
    (root / ".gitignore").write_text("mlgate-report/\n.mlgate/\n")
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.email", "demo@mlgate.invalid")
    repo.git("config", "user.name", "mlgate demo")
    repo.git("config", "commit.gpgsign", "false")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Demo project: a scikit-learn classifier gated by mlgate")
    return repo


def _train(repo: GitRepo, ctx: Context) -> RunRecord:
    """Run the project's train.command with this Python first on PATH (it has scikit-learn)."""
    from mlgate.pipeline import load_effective_config
    from mlgate.training.subprocess import SubprocessBackend

    loaded = load_effective_config(repo.root, None, {})
    command = loaded.config.train.command
    assert command is not None
    path = os.pathsep.join([str(Path(sys.executable).parent), ctx.env.get("PATH", os.defpath)])
    spec = TrainSpec(
        command=command,
        cwd=repo.root,
        env={**ctx.env, "PATH": path, "PYTHONHASHSEED": "0"},
        timeout_s=loaded.config.train.timeout,
        log_path=repo.root / ".mlgate" / "train.log",
        runner_env=ctx.env,
    )
    quiet = Console(out=ctx.console.out, err=ctx.console.err, verbosity=min(ctx.console.verbosity, 0) - 1)
    record = SubprocessBackend().run(spec, quiet if ctx.console.verbosity <= 0 else ctx.console)
    check_run(record)
    return record


def _summary(console: Console, evaluation: Evaluation, md: Path, html: Path, comment: Path) -> None:
    gate = evaluation.gate
    console.print("")
    console.print(f"{_EMOJI[gate.outcome]} mlgate: {verdict_words(gate)}")
    console.print("")
    for line in gate_table(gate):
        console.print(line)
    console.print("")
    console.print(f"report.md:   {md}")
    console.print(f"report.html: {html}")
    console.print(f"would-be PR comment (dry-run forge): {comment}")


def verdict_words(gate: GateResult) -> str:
    failures = len(gate.failures)
    if gate.outcome is Outcome.FAIL:
        return (
            f"gate failed: {failures} regression{'s' if failures != 1 else ''}" if failures else "gate failed"
        )
    if gate.outcome is Outcome.WARN:
        return f"passed with {len(gate.warnings)} warning{'s' if len(gate.warnings) != 1 else ''}"
    if gate.outcome is Outcome.NO_BASELINE:
        return "no baseline: passed"
    return "gate passed"


def gate_table(gate: GateResult) -> list[str]:
    """The gated metrics as a plain terminal table."""
    rows = [("metric", "base", "head", "change", "verdict")]
    for result in gate.results:
        if not result.gated:
            continue
        delta = result.delta
        change = delta.change
        rows.append(
            (
                delta.name,
                delta.base.display() if delta.base else "—",
                delta.head.display() if delta.head else "—",
                "—" if change is None else f"{change:+.4f}",
                result.verdict.value + (" ✗" if result.blocking else ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
