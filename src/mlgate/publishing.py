"""Publishing one report (DESIGN §5 step 8, §8): job summary and outputs first, annotations, then images,
the sticky comment and the verdict on the head commit (a check run or a commit status), under one deadline.

A publishing failure is a warning: the verdict and the exit code stand, unless `require_publish` asks for
exit 3. Everything that leaves (files, posted bodies, messages) passes through the console's token mask.
The comment follows `comment.when` (always | change | regression | never; change and regression still
update a comment that is already there, so it never goes stale) and `comment.mode` (update: the sticky
comment; new: a new comment each run; once: create it once and never touch it again).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.ci import CiContext
from mlgate.config import Config
from mlgate.console import Console
from mlgate.errors import ForgeError, MlgateError
from mlgate.forge import Comment, Forge, StatusState
from mlgate.model import GateResult, Outcome, Verdict
from mlgate.record import Record

if TYPE_CHECKING:
    from mlgate.acceptance import Acceptance
    from mlgate.report import ReportInput

COMMENT_MARGIN = 512  # the sticky marker line with its run stamp, and GitLab's quick-action escapes
SUMMARY_MARGIN = 4096
_IMAGE_LINK = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"\n]*\")?\)")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
_REPORT_MARKER = re.compile(r"^<!-- mlgate:report id=[^ ]+ -->\n")
GITHUB_TOKEN_HINT = (
    "pass the token to the step (the action: its `token` input, `github.token` unless set; the CLI: "
    "`env: {GITHUB_TOKEN: ${{ github.token }}}`) and grant the job "
    "`permissions: {pull-requests: write, checks: write, statuses: write, contents: write}`"
)
GITLAB_TOKEN_HINT = (
    "set GITLAB_TOKEN (a project access token with the `api` scope) as a masked CI/CD variable; "
    "CI_JOB_TOKEN cannot write merge request notes or statuses"
)


class Publication(Record):
    """What goes out: the report (re-rendered per budget), its full Markdown, its folder and images."""

    markdown: str
    folder: Path
    head_sha: str | None
    report: ReportInput | None = None
    images: tuple[Path, ...] = ()
    template: Path | None = None
    report_id: str = "default"
    failed_run: bool = False
    acceptances: tuple[Acceptance, ...] = ()  # for this head SHA; stored at the end of the sticky comment
    workspace: Path | None = None  # the checkout: `report-path` is given relative to it

    @property
    def report_path(self) -> str:
        """report.md relative to the checkout when inside it: a container action's own path means nothing
        to the steps after it, the relative one does."""
        path = self.folder / "report.md"
        if self.workspace is not None and path.is_relative_to(self.workspace):
            return path.relative_to(self.workspace).as_posix()
        return str(path)


@dataclass
class PublishResult:
    """What publishing did; `problems` are the warnings it gave (empty: everything went out)."""

    comment_url: str | None = None
    comment_number: int | None = None
    status_state: StatusState | None = None
    verdict_kind: str | None = None  # "check run" | "status": how the verdict went out
    problems: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def open_forge(ci: CiContext, *, dry_run: bool, folder: Path, timeout: float = 10.0) -> Forge | None:
    """The forge to publish to: None for `--forge none`, a read-only fork token, or no usable token."""
    from mlgate.forge import GITHUB_COMMENT_LIMIT, GITLAB_COMMENT_LIMIT, connect

    if ci.forge == "none":
        return None
    if dry_run:
        from mlgate.forge.dryrun import DryRunForge

        limit = GITLAB_COMMENT_LIMIT if ci.forge == "gitlab" else GITHUB_COMMENT_LIMIT
        return DryRunForge(folder / "dry-run", comment_limit=limit)
    if ci.read_only_token or not usable_token(ci) or not ci.repo or not ci.api_url:
        return None
    assert ci.token is not None
    return connect(
        ci.forge, api_url=ci.api_url, token=ci.token, repo=ci.repo, timeout=timeout, bot_login=ci.bot_login
    )


def usable_token(ci: CiContext) -> bool:
    return ci.token is not None and ci.token_source != "CI_JOB_TOKEN"


def publish(
    pub: Publication,
    gate: GateResult,
    ci: CiContext,
    forge: Forge | None,
    config: Config,
    console: Console,
    *,
    deadline_s: float = 120.0,
    require_publish: bool = False,
) -> PublishResult:
    """Publish `pub` in DESIGN §5's order; raises ForgeError (exit 3) only when `require_publish` and a
    step failed."""
    run = _Publish(pub, gate, ci, forge, config, console, time.monotonic() + deadline_s)
    run.job_files()
    if forge is None:
        run.without_forge()
    else:
        urls = run.step("upload images", run.images)
        run.step("comment", lambda: run.comment(urls if isinstance(urls, dict) else {}))
        run.step("commit status", run.status)  # or the check run (commitcheck)
    run.last_outputs()
    problems = run.result.problems
    if require_publish and problems:
        raise ForgeError("--require-publish", f"{len(problems)} publishing step(s) failed: {problems[0]}")
    return run.result


@dataclass
class _Publish:
    pub: Publication
    gate: GateResult
    ci: CiContext
    forge: Forge | None
    config: Config
    console: Console
    deadline: float
    result: PublishResult = field(default_factory=PublishResult)
    urls: dict[Path, str] = field(default_factory=dict)  # uploaded images, for the comment and the check

    def problem(self, text: str, hint: str | None = None) -> None:
        message = f"publishing: {text}" + (f" (hint: {hint})" if hint else "")
        self.result.problems.append(self.console.mask(message))
        self.console.warn(message)

    def step(self, name: str, action: Callable[[], object], *, local: bool = False) -> object:
        """Run one step; a failure becomes a problem. Forge steps are skipped once the deadline passed."""
        if not local and time.monotonic() > self.deadline:
            self.problem(f"{name} skipped: the publish deadline passed")
            return None
        try:
            return action()
        except MlgateError as exc:
            where = f"{exc.where}: " if exc.where else ""
            self.problem(f"{name} failed: {where}{exc.what}", exc.hint)
            return None

    # ---- the CI job's own channels ------------------------------------------------------------------
    def job_files(self) -> None:
        from mlgate.ci import github_actions

        if self.ci.step_summary is not None and self.pub.report is not None:
            self.step("job summary", self.summary, local=True)
        if self.ci.output is not None:
            path = self.ci.output
            outputs = {"verdict": self.verdict, "report-path": self.pub.report_path}
            self.step("step outputs", lambda: github_actions.write_outputs(path, outputs), local=True)
        if self.ci.provider == "github-actions":
            self.annotate()
        if self.ci.forge == "gitlab" or self.ci.provider == "gitlab-ci":
            self.step("GitLab reports", self.gitlab_reports, local=True)

    @property
    def verdict(self) -> str:
        return "error" if self.pub.failed_run else self.gate.outcome.value

    def summary(self) -> None:
        from mlgate.ci.github_actions import SUMMARY_LIMIT, append_summary

        assert self.ci.step_summary is not None
        assert self.pub.report is not None
        report = replace(self.pub.report, plots=(), full_report_url=self.ci.run_url)
        limit = SUMMARY_LIMIT - SUMMARY_MARGIN
        text = self.render(report, limit, {})
        while len(text.encode()) > SUMMARY_LIMIT - SUMMARY_MARGIN:
            limit = int(limit * 0.9 * limit / len(text.encode()))
            text = self.render(report, limit, {})
        append_summary(self.ci.step_summary, text)
        self.result.written.append(self.ci.step_summary)

    def annotate(self) -> None:
        from mlgate.ci.github_actions import annotation_lines

        title = self.config.status.name
        errors = [f"{r.name}: {r.verdict.value}: {r.reason}" for r in self.gate.failures]
        warnings = [f"{r.name}: {r.verdict.value}: {r.reason}" for r in self.gate.warnings]
        for line in annotation_lines("error", errors, title) + annotation_lines("warning", warnings, title):
            self.console.print(line)

    def gitlab_reports(self) -> None:
        from mlgate.gitlab_reports import write_gitlab_reports

        self.result.written += write_gitlab_reports(self.gate, self.pub.folder)

    def last_outputs(self) -> None:
        from mlgate.ci import github_actions

        if self.ci.output is not None:
            path = self.ci.output
            outputs = {"comment-url": self.result.comment_url or ""}
            self.step("step outputs", lambda: github_actions.write_outputs(path, outputs), local=True)

    def without_forge(self) -> None:
        if self.ci.forge == "none" or self.ci.read_only_token:
            return
        if not usable_token(self.ci):
            hint = GITLAB_TOKEN_HINT if self.ci.forge == "gitlab" else GITHUB_TOKEN_HINT
            self.problem(f"no token to publish to {self.ci.forge}: no comment and no status", hint)
        else:
            self.problem(f"the repository or API URL of {self.ci.forge} is unknown: nothing posted")

    # ---- the forge ------------------------------------------------------------------------------------
    def images(self) -> dict[Path, str]:
        assert self.forge is not None
        urls: dict[Path, str] = {}
        for path in self.pub.images:
            if time.monotonic() > self.deadline:
                self.problem(f"upload {path.name} skipped: the publish deadline passed")
                break
            urls[path] = self.forge.upload_image(path)
        self.urls = urls
        return urls

    def render(self, report: ReportInput, limit: int, urls: dict[Path, str]) -> str:
        from mlgate.report import render_markdown

        return self.console.mask(
            render_markdown(report, max_chars=limit, image_urls=urls, template=self.pub.template)
        )

    def body(self, urls: dict[Path, str]) -> str:
        assert self.forge is not None
        if self.pub.report is None:
            return self.console.mask(self.pub.markdown)
        report = replace(self.pub.report, full_report_url=self.ci.run_url)
        data = self.acceptance_data()
        limit = self.forge.comment_limit - COMMENT_MARGIN - len(data)
        return _REPORT_MARKER.sub("", self.render(report, limit, urls)) + data

    def acceptance_data(self) -> str:
        from mlgate.acceptance import render_data

        return "\n\n" + render_data(self.pub.acceptances) if self.pub.acceptances else ""

    def comment(self, urls: dict[Path, str]) -> None:
        number = self.change_number()
        if number is None or self.config.comment.when == "never":
            self.console.info(
                "no PR/MR for this run: no comment" if number is None else "comment.when: never"
            )
            return
        kept = post_comment(
            self.forge,  # type: ignore[arg-type]
            number,
            self.body(urls),
            report_id=self.pub.report_id,
            stamp=run_stamp(self.ci),
            mode=self.config.comment.mode,
            wanted=self.wanted,
        )
        if kept is not None:
            self.result.comment_number = number
            self.result.comment_url = self.forge.comment_url(number, kept.id)  # type: ignore[union-attr]

    def wanted(self) -> bool:
        """Whether `comment.when` asks for a comment now (an existing one is updated regardless)."""
        when, gate = self.config.comment.when, self.gate
        if when == "always" or self.pub.failed_run:
            return True
        if when == "regression":
            return not gate.passed or bool(gate.warnings)
        changed = any(r.verdict is not Verdict.UNCHANGED for r in gate.results)
        params = self.pub.report is not None and bool(self.pub.report.comparison.param_changes)
        return changed or params or gate.outcome is Outcome.NO_BASELINE

    def change_number(self) -> int | None:
        if self.ci.number is not None:
            return self.ci.number
        if self.ci.event not in ("push", "local") or self.ci.is_default_branch or not self.ci.head_sha:
            return None
        assert self.forge is not None
        return self.forge.find_change_for_sha(self.ci.head_sha)

    def status(self) -> None:
        """The verdict on the head commit: a check run with the report, or a commit status (commitcheck)."""
        from mlgate.commitcheck import head_verdict, send_verdict

        assert self.forge is not None
        sha = self.ci.head_sha or self.pub.head_sha
        if sha is None:
            self.problem("no commit to set the status on")
            return
        verdict = head_verdict(self.gate, self.config.status, self.pub.failed_run, self.pub.acceptances)
        verdict = replace(verdict, text=self.console.mask(verdict.text))
        target = self.result.comment_url if _is_web(self.result.comment_url) else self.ci.run_url
        self.result.verdict_kind = send_verdict(
            self.forge, sha, verdict, self.config.status, summary=self.check_summary,
            details_url=self.ci.run_url if _is_web(self.ci.run_url) else target, status_url=target,
            info=self.console.info,
        )  # fmt: skip
        self.result.status_state = verdict.state

    def check_summary(self, limit: int) -> str:
        """The report as a check run's summary: `limit` characters, no sticky marker, the plots linked."""
        if self.pub.report is None:
            return self.console.mask(self.pub.markdown)
        report = replace(self.pub.report, full_report_url=self.ci.run_url)
        return _REPORT_MARKER.sub("", self.render(report, limit, self.urls))


