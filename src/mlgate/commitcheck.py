"""The gate's verdict on the head commit: a GitHub check run carrying the report where the token may create
one, a commit status otherwise, either named `status.name` (the check a branch protection rule requires).

# NOTE: one kind per run. Branch protection matches a required check by name against commit statuses and
check runs alike, so a run that set both could leave a failing status beside a green check run after an
acceptance. So each run sends exactly one object: a check run when `status.check_run: auto`, the forge has
check runs (GitHub) and the token may create them (forge/github_checks.py: the token's kind, or a 403 on the
first try); a commit status otherwise. `/mlgate accept` publishes through the same code with the same kind
of token, so it adds a new check run of the same name on the same head SHA (GitHub then shows the newest
check run of a name), or a new status for the same context (a status is replaced by context).
A check-run create that failed without a definite answer (5xx, reset) is not followed by a status: it may
have been stored (DESIGN §8, no blind retry), and two objects could disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from mlgate.forge import CHECK_SUMMARY_LIMIT, CheckConclusion, CheckForge, CheckReport, ChecksUnavailableError
from mlgate.model import Outcome
from mlgate.record import Record

if TYPE_CHECKING:
    from mlgate.acceptance import Acceptance
    from mlgate.config import StatusConfig
    from mlgate.forge import Forge, StatusState
    from mlgate.model import GateResult

CHECK_MARGIN = 1024  # bytes kept free below the Checks API's limit for the renderer's estimate
_CUT_NOTE = "\n\n… the report is cut here to fit the check run; the full report is in the CI job."
MarkKind = Literal["check run", "status"]


class HeadVerdict(Record):
    """What the head commit is told: `passed` (the gate, or an acceptance), `informational`, one line."""

    passed: bool
    informational: bool
    text: str

    @property
    def state(self) -> StatusState:
        return "success" if self.passed or self.informational else "failure"

    @property
    def conclusion(self) -> CheckConclusion:
        """An informational gate that did not pass is neutral: shown, never blocking."""
        if self.passed:
            return "success"
        return "neutral" if self.informational else "failure"


def head_verdict(
    gate: GateResult, status: StatusConfig, failed_run: bool, acceptances: Sequence[Acceptance]
) -> HeadVerdict:
    """The verdict of `gate` for the head commit: accepted regressions pass, naming who accepted them."""
    from mlgate import acceptance

    accepted = not failed_run and acceptance.covers(acceptances, gate)
    text = acceptance.status_text(acceptances, gate) if accepted else status_text(gate, failed_run)
    prefix = "informational: " if status.informational else ""
    passed = accepted or (gate.passed and not failed_run)
    return HeadVerdict(passed, status.informational, prefix + text)


def status_text(gate: GateResult, failed_run: bool) -> str:
    """The one-line status description (the forge cuts it to 140 characters)."""
    if failed_run:
        return "training failed: see the report"
    failing, warnings = gate.failures, gate.warnings
    if failing:
        names = ", ".join(r.name for r in failing[:3]) + (" …" if len(failing) > 3 else "")
        return f"fail: {len(failing)} regression{'s' * (len(failing) != 1)} ({names})"
    if gate.outcome is Outcome.NO_BASELINE:
        return "pass: no baseline to compare with"
    gated = sum(1 for r in gate.results if r.gated)
    extra = f", {len(warnings)} warning{'s' * (len(warnings) != 1)}" if warnings else ""
    return f"pass: {gated} gated metric{'s' * (gated != 1)} within tolerance{extra}"


def send_verdict(
    forge: Forge,
    sha: str,
    verdict: HeadVerdict,
    status: StatusConfig,
    *,
    summary: Callable[[int], str],
    details_url: str | None,
    status_url: str | None,
    info: Callable[[str], None],
) -> MarkKind:
    """Send `verdict` as a check run (its summary `summary(limit)`) or a commit status; says which."""
    if status.check_run == "auto" and isinstance(forge, CheckForge) and forge.may_create_checks():
        check = CheckReport(
            name=status.name,
            conclusion=verdict.conclusion,
            title=verdict.text,
            summary=budget_summary(summary),
            details_url=details_url,
        )
        try:
            forge.create_check_run(sha, check)
            return "check run"
        except ChecksUnavailableError as exc:
            info(f"{exc.what}: the verdict goes out as a commit status (hint: {exc.hint})")
    forge.set_status(sha, verdict.state, verdict.text, status.name, status_url)
    return "status"


def budget_summary(render: Callable[[int], str], limit: int = CHECK_SUMMARY_LIMIT - CHECK_MARGIN) -> str:
    """`render(max_chars)` re-rendered smaller until its UTF-8 fits `limit` bytes (the verdict and the
    link to the full report are what the renderer keeps last); a text that still does not fit is cut at a
    line."""
    chars = limit
    text = render(chars)
    for _ in range(5):
        size = len(text.encode())
        if size <= limit:
            return text
        chars = int(chars * 0.9 * limit / size)
        text = render(chars)
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    if len(text.encode()) <= limit:
        return text
    head = text.encode()[: limit - len(_CUT_NOTE.encode())].decode(errors="ignore")
    return head.rsplit("\n", 1)[0] + _CUT_NOTE
