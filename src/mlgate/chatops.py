"""PR comments as commands (`/mlgate run|explain|accept|help`): parsing, authorization, and the handling of
a GitHub `issue_comment` run, with reactions as feedback (👀 picked up, 🚀 done, 😕 + one-line reply failed,
👎 not allowed).

Only the comment's first non-blank line is a command: a quoted line (`> /mlgate accept`), a fenced or
indented code block, or `/mlgate` later in the text is not. The rest of the comment is free text (the
reason of an accept). Nothing runs before the author is authorized. `explain` and `accept` read the PR
head's committed files from git (GitTree), with the checked-out base branch's configuration; `/mlgate run`
(chatrun.py) trains a same-repository PR head in a temporary worktree, and never a fork's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlgate.errors import ExitCode, ForgeError, MlgateError
from mlgate.record import Record

if TYPE_CHECKING:
    from mlgate.acceptance import Acceptance
    from mlgate.ci import CiContext
    from mlgate.ci.github_actions import CommentEvent
    from mlgate.commands import Context
    from mlgate.config import Config
    from mlgate.configfile import LoadedConfig
    from mlgate.forge import ChatForge, PullInfo
    from mlgate.gitrepo import GitRepo
    from mlgate.model import RunRecord
    from mlgate.pipeline import Evaluation

Kind = Literal["run", "explain", "accept", "help", "unknown"]
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
TRUSTED_ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR")
FIRST_LINE_LIMIT = 1000
_COMMAND = re.compile(r"/mlgate(?:\s+(?P<rest>.*))?", re.IGNORECASE)
HELP = """\
mlgate commands (the first line of a PR comment; users with write access):

- `/mlgate run`: run the PR gate again on the PR's current head (training it), as a `pull_request` run would
- `/mlgate explain METRIC`: why METRIC passed or failed on the current head
- `/mlgate accept [METRIC…] [: reason]`: accept the current regressions (all, or those named) for this head \
commit; a new push is gated afresh
- `/mlgate help`: this list"""
FORK_RUN = (
    "this PR comes from a fork, so this job (with the base repository's token) will not run its code: the "
    "PR's own `pull_request` workflow trains it and the two-stage `workflow_run` publisher posts the report "
    "(README: fork PRs); re-run that workflow from the PR's Checks tab"
)


class Command(Record):
    """One parsed command: `args` are its words, `reason` the free text (after `:` and on later lines)."""

    kind: Kind
    args: tuple[str, ...] = ()
    reason: str = ""
    word: str = ""


class CommandFailedError(MlgateError):
    """A command that cannot be done (unknown metric, nothing to accept): 😕 and a one-line reply."""


def parse_command(body: str) -> Command | None:
    """The command of a comment, or None when its first non-blank line is not `/mlgate …`."""
    lines = body.replace("\r\n", "\n").split("\n")
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None or lines[index].startswith(("    ", "\t")):
        return None
    first = lines[index].strip()[:FIRST_LINE_LIMIT]
    found = _COMMAND.fullmatch(first)
    if found is None:
        return None
    rest = (found["rest"] or "").strip()
    more = " ".join(" ".join(lines[index + 1 :]).split())
    word, _, tail = (
        rest.partition(" ") if not rest.lower().startswith("accept:") else ("accept", "", rest[6:])
    )
    return _command(word.lower(), tail.strip(), more)


def _command(word: str, tail: str, more: str) -> Command:
    if word in ("", "help"):
        return Command("help")
    if word == "run":
        return Command("run")
    if word == "explain":
        return Command("explain", tuple(tail.split()))
    if word == "accept":
        names, colon, reason = tail.partition(":")
        text = " ".join(part for part in (reason.strip() if colon else "", more) if part)
        return Command("accept", tuple(names.replace(",", " ").split()), text)
    return Command("unknown", word=word[:40])


def is_authorized(
    forge: ChatForge, event: CommentEvent, min_permission: str, warn: Callable[[str], None]
) -> bool:
    """Whether the author has `min_permission` or more; author_association when that is unreadable."""
    from mlgate.forge import PermissionUnknownError

    try:
        role = forge.permission_of(event.author)
    except PermissionUnknownError as exc:
        trusted = event.association in TRUSTED_ASSOCIATIONS
        warn(
            f"{exc.what}: falling back to "
            f"author_association {event.association} ({'trusted' if trusted else 'not trusted'})"
        )
        return trusted
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[min_permission]


# ------------------------------------------------------------------------------------ the comment run


@dataclass
class ChatSession:
    """One handled comment: where it came from, the PR as the API tells it, and what we can do there."""

    ctx: Context
    ci: CiContext
    repo: GitRepo
    loaded: LoadedConfig
    forge: ChatForge
    event: CommentEvent
    pull: PullInfo | None = None

    @property
    def config(self) -> Config:
        return self.loaded.config

    def reply(self, text: str) -> None:
        self.forge.create_comment(self.event.number, self.ctx.console.mask(text))

    def head(self) -> PullInfo:
        assert self.pull is not None
        return self.pull

    @property
    def target(self) -> CiContext:
        """The CI context as a `pull_request` run of the PR head would have it."""
        pull = self.head()
        return replace(self.ci, head_sha=pull.head_sha, number=pull.number, fork=False)

    def fetch_head(self) -> None:
        """Make the PR head's commit present (the clone may be shallow, or lack the PR's objects)."""
        pull = self.head()
        if not self.repo.fetch_commit(pull.head_sha, f"refs/pull/{pull.number}/head"):
            raise CommandFailedError(
                "/mlgate",
                f"the PR head {pull.head_sha[:12]} is not in this job's clone and cannot be fetched from "
                f"origin (`git fetch origin refs/pull/{pull.number}/head`); push again or re-run the job",
            )

    def evaluate(self) -> Evaluation:
        """The gate of the PR head's committed files (read from git, never run) against its baseline."""
        from mlgate.pipeline import evaluate_checkout

        self.fetch_head()
        return evaluate_checkout(self.repo, self.loaded, self.ctx.console, rev=self.head().head_sha)

    def publish(
        self, evaluation: Evaluation, records: tuple[Acceptance, ...], run: RunRecord | None = None
    ) -> None:
        """The report, sticky comment and status for the PR head; a publishing problem fails the command,
        unless the run itself failed (its own error is the one to tell)."""
        from mlgate.commands.run import publish_evaluation

        problems = publish_evaluation(
            self.ctx, self.target, evaluation, run, acceptances=records, forge=self.forge, root=self.repo.root
        )
        if problems and (run is None or run.ok):
            raise CommandFailedError("/mlgate", problems[0])


