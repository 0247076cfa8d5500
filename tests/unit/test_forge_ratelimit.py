"""Capped rate-limit waits: short waits are slept, long ones give up at once, other errors pass through."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlgate.forge.ratelimit import RateLimitPolicy, call_with_capped_wait, parse_retry_after, seconds_until


class Limited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait


def wait_of(exc: Exception) -> float | None:
    return exc.wait if isinstance(exc, Limited) else None


def flaky(answers: list[Exception | str]) -> Callable[[], str]:
    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return call


def test_call_sleeps_a_short_wait_and_retries_when_rate_limited() -> None:
    slept: list[float] = []
    policy = RateLimitPolicy(max_wait=10, sleep=slept.append)

    result = call_with_capped_wait(flaky([Limited(2.0), "ok"]), wait_of, policy)

    assert (result, slept) == ("ok", [2.0])


def test_call_gives_up_without_sleeping_when_the_wait_is_over_the_cap() -> None:
    slept: list[float] = []

    with pytest.raises(Limited):
        call_with_capped_wait(
            flaky([Limited(3600), "ok"]),
            wait_of,
            RateLimitPolicy(max_wait=10, sleep=slept.append),
        )
    assert slept == []


def test_call_stops_after_the_last_attempt_when_the_limit_persists() -> None:
    slept: list[float] = []
    answers: list[Exception | str] = [Limited(1), Limited(1), Limited(1), "late"]

    with pytest.raises(Limited):
        call_with_capped_wait(flaky(answers), wait_of, RateLimitPolicy(attempts=3, sleep=slept.append))
    assert slept == [1, 1]


def test_call_passes_other_errors_through_at_once_when_they_are_not_rate_limits() -> None:
    with pytest.raises(KeyError):
        call_with_capped_wait(flaky([KeyError("x"), "ok"]), wait_of, RateLimitPolicy())


def test_header_parsers_read_seconds_and_reset_epochs_when_present_or_valid() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after(None) is None
    assert seconds_until("1000", now=990.0) == 10.0
    assert seconds_until("900", now=990.0) == 0.0
    assert seconds_until("soon") is None
    assert seconds_until(None) is None
