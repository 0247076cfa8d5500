"""`mlgate publish --from DIR`: the second stage of a fork PR, run by a `workflow_run` workflow with a write
token. The artifact is untrusted data (see mlgate.handoff): the PR is found again from the head SHA through
the API, the verdict recomputed from the artifact's metrics with the base branch's config and baseline, and
the report re-rendered here. In a checkout of the base branch both come from git; in a workspace that is
no clone, from the forge's API (mlgate.remotebase). Exit 0 once published (the commit status carries the
verdict), 2 for a bad artifact or no way to read the base config, 3 when nothing could be posted.

Also home of what every publishing command shares: CI detection with token masking, the publish flags.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.ci import CiContext, detect
from mlgate.commands import Context, Subparsers, add_command
from mlgate.config import Config
from mlgate.configfile import LoadedConfig
from mlgate.errors import ExitCode, ForgeError, UsageError
from mlgate.forge import Forge
from mlgate.handoff import Handoff, read_handoff
from mlgate.masking import Masker
from mlgate.model import Comparison, GateResult, PlotImage
from mlgate.publishing import GITHUB_TOKEN_HINT, GITLAB_TOKEN_HINT, PublishResult

if TYPE_CHECKING:
    from mlgate.baseline import Baseline
    from mlgate.gitrepo import GitRepo


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "publish",
        run,
        help="post a report artifact made by an unprivileged (fork PR) job",
        parents=parents,
    )
    parser.add_argument("--from", dest="source", metavar="DIR", required=True, help="the downloaded artifact")
    parser.add_argument("--output", "-o", metavar="DIR", default="mlgate-published", help="report folder")
    add_publish_flags(parser)


def add_publish_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require-publish", action="store_true", help="a failed comment or status is exit 3, not a warning"
    )
    parser.add_argument(
        "--publish-deadline", type=float, default=120.0, metavar="SECONDS", help="for all of publishing"
    )


def detect_ci(ctx: Context, root: Path) -> CiContext:
    """The CiContext (with `--forge`), and every token of the environment masked on the console from now."""
    ci = detect(ctx.env, root, forge=ctx.flag("forge"))
    if ctx.flag("dry_run") and ctx.flag("forge") is None and ci.forge == "none":
        ci = replace(ci, forge="github")  # a local dry run previews what GitHub would get
    masker = Masker(ci.secrets)
    ctx.console.mask = masker.mask
    return ci


def publication_template(config: Config, root: Path) -> Path | None:
    template = config.report.template
    if template is None:
        return None
    return Path(template) if Path(template).is_absolute() else root / template


def print_forge_files(ctx: Context, forge: Forge | None, result: PublishResult) -> None:
    from mlgate.forge.dryrun import DryRunForge

    if isinstance(forge, DryRunForge):
        for path in forge.take_written():
            ctx.console.print(f"dry run: {path}")
    elif result.comment_url:
        ctx.console.print(f"comment: {result.comment_url}")


def require_forge(ci: CiContext, forge: Forge | None) -> Forge:
    if forge is not None:
        return forge
    hint = GITLAB_TOKEN_HINT if ci.forge == "gitlab" else GITHUB_TOKEN_HINT
    if ci.forge == "none":
        hint = "run it in GitHub Actions or GitLab CI, or name the code host with --forge github|gitlab"
    raise ForgeError("publish", f"no {ci.forge} forge to post to (no usable token or repository)", hint=hint)


def run(ctx: Context) -> ExitCode:
    from mlgate.publishing import Publication, open_forge, publish
    from mlgate.report import ReportInput, render_markdown

    repo = _checkout(ctx.cwd)
    root = repo.root if repo is not None else ctx.cwd
    ci = detect_ci(ctx, root)
    source = Path(ctx.args.source)
    data = read_handoff(source if source.is_absolute() else ctx.cwd / source)
    if ci.event == "workflow_run" and ci.head_sha and ci.head_sha != data.head_sha:
        raise UsageError(
            f"--from {source}", "its head SHA is not the head SHA of the triggering workflow run"
        )
    folder = Path(ctx.args.output) if Path(ctx.args.output).is_absolute() else root / ctx.args.output
    forge = require_forge(
        ci, open_forge(replace(ci, fork=False), dry_run=bool(ctx.flag("dry_run")), folder=folder)
    )
    number = _change_of(ctx, forge, data)
    loaded, found, notes = _base_side(ctx, ci, forge, repo, data)
    comparison, gate = _recompute(ctx, loaded, data, found)
    for warning in comparison.warnings:
        ctx.console.warn(warning)
    plots = tuple(PlotImage(title=f"Plot {i + 1}", path=path) for i, path in enumerate(data.images))
    inp = ReportInput(
        title=loaded.config.report.title, gate=gate, comparison=comparison, plots=plots,
        notes=("Published from a fork PR's artifact: values recomputed by the base repository's workflow.",
               *notes),
        precision=loaded.config.report.precision, base_label=loaded.config.baseline.branch,
        head_label=f"#{number}",
    )  # fmt: skip
    template = publication_template(loaded.config, root) if repo is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    markdown = ctx.console.mask(render_markdown(inp, template=template))
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    pub = Publication(markdown, folder, data.head_sha, inp, data.images, template)
    target = replace(ci, number=number, head_sha=data.head_sha, fork=False)
    result = publish(
        pub, gate, target, forge, loaded.config, ctx.console,
        deadline_s=ctx.args.publish_deadline, require_publish=bool(ctx.flag("require_publish")),
    )  # fmt: skip
    ctx.console.print(f"mlgate: {gate.outcome.value}: {len(gate.failures)} failing, published to #{number}")
    print_forge_files(ctx, forge, result)
    return ExitCode.OK


def _checkout(cwd: Path) -> GitRepo | None:
    """The git checkout at cwd, or None in a workspace that is no clone (it only downloaded the artifact)."""
    from mlgate.errors import GitError
    from mlgate.gitrepo import GitRepo

    try:
        return GitRepo.discover(cwd)
    except GitError:
        return None


def _base_side(
    ctx: Context, ci: CiContext, forge: Forge, repo: GitRepo | None, data: Handoff
) -> tuple[LoadedConfig, Baseline | None, tuple[str, ...]]:
    """The base branch's config and baseline (and report notes): from the checkout, else from the API.

    Without a clone no config file of the workspace is read (the artifact may have put one there) unless
    `--config` names it; report templates are not used either.
    """
    from mlgate.pipeline import load_effective_config
    from mlgate.remotebase import find_remote_baseline, load_base_config

    if repo is not None:
        loaded = load_effective_config(repo.root, ctx.flag("config"), ctx.env)
        return loaded, _checkout_baseline(ctx, repo, loaded.config, data), ()
    if ctx.flag("config"):
        loaded = load_effective_config(ctx.cwd, ctx.flag("config"), ctx.env)
    else:
        loaded = load_base_config(forge, ci, ctx.env, ctx.console)
    found, note = find_remote_baseline(ci, loaded.config, data.base_sha, ctx.console)
    return loaded, found, (note,) if note else ()


def _change_of(ctx: Context, forge: Forge, data: Handoff) -> int:
    """The open PR/MR whose head is the artifact's head SHA, asked of the API (never the artifact's word)."""
    number = forge.find_change_for_sha(data.head_sha)
    if number is None:
        raise ForgeError(
            f"commit {data.head_sha[:12]}",
            "no open PR/MR has this head commit: nothing posted",
            hint="the PR was closed or got newer commits; the newer commits' run publishes its own report",
        )
    if data.number is not None and data.number != number:
        ctx.console.warn(f"the artifact names #{data.number}, but the head commit belongs to #{number}")
    return number


def _checkout_baseline(ctx: Context, repo: GitRepo, config: Config, data: Handoff) -> Baseline | None:
    """The baseline from this checkout's git-notes and committed stores, walking back from its HEAD."""
    from mlgate.baseline import BaselineStore, CommittedFileStore, GitNotesStore, find_baseline

    base = repo.head()
    if data.base_sha and repo.try_git("merge-base", "--is-ancestor", data.base_sha, "HEAD") is not None:
        base = data.base_sha  # the fork's merge-base, used only when it is a commit of this branch
    stores: list[BaselineStore] = []
    for name in config.baseline.stores:
        if name == "git-notes":
            stores.append(GitNotesStore(repo, ctx.console.warn))
        elif name == "committed":
            stores.append(CommittedFileStore(repo, config.metrics, config.params, ctx.console.warn))
    return find_baseline(stores, repo, base, config.baseline.max_distance)


def _recompute(
    ctx: Context, loaded: LoadedConfig, data: Handoff, found: Baseline | None
) -> tuple[Comparison, GateResult]:
    """The gate of the artifact's metrics against the base's baseline, with the base's rules."""
    from mlgate.comparison import compare
    from mlgate.gate import evaluate

    config = loaded.config
    comparison = compare(
        data.metrics, found.metrics if found else None, head_params=data.params,
        base_params=found.params if found else None, baseline=found.ref if found else None,
        head_sha=data.head_sha, noise_note=None,
    )  # fmt: skip
    strict = bool(ctx.flag("strict"))
    return comparison, evaluate(
        comparison, config.rules, strict=strict, if_missing=config.baseline.if_missing
    )