def handle_comment(ctx: Context, ci: CiContext, repo: GitRepo, loaded: LoadedConfig) -> ExitCode:
    """`mlgate run` on a GitHub `issue_comment` event: exit 0 unless the comment's own run failed."""
    from mlgate.commands.publish import print_forge_files
    from mlgate.publishing import PublishResult

    found = _command_of(ctx, loaded)
    if found is None:
        return ExitCode.OK
    event, command = found
    session = ChatSession(ctx, ci, repo, loaded, _open_chat_forge(ctx, ci, repo), event)
    try:
        return _handle(session, command)
    finally:
        print_forge_files(ctx, session.forge, PublishResult())


def _command_of(ctx: Context, loaded: LoadedConfig) -> tuple[CommentEvent, Command] | None:
    """The new PR comment and its command; None (said on the console) when there is nothing to do."""
    from mlgate.ci.github_actions import comment_event

    event = comment_event(ctx.env)
    if event is None or event.action != "created":
        ctx.console.info("issue_comment: not a new comment on a pull request: nothing to do")
        return None
    command = parse_command(event.body)
    if command is None or not loaded.config.chatops.enabled:
        ctx.console.info("issue_comment: not an /mlgate command" if command is None else "chatops disabled")
        return None
    return event, command


def _open_chat_forge(ctx: Context, ci: CiContext, repo: GitRepo) -> ChatForge:
    """The forge that answers; under --dry-run one that reads from it (when there is a token) and writes
    every answer to files in the report folder's `dry-run/`."""
    from mlgate.forge import ChatForge
    from mlgate.publishing import GITHUB_TOKEN_HINT, open_forge

    output = Path(ctx.args.output)
    folder = output if output.is_absolute() else repo.root / output
    forge = open_forge(ci, dry_run=False, folder=folder)
    chat = forge if isinstance(forge, ChatForge) else None
    if ctx.flag("dry_run"):
        from mlgate.forge.dryrun import DryRunChatForge

        return DryRunChatForge(folder / "dry-run", reader=chat)
    if chat is None:
        raise ForgeError("issue_comment", "no GitHub forge to answer on", hint=GITHUB_TOKEN_HINT)
    return chat


