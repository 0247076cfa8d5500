"""`/mlgate run` from a PR comment: the PR gate run again on the PR's current head, as a `pull_request` run
of `mlgate run` would: with `train.command`, the head is fetched, trained in a temporary `git worktree`
(always removed, also after a failure or Ctrl-C), gated against the baseline at its merge-base and published
(sticky comment, status on the head SHA, job summary); without it, the head's committed metrics are
re-gated. The gate rules, the training command and its environment come from the checked-out base branch's
configuration (DESIGN §3). A fork PR is never checked out: it gets the two-stage answer (FORK_RUN).

NOTE: the trust decision. This job has the base repository's token and secrets. A same-repository PR branch
was pushed by someone with write access, who could already run code with those secrets through the PR's
own `pull_request` workflow, and the commenter was authorized with at least `chatops.min_permission`
(write), so training that branch here grants nobody anything new. A fork's branch may come from anyone:
running it would hand them this job's token, so it is refused, and the fork's own `pull_request` run plus
the `workflow_run` publisher (README: fork PRs) report it instead. As in every CI job, the forge tokens are
kept out of the training environment (training_env); the checkout's git credentials
(`persist-credentials`) remain reachable from the worktree, as they are in the `pull_request` job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.errors import ExitCode, MetricsError, TrainingError

if TYPE_CHECKING:
    from mlgate.acceptance import Acceptance
    from mlgate.chatops import ChatSession
    from mlgate.gitrepo import GitRepo
    from mlgate.model import RunRecord
    from mlgate.pipeline import Evaluation


def rerun(session: ChatSession) -> ExitCode:
    """Train (or re-gate) the PR head and publish it; a fork PR is refused with what to do instead."""
    from mlgate.chatops import FORK_RUN, CommandFailedError

    if session.head().fork:
        raise CommandFailedError("/mlgate", FORK_RUN)
    if not session.config.train.command or session.ctx.flag("no_train"):
        evaluation = session.evaluate()
        session.publish(evaluation, _acceptances(session, evaluation))
        return ExitCode.OK
    return _train_head(session)


def _train_head(session: ChatSession) -> ExitCode:
    """Train the head in a temporary worktree; a crashed training is published, then TrainingError (3)."""
    from mlgate.commands.train import train
    from mlgate.training import describe_failure

    pull = session.head()
    session.fetch_head()
    with session.repo.temporary_worktree(pull.head_sha, f"mlgate-pr{pull.number}-") as tree:
        session.ctx.console.info(f"mlgate: training PR #{pull.number} at {pull.head_sha[:12]} in {tree.root}")
        record = train(session.ctx, session.config, tree.root)
        evaluation = _evaluate(session, tree, record)
        session.publish(evaluation, _acceptances(session, evaluation), record)
    if not record.ok:
        what = f"{describe_failure(record)} at {pull.head_sha[:12]}; the report has the log tail"
        raise TrainingError("train.command", what)
    return ExitCode.OK


def _evaluate(session: ChatSession, tree: GitRepo, record: RunRecord) -> Evaluation:
    """The trained worktree against the baseline at its merge-base; after a crash, without metrics (what
    the head has committed is not what this run produced), so the report says why the run failed."""
    from mlgate.pipeline import evaluate_checkout

    ctx = session.ctx
    try:
        return evaluate_checkout(
            tree, session.loaded, ctx.console, strict=bool(ctx.flag("strict")),
            ci=session.target, env=ctx.env, without_metrics=not record.ok,
        )  # fmt: skip
    except MetricsError as exc:
        raise TrainingError(
            exc.where, f"{exc.what} after training", hint="does the training script write it?"
        ) from None


def _acceptances(session: ChatSession, evaluation: Evaluation) -> tuple[Acceptance, ...]:
    """The acceptances the sticky comment holds for this head SHA, as they apply to this run's gate."""
    from mlgate.acceptance import read_or_warn, resolve

    pull, warn = session.head(), session.ctx.console.warn
    return tuple(resolve(read_or_warn(session.forge, pull.number, pull.head_sha, warn), evaluation.gate))
