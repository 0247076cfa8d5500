"""The git repository the work happens in: revisions, merge-base, ancestry, shallow clones (git CLI)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import GitError

SHALLOW_HINT = "the clone is shallow: fetch full history (GitHub: actions/checkout with `fetch-depth: 0`)"


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

    def try_git(self, *args: str) -> str | None:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=False)
        return done.stdout if done.returncode == 0 else None

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
        """The commit a change of `head` forked from `branch` (DESIGN §5)."""
        ref = self.branch_ref(branch)
        if ref is None:
            hint = SHALLOW_HINT if self.is_shallow() else f"fetch it: git fetch origin {branch}"
            raise GitError(f"baseline.branch {branch}", "no such branch here", hint=hint)
        head = self.first_parent_if_merge_of(head, ref)
        out = self.try_git("merge-base", head, ref)
        if out:
            return out.strip()
        hint = SHALLOW_HINT if self.is_shallow() else f"{branch} and HEAD share no history"
        raise GitError(f"merge-base HEAD {branch}", "no common ancestor", hint=hint)

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