def _handle(session: ChatSession, command: Command) -> ExitCode:
    event, forge, console = session.event, session.forge, session.ctx.console
    if not is_authorized(forge, event, session.config.chatops.min_permission, console.warn):
        console.print(f"/mlgate {command.kind}: @{event.author} may not run commands here")
        forge.add_reaction(event.comment_id, "-1")
        return ExitCode.OK
    forge.add_reaction(event.comment_id, "eyes")
    try:
        code = _dispatch(session, command)
    except MlgateError as exc:
        _answer_failure(session, command, exc)
        if isinstance(exc, CommandFailedError):
            return ExitCode.OK
        raise
    forge.add_reaction(event.comment_id, "rocket")
    return code


def _answer_failure(session: ChatSession, command: Command, exc: MlgateError) -> None:
    """😕 and a one-line reply. When the run itself failed (a training crash: exit 3), a forge error while
    answering is only a warning, so that the run's own error is the one reported."""
    what = " ".join(exc.what.split())
    session.ctx.console.print(f"/mlgate {command.kind}: {what}")
    try:
        session.forge.add_reaction(session.event.comment_id, "confused")
        session.reply(f"@{session.event.author} `/mlgate {command.kind}`: {what}")
    except ForgeError as answer:
        if isinstance(exc, CommandFailedError):
            raise
        session.ctx.console.warn(f"cannot answer the comment: {answer.what}")


def _dispatch(session: ChatSession, command: Command) -> ExitCode:
    if command.kind == "unknown":
        raise CommandFailedError("/mlgate", f"unknown command `{command.word}`: try `/mlgate help`")
    if command.kind == "help":
        session.reply(HELP)
        return ExitCode.OK
    session.pull = _open_pull(session)
    if command.kind == "explain":
        return _explain(session, command)
    if command.kind == "accept":
        return _accept(session, command)
    from mlgate.chatrun import rerun

    return rerun(session)


def _open_pull(session: ChatSession) -> PullInfo:
    """The PR as the API tells it now (never the event payload's word); a closed one fails the command."""
    pull = session.forge.pull_info(session.event.number)
    if pull.state != "open":
        raise CommandFailedError("/mlgate", f"#{pull.number} is {pull.state}: nothing to do")
    return pull


def _explain(session: ChatSession, command: Command) -> ExitCode:
    from mlgate.commands.explain import explain_lines

    if len(command.args) != 1:
        raise CommandFailedError("/mlgate", "name one metric: `/mlgate explain METRIC`")
    evaluation = session.evaluate()
    result = evaluation.gate.get(command.args[0])
    if result is None:
        raise CommandFailedError("/mlgate", f"unknown metric `{command.args[0]}` at {_short(session)}")
    lines = explain_lines(result, evaluation)
    fenced = "```text\n" + "\n".join(lines) + "\n```"
    session.reply(f"`mlgate explain {result.name}` at {_short(session)}:\n\n{fenced}")
    return ExitCode.OK


def _accept(session: ChatSession, command: Command) -> ExitCode:
    from mlgate.acceptance import Acceptance, read_acceptances

    pull, who = session.head(), session.event.author
    if who == pull.author and not session.config.chatops.allow_self_accept:
        raise CommandFailedError("/mlgate", "the PR author cannot accept their own PR's regressions")
    evaluation = session.evaluate()
    names = _accepted_names(evaluation, command.args, _short(session))
    earlier = read_acceptances(session.forge, pull.number, pull.head_sha)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = Acceptance(pull.head_sha, who, command.reason[:300], names, stamp)
    records = (*[r for r in earlier if r.by != who], record)
    session.publish(evaluation, records)
    session.ctx.console.print(f"/mlgate accept: @{who} accepted {', '.join(names)} at {_short(session)}")
    return ExitCode.OK


def _accepted_names(evaluation: Evaluation, named: tuple[str, ...], at: str) -> tuple[str, ...]:
    failing = [result.name for result in evaluation.gate.failures]
    if not failing:
        raise CommandFailedError("/mlgate", f"nothing to accept: no regression at {at}")
    for name in named:
        if evaluation.gate.get(name) is None:
            raise CommandFailedError("/mlgate", f"unknown metric `{name}` at {at}")
        if name not in failing:
            raise CommandFailedError("/mlgate", f"`{name}` did not regress at {at}: nothing to accept")
    return tuple(dict.fromkeys(named)) if named else tuple(failing)


def _short(session: ChatSession) -> str:
    return session.head().head_sha[:12]
