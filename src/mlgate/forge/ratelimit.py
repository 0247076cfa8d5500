"""Capped rate-limit waits: sleep out a short `Retry-After`, give up at once on a long one.

Both libraries would otherwise sleep as long as the server asks: urllib3's Retry honours any `Retry-After`
(PyGithub), and python-gitlab's `obey_rate_limit` sleeps `Retry-After` seconds up to 10 times. A CI job that
sleeps an hour for a comment is worse than one that skips the comment with a warning, so both forges turn
the libraries' waiting off and wrap each call in `call_with_capped_wait`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import field
from typing import TypeVar

from mlgate.record import Record

T = TypeVar("T")


class RateLimitPolicy(Record):
    """Wait at most `max_wait` seconds per rate-limited response, and try at most `attempts` times in all."""

    max_wait: float = 10.0
    attempts: int = 3
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def call_with_capped_wait(
    call: Callable[[], T], wait_of: Callable[[Exception], float | None], policy: RateLimitPolicy
) -> T:
    """`call()`, repeated after a rate-limit answer whose wait (`wait_of(exc)`) is within the cap.

    `wait_of` returns None for an error that is not a rate limit; such errors propagate at once, as does a
    rate limit that asks for longer than `policy.max_wait` or the last attempt's.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            wait = wait_of(exc)
            if wait is None or wait > policy.max_wait or attempt == policy.attempts:
                raise
            policy.sleep(max(wait, 0.0))
    raise AssertionError("unreachable")  # pragma: no cover


def seconds_until(reset_epoch: str | None, now: float | None = None) -> float | None:
    """Seconds from now until the epoch time in a `X-RateLimit-Reset`-style header, or None if absent."""
    if reset_epoch is None:
        return None
    try:
        return max(float(reset_epoch) - (time.time() if now is None else now), 0.0)
    except ValueError:
        return None


def parse_retry_after(value: str | None) -> float | None:
    """The seconds of a `Retry-After: N` header (the HTTP-date form is not used by GitHub or GitLab)."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
