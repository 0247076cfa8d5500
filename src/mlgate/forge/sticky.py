"""The sticky comment: one comment per (PR, report id), found by its hidden marker and the bot's own author.

The same rules hold on any CommentThread (`upsert_sticky_thread`): an issue, or a commit.

The marker is the body's first line: `<!-- mlgate:report id=default run=2026-12-03T08:00:00Z/123 -->`. The
run stamp is `<ISO-8601 time>/<run>` (`run` an integer or dotted integers, e.g. `123.2` for a re-run attempt);
a comment is only ever overwritten by a newer run.

Rules (DESIGN §8): only comments that carry our marker AND are authored by `forge.bot_identity()` are ours; no
one else's comment is edited or deleted, even one that copies the marker. Every page is searched. A create is
never retried blindly: when its outcome is unknown (a 502 that was in fact stored) the comments are re-listed
first. After any create, the comments are re-listed, the lowest id is kept and the bot's extras are deleted.
After an update the result is read back, so concurrent runs settle on the newest run's body.

NOTE: neither forge has a conditional update (no If-Match on comment PATCH/PUT), so two runs that update at
the same instant can still race. The writer reads back after a short settle delay (twice its write's round
trip, at least 50 ms) and rewrites if an older run overtook it, which closes the window for any older write
that was in flight; an older write delayed longer than that still wins until the next run heals it.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from mlgate.errors import ForgeError
from mlgate.forge import ChangeThread, Comment, CommentThread, Forge, UncertainWriteError
from mlgate.record import Record

_MARKER = re.compile(r"<!-- mlgate:report id=(?P<id>[A-Za-z0-9._-]+) run=(?P<run>\S+) -->")
_REPORT_ID = re.compile(r"[A-Za-z0-9._-]+")
_SETTLE_ROUNDS = 3
_SETTLE_MIN_S = 0.05
_SETTLE_MAX_S = 1.0

StampKey = tuple[datetime, tuple[int, ...]]


def render_marker(report_id: str, run_stamp: str) -> str:
    """The hidden first line of a sticky comment."""
    if not _REPORT_ID.fullmatch(report_id):
        raise ValueError(f"report id {report_id!r} must match [A-Za-z0-9._-]+")
    stamp_key(run_stamp)
    return f"<!-- mlgate:report id={report_id} run={run_stamp} -->"


def parse_marker(body: str) -> tuple[str, str] | None:
    """(report id, run stamp) of the first marker in `body`, or None."""
    found = _MARKER.search(body)
    return (found["id"], found["run"]) if found else None


def stamp_key(run_stamp: str) -> StampKey:
    """A sortable key of a run stamp; raises ValueError when the stamp is not `<ISO time>[/<run>]`."""
    when, _, run = run_stamp.partition("/")
    moment = datetime.fromisoformat(when)
    if moment.tzinfo is None:
        raise ValueError(f"run stamp {run_stamp!r} needs a UTC offset (…Z)")
    return moment, tuple(int(part) for part in run.split(".")) if run else ()


def upsert_sticky_comment(
    forge: Forge, number: int, body: str, marker: str, *, run_stamp: str, settle_s: float | None = None
) -> Comment:
    """Create or update the one comment of report `marker` on PR/MR `number`; returns the comment kept.

    `body` may or may not start with a marker line already; it is replaced by the canonical one. A body over
    `forge.comment_limit` is a ForgeError before any request: the caller budgets the report first.
    `settle_s` fixes the read-back delay after an update (default: twice the update's round trip, ≥ 50 ms).
    """
    thread = ChangeThread(forge, number)
    return upsert_sticky_thread(thread, body, marker, run_stamp=run_stamp, settle_s=settle_s)


def upsert_sticky_thread(
    thread: CommentThread, body: str, marker: str, *, run_stamp: str, settle_s: float | None = None
) -> Comment:
    """`upsert_sticky_comment` on any CommentThread: a PR/MR, an issue, or a commit."""
    full = _with_marker(body, marker, run_stamp)
    if len(full) > thread.comment_limit:
        raise ForgeError(
            f"comment on {thread.label}",
            f"body is {len(full):,} characters, over the forge's limit of {thread.comment_limit:,}",
            hint="render the report with the forge's budget before publishing",
        )
    run = _StickyRun(thread, _bot_of(thread), marker, full, settle_s)
    ours = run.listing()
    if not ours:
        created = run.create()
        ours = _merge(run.listing(), created)
    ours = run.settle(ours)
    run.delete_superseded(ours)
    return ours[0]


def find_sticky_comments(forge: Forge, number: int, report_id: str) -> list[Comment]:
    """The bot's comments of report `report_id` on PR/MR `number` (every page), lowest id first."""
    thread = ChangeThread(forge, number)
    return _StickyRun(thread, _bot_of(thread), report_id, "", None).listing()


def _bot_of(thread: CommentThread) -> str:
    bot = thread.bot_identity()
    if bot is None:
        raise ForgeError(f"comment on {thread.label}", "cannot tell which comments are the bot's own")
    return bot


def _with_marker(body: str, report_id: str, run_stamp: str) -> str:
    lines = body.split("\n")
    while lines and _MARKER.fullmatch(lines[0].strip()):
        lines.pop(0)
    return "\n".join([render_marker(report_id, run_stamp), *lines])


def _merge(listed: list[Comment], created: Comment) -> list[Comment]:
    """The listing plus our new comment, which a lagging listing may not show yet."""
    if all(comment.id != created.id for comment in listed):
        listed = [*listed, created]
    return sorted(listed, key=lambda comment: comment.id)


class _StickyRun(Record):
    """One upsert: who we are, where we post, and the full body (marker line first) we want there."""

    thread: CommentThread
    bot: str
    report_id: str
    full: str
    settle_s: float | None

    @property
    def key(self) -> StampKey | tuple[()]:
        return _key_of(self.full)

    def listing(self) -> list[Comment]:
        """Our comments (marker AND author), every page, lowest id first."""
        mine = []
        for comment in self.thread.list_comments():
            found = parse_marker(comment.body)
            if comment.author == self.bot and found is not None and found[0] == self.report_id:
                mine.append(comment)
        return sorted(mine, key=lambda comment: comment.id)

    def create(self) -> Comment:
        """Create once; when the outcome is unknown, look before creating again (never a blind retry)."""
        try:
            return self.thread.create_comment(self.full)
        except UncertainWriteError:
            stored = [c for c in self.listing() if _key_of(c.body) == self.key]
            return stored[0] if stored else self.thread.create_comment(self.full)

    def settle(self, ours: list[Comment]) -> list[Comment]:
        """Write our body into the lowest-id comment unless a run as new or newer is there or on its way.

        Only a run that sees itself as the newest writes, and it reads back after the settle delay: an older
        run that overwrote it meanwhile is overwritten again. Returns the last listing of our comments.
        """
        for _ in range(_SETTLE_ROUNDS):
            keep_key, newest = _key_of(ours[0].body), max(_key_of(c.body) for c in ours)
            if keep_key >= self.key or newest > self.key:
                return ours
            started = time.monotonic()
            self.thread.update_comment(ours[0].id, self.full)
            time.sleep(self._delay(time.monotonic() - started))
            ours = self.listing()
            if not ours:
                raise ForgeError(
                    f"comment on {self.thread.label}", "the sticky comment disappeared during the update"
                )
        return ours

    def _delay(self, round_trip: float) -> float:
        if self.settle_s is not None:
            return self.settle_s
        return min(max(2 * round_trip, _SETTLE_MIN_S), _SETTLE_MAX_S)

    def delete_superseded(self, ours: list[Comment]) -> None:
        """Delete the bot's extras whose run another comment carries (newer, or the same with a lower id).

        The lowest id is kept; an extra holding the newest run stays until that run has moved it into the
        kept comment, so a concurrent newer run's report is never lost to a deletion.
        """
        ranked = [(_key_of(c.body), -c.id, c) for c in ours]
        for key, rank, extra in ranked[1:]:
            if any((other_key, other_rank) > (key, rank) for other_key, other_rank, _ in ranked):
                self.thread.delete_comment(extra.id)


def _key_of(body: str) -> StampKey | tuple[()]:
    found = parse_marker(body)
    if found is None:
        return ()
    try:
        return stamp_key(found[1])
    except ValueError:
        return ()
