"""The git repository the work happens in: revisions, merge-base, ancestry, shallow clones (git CLI).

A shallow clone (actions/checkout's default `fetch-depth: 1`) lacks the base branch or the history down to
the merge-base: `merge_base` then fetches the branch from origin and deepens the clone a bounded number of
times before failing with the `fetch-depth: 0` hint.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import GitError

SHALLOW_HINT = "the clone is shallow: fetch full history (GitHub: actions/checkout with `fetch-depth: 0`)"
DEEPEN_STEPS = (50, 500)  # commits added per `git fetch --deepen` before giving up
FETCH_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class GitRepo:
    """A work tree whose top level is `root`."""

    root: Path

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        """The repository containing `start`, or GitError when there is none."""
        try:
            done = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"],
                cwd=start,
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise GitError(
                "git", "not installed", hint="install git; baselines are read from history"
            ) from None
        if done.returncode != 0:
            raise GitError(
                str(start),
                "not a git repository",
                hint="run mlgate inside a git clone (baselines are read from its history)",
            )
        return cls(Path(done.stdout.strip()))

    def git(self, *args: str, check: bool = True, input: str | None = None) -> str:
        """Run git in the repository; returns stdout. On failure raises GitError with git's last line."""
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=False, input=input
        )
        if check and done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise GitError(f"git {args[0]}", lines[-1] if lines else f"exit {done.returncode}")
        return done.stdout

    def try_git(self, *args: str, timeout: float | None = None) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=self.root, capture_output=True, text=True, check=False, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return None
        return done.stdout if done.returncode == 0 else None

    def git_bytes(self, *args: str, input: bytes | None = None) -> bytes:
        """Like `git`, for binary content in or out (blobs)."""
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False, input=input)
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]}", lines[-1] if lines else f"exit {done.returncode}")
        return done.stdout

    def resolve(self, rev: str) -> str:
        """The full SHA of `rev`; an unknown revision is a GitError naming it (and the shallow hint)."""
        out = self.try_git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if out:
            return out.strip()
        hint = SHALLOW_HINT if self.is_shallow() else "check the name with `git log --oneline --all`"
        raise GitError(f"--base {rev}", "unknown revision", hint=hint)

    def head(self) -> str:
        return self.resolve("HEAD")

    def is_shallow(self) -> bool:
        return (self.try_git("rev-parse", "--is-shallow-repository") or "").strip() == "true"

    def branch_ref(self, branch: str) -> str | None:
        """The ref for `branch`: the local branch, else `origin/<branch>`, else None."""
        for candidate in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
            if self.try_git("rev-parse", "--verify", "--quiet", candidate):
                return candidate
        return None

    def merge_base(self, head: str, branch: str) -> str:
        """The commit a change of `head` forked from `branch` (DESIGN §5); fetches what the clone lacks."""
        ref = self.branch_ref(branch)
        if ref is None and self.fetch_branch(branch):
            ref = self.branch_ref(branch)
        if ref is None:
            hint = SHALLOW_HINT if self.is_shallow() else f"fetch it: git fetch origin {branch}"
            raise GitError(f"baseline.branch {branch}", "no such branch here", hint=hint)
        head = self.first_parent_if_merge_of(head, ref)
        out = self.try_git("merge-base", head, ref)
        steps = iter(DEEPEN_STEPS)
        while not out and self.is_shallow() and self.deepen(next(steps, 0)):
            out = self.try_git("merge-base", head, ref)
        if out:
            return out.strip()
        hint = SHALLOW_HINT if self.is_shallow() else f"{branch} and HEAD share no history"
        raise GitError(f"merge-base HEAD {branch}", "no common ancestor", hint=hint)

    def fetch_branch(self, branch: str, remote: str = "origin") -> bool:
        """Fetch `branch` from `remote` as `refs/remotes/<remote>/<branch>`; False when that failed."""
        refspec = f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
        return (
            self.try_git("fetch", "--quiet", "--no-tags", remote, refspec, timeout=FETCH_TIMEOUT_S)
            is not None
        )

    def has_commit(self, sha: str) -> bool:
        return self.try_git("cat-file", "-e", f"{sha}^{{commit}}") is not None

    def fetch_commit(self, sha: str, ref: str, remote: str = "origin") -> bool:
        """Make commit `sha` present: fetch it by SHA, else fetch `ref` (which should hold it)."""
        for what in (sha, f"+{ref}:refs/remotes/{remote}/{ref.removeprefix('refs/')}"):
            if self.has_commit(sha):
                return True
            self.try_git("fetch", "--quiet", "--no-tags", remote, what, timeout=FETCH_TIMEOUT_S)
        return self.has_commit(sha)

    @contextmanager
    def temporary_worktree(self, sha: str, prefix: str) -> Iterator[GitRepo]:
        """`sha` checked out (detached) in a new `git worktree` in a temporary folder; removed on the way
        out, also after a failure or Ctrl-C."""
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        tree = folder / "tree"
        try:
            self.git("worktree", "add", "--detach", "--quiet", str(tree), sha)
            yield GitRepo(tree)
        finally:
            self.try_git("worktree", "remove", "--force", str(tree))
            shutil.rmtree(folder, ignore_errors=True)
            self.try_git("worktree", "prune")

    def deepen(self, commits: int, remote: str = "origin") -> bool:
        """Fetch `commits` more commits of history into a shallow clone (0: do nothing)."""
        if commits <= 0:
            return False
        args = ("fetch", "--quiet", "--no-tags", f"--deepen={commits}", remote)
        return self.try_git(*args, timeout=FETCH_TIMEOUT_S) is not None

    def first_parent_if_merge_of(self, sha: str, ref: str) -> str:
        """For a synthetic PR merge commit (parent 1 on `ref`), the PR side: its second parent."""
        parents = (self.try_git("rev-list", "--parents", "-n", "1", sha) or "").split()[1:]
        if len(parents) == 2 and self.try_git("merge-base", "--is-ancestor", parents[0], ref) is not None:
            return parents[1]
        return sha

    def ancestors(self, sha: str, limit: int) -> list[str]:
        """`sha` and up to `limit` first-parent ancestors, nearest first."""
        out = self.git("rev-list", "--first-parent", f"--max-count={limit + 1}", sha)
        return out.split()

    def commit_date(self, sha: str) -> str:
        return self.git("show", "-s", "--format=%cI", sha).strip()

    def current_branch(self) -> str | None:
        out = self.try_git("symbolic-ref", "--quiet", "--short", "HEAD")
        return out.strip() if out else None

    def short(self, sha: str) -> str:
        return sha[:12]
