"""`mlgate comment create|update FILE`: post a Markdown file as a PR/MR comment (a drop-in for
`cml comment create`). Local images it links (`![x](plots/a.png)`, inside the file's folder) are uploaded to
the forge and relinked. `create` always makes a new comment; `update` upserts the one sticky comment of
`--watermark-title` (the marker id), so reruns never pile up. Exit 0 when posted, 3 when it could not be.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from mlgate.commands import Context, Subparsers, add_command
from mlgate.commands.publish import detect_ci, require_forge
from mlgate.errors import ExitCode, UsageError

_TARGET = re.compile(r"pr|issue#(?P<issue>[1-9][0-9]*)")
_ID_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "comment",
        run,
        help="post a Markdown file as a PR/MR comment (like `cml comment`)",
        parents=parents,
    )
    parser.add_argument("action", choices=("create", "update"), help="create: a new comment; update: upsert")
    parser.add_argument("file", metavar="FILE", help="the Markdown file to post")
    parser.add_argument(
        "--watermark-title", default="comment", metavar="TEXT", help="the id that finds the comment again"
    )
    parser.add_argument("--target", default="pr", metavar="pr|issue#N", help="where to post (default: pr)")


def run(ctx: Context) -> ExitCode:
    from mlgate.forge.sticky import render_marker, upsert_sticky_comment
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
    number = _target(ctx, ci.forge, ci.number, lambda: forge.find_change_for_sha(ci.head_sha or ""))
    urls = {image: forge.upload_image(image) for image in local_images(text, path.parent)}
    body = ctx.console.mask(relink(text, urls, path.parent))
    report_id = _ID_BAD.sub("-", ctx.args.watermark_title).strip("-") or "comment"
    stamp = run_stamp(ci)
    if ctx.args.action == "create":
        kept = forge.create_comment(number, render_marker(report_id, stamp) + "\n" + body)
    else:
        kept = upsert_sticky_comment(forge, number, body, report_id, run_stamp=stamp)
    ctx.console.print(f"comment: {forge.comment_url(number, kept.id) or kept.id}")
    return ExitCode.OK


def _target(ctx: Context, forge: str, number: int | None, find: object) -> int:
    found = _TARGET.fullmatch(ctx.args.target)
    if found is None:
        raise UsageError(f"--target {ctx.args.target}", "must be pr or issue#N")
    if found["issue"]:
        if forge == "gitlab":
            raise UsageError(f"--target {ctx.args.target}", "issue targets are for GitHub only")
        return int(found["issue"])
    if number is None and callable(find):
        number = find()
    if number is None:
        raise UsageError(
            "--target pr", "this run has no PR/MR (and no open one has its head commit)",
            hint="run it on a pull_request / merge_request_event pipeline, or use --target issue#N",
        )  # fmt: skip
    return int(number)
