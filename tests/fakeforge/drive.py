"""Driving the fake forge from tests: its seeded names, forges pointed at it, and concurrent runs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from mlgate.forge.github import GitHubForge
from mlgate.forge.gitlab import GitLabForge
from tests.fakeforge import FakeForge

GITHUB_REPO = "octo/demo"
GITLAB_PROJECT = "group/demo"
GITLAB_PROJECT_ID = 7
HEAD_SHA = "ab" * 20
PR = 5
MR = 3


def make_github_forge(
    fake: FakeForge, token: str = FakeForge.GITHUB_BOT_TOKEN, **options: object
) -> GitHubForge:
    return GitHubForge(api_url=fake.github_api_url, token=token, repo=GITHUB_REPO, **options)  # type: ignore[arg-type]


def make_gitlab_forge(
    fake: FakeForge, token: str = FakeForge.GITLAB_BOT_TOKEN, project: str = GITLAB_PROJECT, **options: object
) -> GitLabForge:
    return GitLabForge(url=fake.gitlab_url, token=token, project=project, **options)  # type: ignore[arg-type]


def run_concurrently(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run `calls` in threads released together by a barrier; returns what they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # reported to the test, which asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
