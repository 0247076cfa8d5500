"""pytest fixtures around the fake forge: a started server with one GitHub repo and one GitLab project.

A test module loads them with `pytest_plugins = ["tests.fakeforge.fixtures"]` (and imports nothing from
here, so pytest can rewrite the asserts of this plugin module); constants and factories are in `drive`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlgate.forge.github import GitHubForge
from mlgate.forge.gitlab import GitLabForge
from tests.fakeforge import FakeForge
from tests.fakeforge.drive import (
    GITHUB_REPO,
    GITLAB_PROJECT,
    GITLAB_PROJECT_ID,
    HEAD_SHA,
    MR,
    PR,
    make_github_forge,
    make_gitlab_forge,
)


@pytest.fixture
def fake_forge() -> Iterator[FakeForge]:
    """A running fake forge with `octo/demo` (PR #5 at HEAD_SHA) and `group/demo` (!3 at HEAD_SHA)."""
    with FakeForge() as fake:
        fake.github.add_repo(GITHUB_REPO)
        fake.github.add_pull(GITHUB_REPO, PR, HEAD_SHA)
        fake.gitlab.add_project(GITLAB_PROJECT, GITLAB_PROJECT_ID)
        fake.gitlab.add_mr(GITLAB_PROJECT, MR, HEAD_SHA)
        yield fake


@pytest.fixture
def github_forge(fake_forge: FakeForge) -> GitHubForge:
    """A GitHubForge for `octo/demo` authenticated as the bot `mlgate-bot`."""
    return make_github_forge(fake_forge)


@pytest.fixture
def gitlab_forge(fake_forge: FakeForge) -> GitLabForge:
    """A GitLabForge for `group/demo` authenticated as the bot `mlgate-bot`."""
    return make_gitlab_forge(fake_forge)
