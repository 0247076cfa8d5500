"""`mlgate run`: the CI one-shot. Train, find the baseline at the merge-base, gate, report, and on the
default branch save the new baseline. Exit code: the gate's (0/1), or 3 when the run failed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from mlgate.baseline import GitNotesStore
from mlgate.bundle import Bundle, write_bundle
from mlgate.commands import Context, Subparsers, add_command
from mlgate.commands.train import add_train_flags, train, train_overrides
from mlgate.errors import ExitCode, MetricsError, TrainingError
from mlgate.gitrepo import GitRepo
from mlgate.model import RunRecord
from mlgate.pipeline import Evaluation, evaluate_checkout, load_effective_config
from mlgate.snapshot import dump_snapshot
from mlgate.training import describe_failure


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "run", run, help="CI one-shot: train, compare with the baseline, gate, report", parents=parents
    )
    add_train_flags(parser)
    parser.add_argument("--no-train", action="store_true", help="gate the metrics files already present")
    parser.add_argument(
        "--base", metavar="REV", help="baseline commit (default: merge-base with the base branch)"
    )
    parser.add_argument("--output", "-o", metavar="DIR", default="mlgate-report", help="report folder")
    parser.add_argument(
        "--save-baseline",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: on the default branch only (default)",
    )


def run(ctx: Context) -> ExitCode:
    repo = GitRepo.discover(ctx.cwd)
    loaded = load_effective_config(repo.root, ctx.flag("config"), ctx.env, train_overrides(ctx))
    config = loaded.config
    record: RunRecord | None = None
    if config.train.command and not ctx.flag("no_train"):
        record = train(ctx, config, repo.root)
    folder = Path(ctx.args.output)
    folder = folder if folder.is_absolute() else repo.root / folder
    try:
        evaluation = evaluate_checkout(
            repo, loaded, ctx.console, base=ctx.flag("base"), strict=bool(ctx.flag("strict"))
        )
    except MetricsError as exc:
        if record is not None and not record.ok:
            raise TrainingError(
                "train.command", describe_failure(record), hint=f"log: {record.log_path}"
            ) from None
        if record is not None:
            raise TrainingError(
                exc.where, f"{exc.what} after training", hint="does the script write it?"
            ) from None
        raise
    bundle = write_bundle(evaluation, folder, ctx.console, run=record)
    _print_summary(ctx, evaluation, bundle)
    if record is not None and not record.ok:
        raise TrainingError("train.command", describe_failure(record), hint=f"report: {bundle.markdown_path}")
    if _should_save(ctx, repo, evaluation):
        _save_baseline(ctx, repo, evaluation, record)
    return ExitCode.OK if evaluation.gate.passed else ExitCode.GATE_FAILED


def _print_summary(ctx: Context, evaluation: Evaluation, bundle: Bundle) -> None:
    gate = evaluation.gate
    ctx.console.print(
        f"mlgate: {gate.outcome.value}: {len(gate.failures)} failing, {len(gate.warnings)} warning"
    )
    ctx.console.print(f"report: {bundle.markdown_path}")


def _should_save(ctx: Context, repo: GitRepo, evaluation: Evaluation) -> bool:
    mode = ctx.args.save_baseline
    if mode != "auto":
        return bool(mode == "always")
    return repo.current_branch() == evaluation.config.baseline.branch


def _save_baseline(ctx: Context, repo: GitRepo, evaluation: Evaluation, record: RunRecord | None) -> None:
    saved_at = datetime.now(UTC).isoformat(timespec="seconds")
    snapshot = dump_snapshot(
        evaluation.head_sha, evaluation.metrics, evaluation.params, saved_at=saved_at, run=record
    )
    GitNotesStore(repo, ctx.console.warn).save(evaluation.head_sha, snapshot)
    ctx.console.print(f"baseline saved for {evaluation.head_sha[:12]} (refs/notes/mlgate)")
