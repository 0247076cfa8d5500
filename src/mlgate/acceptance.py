"""Acceptances of regressions by maintainers (`/mlgate accept`): records bound to one head SHA, stored as
machine-readable data at the very end of the bot's own sticky comment, read back only from that comment.

    <!-- mlgate:acceptance {"v":1,"records":[{"sha":"…","by":"bob","reason":"…","metrics":["acc"]}]} -->

Trust: only the comment that carries the sticky marker AND is authored by the bot (forge/sticky.py's filter)
is read, and only its last line: a forged comment by someone else, or a metric name or parameter value
quoted earlier in the report, is never taken for acceptance data. A record counts only for its own SHA, so
a new push is gated afresh.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlgate.errors import ForgeError
from mlgate.record import Record

if TYPE_CHECKING:
    from mlgate.config import ChatopsConfig
    from mlgate.forge import Forge
    from mlgate.forge.gitlab import GitLabForge
    from mlgate.model import GateResult

REASON_LIMIT = 300
_ESCAPED_DASHES = "-\\u002d"  # JSON for "--": the same string, but it cannot end the HTML comment
GITLAB_ACCESS = {"write": 30, "maintain": 40, "admin": 50}  # Developer, Maintainer, Owner
_DATA = re.compile(r"<!-- mlgate:acceptance (?P<json>\{.*\}) -->")


class Acceptance(Record):
    """`by` accepted the regressions of `metrics` on commit `sha`, saying `reason`, at `at` (UTC)."""

    sha: str
    by: str
    reason: str
    metrics: tuple[str, ...]
    at: str

    @property
    def credit(self) -> str:
        return f"@{self.by}" + (f": {self.reason}" if self.reason else "")


def banners(records: Sequence[Acceptance]) -> list[str]:
    """The report's one banner line for the acceptances of a head SHA ([] when there are none)."""
    if not records:
        return []
    credits = " · ".join(record.credit for record in records)
    named = ", ".join(f"`{name}`" for name in sorted(accepted_metrics(records)))
    return [f"Accepted by {credits} (still regressed: {named}; for {records[0].sha[:12]} only)"]


def render_data(records: Sequence[Acceptance]) -> str:
    """The hidden line to end the sticky comment with; `--` is escaped so the HTML comment cannot close."""
    data = {"v": 1, "records": [_as_json(record) for record in records]}
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("--", _ESCAPED_DASHES)
    return f"<!-- mlgate:acceptance {text} -->"


def parse_data(body: str) -> list[Acceptance]:
    """The records in the last line of `body`; [] when that line is not our data (or is malformed)."""
    last = body.rstrip().rsplit("\n", 1)[-1].strip()
    found = _DATA.fullmatch(last)
    if found is None:
        return []
    try:
        data = json.loads(found["json"])
    except ValueError:
        return []
    items = data.get("records") if isinstance(data, dict) else None
    return [record for item in items or [] if (record := _from_json(item)) is not None]


def read_acceptances(forge: Forge, number: int, sha: str, report_id: str = "default") -> list[Acceptance]:
    """The acceptances for `sha` in the bot's sticky comment of report `report_id` on PR `number`."""
    from mlgate.forge.sticky import find_sticky_comments

    ours = find_sticky_comments(forge, number, report_id)
    return [record for record in parse_data(ours[0].body) if record.sha == sha] if ours else []


def read_or_warn(forge: Forge, number: int, sha: str, warn: Any) -> list[Acceptance]:
    """read_acceptances, where a forge failure is a warning (the run is gated without acceptances)."""
    try:
        return read_acceptances(forge, number, sha)
    except ForgeError as exc:
        warn(f"cannot read acceptances from the sticky comment: {exc.what}")
        return []


def resolve(records: Sequence[Acceptance], gate: GateResult) -> list[Acceptance]:
    """Records as they apply to `gate`: no names means every failing metric; names that did not fail are
    dropped, and so is a record left with none."""
    failing = [result.name for result in gate.failures]
    kept = []
    for record in records:
        names = tuple(n for n in record.metrics if n in failing) if record.metrics else tuple(failing)
        if names:
            kept.append(Acceptance(record.sha, record.by, record.reason, names, record.at))
    return kept


def merge(earlier: Sequence[Acceptance], later: Sequence[Acceptance]) -> list[Acceptance]:
    """One record per person, the later one winning."""
    newer = {record.by for record in later}
    return [*[record for record in earlier if record.by not in newer], *later]


def note_acceptances(
    forge: GitLabForge, number: int, sha: str, chatops: ChatopsConfig, warn: Any
) -> list[Acceptance]:
    """`/mlgate accept` notes on GitLab MR `number` written after head `sha` was pushed (the MR versions API
    says when), by members with at least Developer access (Maintainer/Owner per `chatops.min_permission`)."""
    from mlgate.chatops import parse_command

    author, head, pushed = forge.merge_request_head(number)
    if head != sha or pushed is None:
        return []
    found: list[Acceptance] = []
    for note in forge.list_comments(number):
        command = parse_command(note.body)
        if command is None or command.kind != "accept" or _moment(note.created_at) <= _moment(pushed):
            continue
        if note.author == author and not chatops.allow_self_accept:
            warn(f"ignored /mlgate accept by @{note.author}: the MR author cannot accept their own MR")
        elif forge.access_level_of(note.author) < GITLAB_ACCESS[chatops.min_permission]:
            warn(f"ignored /mlgate accept by @{note.author}: access below chatops.min_permission")
        else:
            reason = command.reason[:REASON_LIMIT]
            found = merge(found, [Acceptance(sha, note.author, reason, command.args, note.created_at)])
    return found


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def accepted_metrics(records: Sequence[Acceptance]) -> set[str]:
    return {name for record in records for name in record.metrics}


def covers(records: Sequence[Acceptance], gate: GateResult) -> bool:
    """Whether every failing metric of `gate` has been accepted (and there is at least one failure)."""
    failing = {result.name for result in gate.failures}
    return bool(failing) and bool(records) and failing <= accepted_metrics(records)


def status_text(records: Sequence[Acceptance], gate: GateResult) -> str:
    """The commit status description of an accepted gate: who accepted what."""
    who = ", ".join(dict.fromkeys(f"@{record.by}" for record in records))
    failing = [result.name for result in gate.failures]
    names = ", ".join(failing[:3]) + (" …" if len(failing) > 3 else "")
    return f"accepted by {who}: {len(failing)} regression{'s' * (len(failing) != 1)} ({names})"


def _as_json(record: Acceptance) -> dict[str, Any]:
    return {
        "sha": record.sha,
        "by": record.by,
        "reason": record.reason[:REASON_LIMIT],
        "metrics": list(record.metrics),
        "at": record.at,
    }


def _from_json(item: Any) -> Acceptance | None:
    if not isinstance(item, dict):
        return None
    fields = [item.get(key) for key in ("sha", "by", "reason", "at")]
    metrics = item.get("metrics")
    if not all(isinstance(value, str) for value in fields) or not isinstance(metrics, list):
        return None
    if not all(isinstance(name, str) for name in metrics):
        return None
    sha, by, reason, at = (str(value) for value in fields)
    return Acceptance(sha=sha, by=by, reason=reason, metrics=tuple(metrics), at=at)
