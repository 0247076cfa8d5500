"""A stateful fake GitHub + GitLab on 127.0.0.1 for tests: real PyGithub and python-gitlab talk to it.

    with FakeForge() as fake:
        fake.github.add_repo("octo/demo")
        forge = GitHubForge(api_url=fake.github_api_url, token=fake.GITHUB_BOT_TOKEN, repo="octo/demo")

Faults (`fake.inject(Fault.error_after("POST", r"/comments$"))`) and the request log (`fake.log`,
`fake.writes()`) are what tests assert on. The log stores which user a token belongs to, never the token.
"""

from __future__ import annotations

import threading
from types import TracebackType

from tests.fakeforge.github_api import FakeGitHub
from tests.fakeforge.gitlab_api import FakeGitLab
from tests.fakeforge.server import FakeForgeServer, Fault, RequestRecord, TokenInfo

__all__ = ["FakeForge", "Fault", "RequestRecord", "TokenInfo"]


class FakeForge:
    """Starts the server on a free loopback port; use as a context manager (or the `fake_forge` fixture)."""

    GITHUB_BOT_TOKEN = "ghp_fakeBotToken0000000000000000000000"
    GITHUB_ACTIONS_TOKEN = "ghs_fakeActionsToken000000000000000000"
    GITHUB_ALICE_TOKEN = "ghp_fakeAliceToken00000000000000000000"
    GITHUB_READONLY_TOKEN = "ghs_fakeReadOnlyToken0000000000000000"
    GITLAB_BOT_TOKEN = "glpat-fakeBotToken000000"
    GITLAB_ALICE_TOKEN = "glpat-fakeAliceToken0000"
    GITLAB_READONLY_TOKEN = "glpat-fakeReadOnly00000"
    GITLAB_JOB_TOKEN = "glcbt-fakeJobToken00000"

    def __init__(self) -> None:
        self.github = FakeGitHub()
        self.gitlab = FakeGitLab()
        self.tokens = {
            self.GITHUB_BOT_TOKEN: TokenInfo("mlgate-bot", 11),
            self.GITHUB_ACTIONS_TOKEN: TokenInfo("github-actions[bot]", 41898282, read_user=False, app=True),
            self.GITHUB_ALICE_TOKEN: TokenInfo("alice", 12),
            self.GITHUB_READONLY_TOKEN: TokenInfo(
                "github-actions[bot]", 41898282, read_user=False, write=False, app=True
            ),
            self.GITLAB_BOT_TOKEN: TokenInfo("mlgate-bot", 21),
            self.GITLAB_ALICE_TOKEN: TokenInfo("alice", 22),
            self.GITLAB_READONLY_TOKEN: TokenInfo("reporter-bot", 23, write=False),
            self.GITLAB_JOB_TOKEN: TokenInfo("ci-job-token", 24, read_user=False, write=False),
        }
        self.server = FakeForgeServer({"/api/v3": self.github, "/api/v4": self.gitlab}, self.tokens)
        self._thread: threading.Thread | None = None

    def add_token(
        self, token: str, login: str, *, read_user: bool = True, write: bool = True, app: bool = False
    ) -> None:
        info = TokenInfo(login, 100 + len(self.tokens), read_user=read_user, write=write, app=app)
        self.tokens[token] = info

    @property
    def github_api_url(self) -> str:
        return f"{self.server.base}/api/v3"

    @property
    def gitlab_url(self) -> str:
        return self.server.base

    @property
    def log(self) -> list[RequestRecord]:
        with self.server.lock:
            return list(self.server.log)

    def writes(self) -> list[RequestRecord]:
        """The requests that were not GETs, in order."""
        return [record for record in self.log if record.is_write]

    def clear_log(self) -> None:
        with self.server.lock:
            self.server.log.clear()

    def inject(self, *faults: Fault) -> None:
        with self.server.lock:
            self.server.faults.extend(faults)

    def start(self) -> FakeForge:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-forge", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeForge:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
