"""`mlgate comment create|update FILE`: post a Markdown file as a comment on a PR/MR, an issue or a commit (a
drop-in for `cml comment create`). Local images it links (`![x](plots/a.png)`, inside the file's folder) are
uploaded to the forge and relinked. `create` always makes a new comment; `update` upserts the one sticky
comment of `--watermark-title` (the marker id) on the target, so reruns never pile up. Exit 0 when posted,
2 for a bad target, 3 when it could not be posted.

Targets, as CML spells them: `pr` (the run's PR/MR, else the open one whose head is the head commit),
`pr/N`, `issue/N` (also `issue#N`), `commit` (the head commit), `commit/REV`; the default `auto` is `pr`
when there is a PR/MR and the head commit otherwise.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from mlgate.ci import CiContext
from mlgate.commands import Context, Subparsers, add_command
from mlgate.commands.publish import detect_ci, require_forge
from mlgate.errors import ExitCode, UsageError
from mlgate.forge import Forge, Target, ThreadForge

_TARGET = re.compile(
    r"(?P<kind>auto|pr|commit)|pr/(?P<pr>[1-9][0-9]*)|issue[#/](?P<issue>[1-9][0-9]*)|commit/(?P<rev>\S+)"
)
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ID_BAD = re.compile(r"[^A-Za-z0-9._-]+")
TARGET_HELP = (
    "where to post: auto (the default: the PR/MR, else the head commit), pr, pr/N, issue/N (or issue#N), "
    "commit (the head commit), commit/REV"
)


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "comment",
        run,
        help="post a Markdown file as a PR/MR, issue or commit comment (like `cml comment`)",
        parents=parents,
    )
    parser.add_argument("action", choices=("create", "update"), help="create: a new comment; update: upsert")
    parser.add_argument("file", metavar="FILE", help="the Markdown file to post")
    parser.add_argument(
        "--watermark-title", default="comment", metavar="TEXT", help="the id that finds the comment again"
    )
    parser.add_argument("--target", default="auto", metavar="TARGET", help=TARGET_HELP)


def run(ctx: Context) -> ExitCode:
    from mlgate.forge.sticky import render_marker, upsert_sticky_thread
    from mlgate.publishing import local_images, open_forge, relink, run_stamp

    path = Path(ctx.args.file) if Path(ctx.args.file).is_absolute() else ctx.cwd / ctx.args.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(ctx.args.file, f"cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    ci = detect_ci(ctx, ctx.cwd)
    forge = require_forge(
        ci, open_forge(ci, dry_run=bool(ctx.flag("dry_run")), folder=ctx.cwd / "mlgate-report")
    )
    thread = _thread_forge(forge).thread(resolve_target(ctx, ci, forge))
    urls = {image: forge.upload_image(image) for image in local_images(text, path.parent)}
    body = ctx.console.mask(relink(text, urls, path.parent))
    report_id = _ID_BAD.sub("-", ctx.args.watermark_title).strip("-") or "comment"
    stamp = run_stamp(ci)
    if ctx.args.action == "create":
        kept = thread.create_comment(render_marker(report_id, stamp) + "\n" + body)
    else:
        kept = upsert_sticky_thread(thread, body, report_id, run_stamp=stamp)
    ctx.console.print(f"comment: {thread.comment_url(kept.id) or kept.id}")
    return ExitCode.OK


def resolve_target(ctx: Context, ci: CiContext, forge: Forge) -> Target:
    """The `--target` as a Target: the PR/MR of the run found through the API, the commit resolved."""
    spec = ctx.args.target
    found = _TARGET.fullmatch(spec)
    if found is None:
        raise UsageError(f"--target {spec}", "must be auto, pr, pr/N, issue/N, commit or commit/REV")
    if found["pr"]:
        return Target("change", number=int(found["pr"]))
    if found["issue"]:
        return Target("issue", number=int(found["issue"]))
    if found["rev"]:
        return Target("commit", sha=_commit_sha(ctx, found["rev"]))
    if found["kind"] == "commit":
        return Target("commit", sha=_head_sha(ci, spec))
    number = ci.number
    if number is None and ci.head_sha:
        number = forge.find_change_for_sha(ci.head_sha)
    if number is not None:
        return Target("change", number=number)
    if found["kind"] == "auto":
        return Target("commit", sha=_head_sha(ci, "--target auto"))
    raise UsageError(
        "--target pr", "this run has no PR/MR (and no open one has its head commit)",
        hint="run it on a pull_request / merge_request_event pipeline, or use --target commit or issue/N",
    )  # fmt: skip


def _head_sha(ci: CiContext, where: str) -> str:
    if ci.head_sha and _SHA.fullmatch(ci.head_sha):
        return ci.head_sha
    raise UsageError(where, "the head commit is unknown here", hint="name it: --target commit/SHA")


def _commit_sha(ctx: Context, rev: str) -> str:
    """A full SHA as given, else `rev` resolved in the repository at cwd (a GitError when it is unknown)."""
    from mlgate.errors import GitError
    from mlgate.gitrepo import GitRepo

    if _SHA.fullmatch(rev):
        return rev
    try:
        return GitRepo.discover(ctx.cwd).resolve(rev)
    except GitError as exc:
        raise UsageError(f"--target commit/{rev}", exc.what, hint="give the full 40-character SHA") from None


def _thread_forge(forge: Forge) -> ThreadForge:
    if not isinstance(forge, ThreadForge):
        raise UsageError("--target", "this forge cannot post to issues or commits")
    return forge