def post_comment(
    forge: Forge,
    number: int,
    body: str,
    *,
    report_id: str,
    stamp: str,
    mode: str,
    wanted: Callable[[], bool] = lambda: True,
) -> Comment | None:
    """Post `body` by `mode` (update | new | once); None when policy said no (or `once` found one)."""
    from mlgate.forge.sticky import find_sticky_comments, render_marker, upsert_sticky_comment

    if mode == "new":
        return (
            forge.create_comment(number, render_marker(report_id, stamp) + "\n" + body) if wanted() else None
        )
    want = wanted()
    if mode == "once" or not want:
        existing = find_sticky_comments(forge, number, report_id)
        if (mode == "once" and existing) or not (want or existing):
            return None
    return upsert_sticky_comment(forge, number, body, report_id, run_stamp=stamp)


def run_stamp(ci: CiContext, now: datetime | None = None) -> str:
    """`<UTC time>/<run>.<attempt>`: a later run of the same change sorts after an earlier one."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    parts = [p for p in (ci.run_id, ci.run_attempt) if p and p.isdigit()]
    return f"{moment}/{'.'.join(parts)}" if parts else moment


def local_images(markdown: str, root: Path) -> list[Path]:
    """The local image files a Markdown text links (`![x](plots/a.png)`), inside `root` only."""
    found: list[Path] = []
    top = root.resolve()
    for match in _IMAGE_LINK.finditer(markdown):
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", target, re.IGNORECASE):
            continue
        path = (root / target).resolve()
        wanted = path.suffix.lower() in _IMAGE_SUFFIXES and path.is_relative_to(top)
        if wanted and path.is_file() and path not in found:
            found.append(path)
    return found


def relink(markdown: str, urls: dict[Path, str], root: Path) -> str:
    """`markdown` with each image link to an uploaded file (keyed by resolved path) pointing at its URL."""

    def swap(match: re.Match[str]) -> str:
        url = urls.get((root / match["target"]).resolve())
        return f"![{match['alt']}]({url}{match['title'] or ''})" if url else match[0]

    return _IMAGE_LINK.sub(swap, markdown)


def _is_web(url: str | None) -> bool:
    return bool(url and url.startswith(("http://", "https://")))
