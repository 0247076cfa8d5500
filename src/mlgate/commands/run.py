"""`mlgate run`: the CI one-shot. Detect the CI, train, find the baseline at the merge-base, gate, report,
publish (job summary, outputs, comment, status), and on the default branch save the new baseline.
Exit code: the gate's (0/1), or 3 when the run failed (or publishing failed under --require-publish).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.acceptance import banners as acceptance_banners
from mlgate.acceptance import covers
from mlgate.baseline import GitNotesStore
from mlgate.bundle import Bundle, report_input, write_bundle
from mlgate.ci import CiContext
from mlgate.commands import Context, Subparsers, add_command
from mlgate.commands.publish import add_publish_flags, detect_ci
from mlgate.commands.train import add_train_flags, train, train_overrides
from mlgate.datasketch import try_sketch_file
from mlgate.errors import BaselineError, ExitCode, ForgeError, MetricsError, TrainingError
from mlgate.gitrepo import GitRepo
from mlgate.model import RunRecord
from mlgate.pipeline import Evaluation, evaluate_checkout, load_effective_config
from mlgate.prconfig import config_for_change
from mlgate.snapshot import dump_snapshot
from mlgate.training import describe_failure

if TYPE_CHECKING:
    from mlgate.acceptance import Acceptance
    from mlgate.forge import Forge


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
        "--trust-pr-config",
        action="store_true",
        help="on a PR/MR, gate with the PR's own .mlgate.yml (default: the base branch's)",
    )
    parser.add_argument(
        "--save-baseline",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: on the default branch only (default)",
    )
    add_publish_flags(parser)


def run(ctx: Context) -> ExitCode:
    with GitRepo.discover(ctx.cwd) as repo:
        return _run(ctx, repo)


def _run(ctx: Context, repo: GitRepo) -> ExitCode:
    ci = detect_ci(ctx, repo.root)
    overrides = train_overrides(ctx)
    loaded = load_effective_config(repo.root, ctx.flag("config"), ctx.env, overrides)
    if ci.provider == "github-actions" and ci.event == "issue_comment":
        from mlgate.chatops import handle_comment

        return handle_comment(ctx, ci, repo, loaded)
    trust = bool(ctx.flag("trust_pr_config"))
    loaded = config_for_change(repo, ci, loaded, ctx.console, env=ctx.env, overrides=overrides, trust=trust)
    config = loaded.config
    record: RunRecord | None = None
    if config.train.command and not ctx.flag("no_train"):
        record = train(ctx, config, repo.root)
    folder = Path(ctx.args.output)
    folder = folder if folder.is_absolute() else repo.root / folder
    try:
        strict = bool(ctx.flag("strict"))
        evaluation = evaluate_checkout(
            repo, loaded, ctx.console, base=ctx.flag("base"), strict=strict, ci=ci, env=ctx.env,
            confirm_env=ctx.env,
        )  # fmt: skip
    except MetricsError as exc:
        if record is not None and not record.ok:
            # NOTE: a failed run still tells the PR why: publish a report of the failure and the log tail.
            evaluation = evaluate_checkout(
                repo, loaded, ctx.console, base=ctx.flag("base"), ci=ci, env=ctx.env, without_metrics=True
            )
            publish_evaluation(ctx, ci, evaluation, record)
            raise TrainingError(
                "train.command", describe_failure(record), hint=f"report: {folder / 'report.md'}"
            ) from None
        if record is not None:
            raise TrainingError(
                exc.where, f"{exc.what} after training", hint="does the script write it?"
            ) from None
        raise
    accepted: list[Acceptance] = []
    problems = publish_evaluation(ctx, ci, evaluation, record, accepted_out=accepted)
    if record is not None and not record.ok:
        raise TrainingError("train.command", describe_failure(record), hint=f"report: {folder / 'report.md'}")
    if _should_save(ctx, ci, repo, evaluation):
        _save_baseline(ctx, repo, evaluation, record, folder)
    if problems and ctx.flag("require_publish"):
        raise ForgeError("--require-publish", problems[0])
    return (
        ExitCode.OK if evaluation.gate.passed or covers(accepted, evaluation.gate) else ExitCode.GATE_FAILED
    )


def publish_evaluation(
    ctx: Context,
    ci: CiContext,
    evaluation: Evaluation,
    record: RunRecord | None,
    *,
    acceptances: Sequence[Acceptance] | None = None,
    accepted_out: list[Acceptance] | None = None,
    forge: Forge | None = None,
    root: Path | None = None,
) -> list[str]:
    """Write the report folder and publish it; returns the publishing problems.

    `acceptances` None: those the bot's sticky comment holds for this head SHA are kept (a later run on an
    accepted SHA stays accepted); the ones applied are appended to `accepted_out`. `forge` (default: the
    one `ci` and --dry-run name) and `root` (the checkout the report folder is in; default: the
    evaluation's) let a PR-comment run answer on its own forge and keep the report in the job's checkout.
    """
    from mlgate.commands.publish import print_forge_files, publication_template
    from mlgate.publishing import Publication, open_forge, publish

    root = root or evaluation.repo.root
    folder = Path(ctx.args.output)
    folder = folder if folder.is_absolute() else root / folder
    if forge is None:
        forge = open_forge(ci, dry_run=bool(ctx.flag("dry_run")), folder=folder)
    records = tuple(_acceptances(ctx, ci, forge, evaluation) if acceptances is None else acceptances)
    banners = acceptance_banners(records)
    bundle = write_bundle(evaluation, folder, ctx.console, run=record, banners=banners, plotter=ctx.plotter)
    _mask_files(ctx, bundle)
    _print_summary(ctx, evaluation, bundle)
    if ci.read_only_token:
        _handoff(ctx, ci, evaluation, bundle, record)
    pub = Publication(
        markdown=bundle.markdown,
        folder=bundle.folder,
        head_sha=evaluation.head_sha,
        report=report_input(evaluation, bundle.plots, run=record, banners=banners, console=ctx.console),
        images=tuple(plot.path for plot in bundle.plots),
        template=publication_template(evaluation.config, evaluation.repo.root),
        failed_run=record is not None and not record.ok,
        acceptances=records,
        workspace=root,
    )
    result = publish(
        pub, evaluation.gate, ci, forge, evaluation.config, ctx.console, deadline_s=ctx.args.publish_deadline
    )
    print_forge_files(ctx, forge, result)
    if accepted_out is not None:
        accepted_out.extend(records)
    return result.problems


def _acceptances(
    ctx: Context, ci: CiContext, forge: Forge | None, evaluation: Evaluation
) -> list[Acceptance]:
    """The acceptances of this head SHA: the bot's sticky comment, and on GitLab the MR's accept notes."""
    from mlgate.acceptance import merge, note_acceptances, read_or_warn, resolve
    from mlgate.forge.dryrun import DryRunForge

    if forge is None or isinstance(forge, DryRunForge) or ci.number is None or not ci.head_sha:
        return []
    records = read_or_warn(forge, ci.number, ci.head_sha, ctx.console.warn)
    if ci.forge == "gitlab" and not evaluation.gate.passed:
        from mlgate.forge.gitlab import GitLabForge

        assert isinstance(forge, GitLabForge)
        try:
            notes = note_acceptances(
                forge, ci.number, ci.head_sha, evaluation.config.chatops, ctx.console.warn
            )
        except ForgeError as exc:
            ctx.console.warn(f"cannot read /mlgate accept notes: {exc.what}")
            notes = []
        records = merge(records, notes)
    return resolve(records, evaluation.gate)


def _handoff(
    ctx: Context, ci: CiContext, evaluation: Evaluation, bundle: Bundle, record: RunRecord | None
) -> None:
    from mlgate.handoff import write_handoff

    write_handoff(
        bundle.folder,
        repo=ci.repo,
        head_sha=ci.head_sha or evaluation.head_sha,
        number=ci.number,
        base_sha=evaluation.base_sha,
        metrics=evaluation.metrics,
        params=evaluation.params,
        plots=bundle.plots,
        run=record,
    )
    ctx.console.print(
        "fork PR: this job's token is read-only, so nothing is posted from here. Upload "
        f"{bundle.folder.name}/ as an artifact; a `workflow_run` workflow of the base repository then runs "
        f"`mlgate publish --from {bundle.folder.name}` to post the comment and status (README: fork PRs)"
    )


def _mask_files(ctx: Context, bundle: Bundle) -> None:
    """A token printed by the training script must not reach the report files (its log tail is in them)."""
    for path in (bundle.markdown_path, bundle.html_path):
        text = path.read_text(encoding="utf-8")
        masked = ctx.console.mask(text)
        if masked != text:
            path.write_text(masked, encoding="utf-8")


def _print_summary(ctx: Context, evaluation: Evaluation, bundle: Bundle) -> None:
    gate = evaluation.gate
    ctx.console.print(
        f"mlgate: {gate.outcome.value}: {len(gate.failures)} failing, {len(gate.warnings)} warning"
    )
    ctx.console.print(f"report: {bundle.markdown_path}")


def _should_save(ctx: Context, ci: CiContext, repo: GitRepo, evaluation: Evaluation) -> bool:
    mode = ctx.args.save_baseline
    if mode != "auto":
        return bool(mode == "always")
    branch = ci.branch if ci.is_ci else repo.current_branch()
    return ci.number is None and branch == evaluation.config.baseline.branch


def _save_baseline(
    ctx: Context, repo: GitRepo, evaluation: Evaluation, record: RunRecord | None, folder: Path
) -> None:
    """The snapshot as `baseline.json` in the report folder (the `ci-artifact` store's file) and, when the
    `git-notes` store is configured, as a note pushed with the predictions file next to it."""
    config = evaluation.config
    path = config.predictions.path if config.predictions else None
    predictions = (
        evaluation.head_tree.read_bytes(path) if path and evaluation.head_tree.exists(path) else None
    )
    eval_hash = evaluation.noise.eval_hash if evaluation.noise else None
    saved_at = datetime.now(UTC).isoformat(timespec="seconds")
    data_path = config.data.path if config.data else None
    data = try_sketch_file(evaluation.head_tree, data_path, ctx.console.warn)
    snapshot = dump_snapshot(
        evaluation.head_sha, evaluation.metrics, evaluation.params,
        saved_at=saved_at, run=record, eval_hash=eval_hash, data=data,
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "baseline.json").write_text(snapshot, encoding="utf-8")
    if "git-notes" not in config.baseline.stores:
        ctx.console.print(f"baseline for {evaluation.head_sha[:12]} written to {folder / 'baseline.json'}")
        return
    try:
        GitNotesStore(repo, ctx.console.warn).save(evaluation.head_sha, snapshot, predictions, path)
    except BaselineError as exc:
        if "ci-artifact" not in config.baseline.stores:
            raise
        ctx.console.warn(f"{exc}; the ci-artifact copy ({folder / 'baseline.json'}) is the baseline")
        return
    ctx.console.print(f"baseline saved for {evaluation.head_sha[:12]} (refs/notes/mlgate)")
