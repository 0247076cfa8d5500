"""The git repository the work happens in: revisions, merge-base, ancestry, shallow clones (git CLI).

A shallow clone (actions/checkout's default `fetch-depth: 1`) lacks the base branch or the history down to
the merge-base: `merge_base` then fetches the branch from origin and deepens the clone a bounded number of
times before failing with the `fetch-depth: 0` hint.

Each git process costs a fork and an exec (milliseconds on a CI runner), so the reads that go together share
one: a `GitRepo`'s object reads (the branch and HEAD's parents for the merge-base, then the base's files) go
to one long-lived `git cat-file --batch` (`ObjectReader`), `discover` can note HEAD with the top level, and
`ancestors` also notes the commit dates that `commit_date` then answers from.
"""

from __future__ import annotations

import subprocess
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import field
from pathlib import Path
from typing import IO

from mlgate.errors import GitError
from mlgate.record import Record

SHALLOW_HINT = "the clone is shallow: fetch full history (GitHub: actions/checkout with `fetch-depth: 0`)"
DEEPEN_STEPS = (50, 500)  # commits added per `git fetch --deepen` before giving up
FETCH_TIMEOUT_S = 120.0
NOT_INSTALLED_HINT = "install git; baselines are read from history"
_CHUNK = 1 << 16
STOP_TIMEOUT_S = 2.0  # for `git cat-file --batch` to exit once its input ends


class GitObject(Record):
    """One object `git cat-file --batch` found; `content` is None when it is larger than was asked to keep."""

    sha: str
    type: str
    size: int
    content: bytes | None

    @property
    def parents(self) -> list[str]:
        """A commit's parent SHAs, in order (none for another type of object)."""
        if self.type != "commit" or self.content is None:
            return []
        header = self.content.partition(b"\n\n")[0].decode("utf-8", "replace")
        return [line[7:] for line in header.splitlines() if line.startswith("parent ")]


class ObjectReader:
    """One `git cat-file --batch` in `root`, started by the first `read` and kept for the next ones, so
    that the rounds of reads of one command share a process; `close` ends it (a later `read` starts
    another). A failed or interrupted round ends it too; so does the reader's garbage collection, or the
    interpreter's exit. Not for two threads at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop: weakref.finalize[[subprocess.Popen[bytes]], ObjectReader] | None = None

    def read(self, names: Sequence[str], keep_up_to: int = 1 << 20) -> list[GitObject | None]:
        """Each named object (`<rev>`, `<rev>:<path>`), None where git has none; content over `keep_up_to`
        bytes is skipped, not held. The names go one at a time (git answers each before reading the
        next), so no pipe fills up while the other side waits."""
        for name in names:  # NOTE: callers ask only for one-line names (tree._is_plain): None is "missing"
            if "\n" in name:
                raise ValueError(f"not a name git can be asked for on one line: {name!r}")
        if not names:
            return []
        proc = self._started()
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            return [_batch_answer(proc.stdin, proc.stdout, name, keep_up_to) for name in names]
        except BrokenPipeError:  # git stopped answering: say why, in its words
            lines = self.close().splitlines()
            raise GitError("git cat-file", lines[-1] if lines else f"exit {proc.returncode}") from None
        except BaseException:  # an answer half read (Ctrl-C, a bug): the next one would be out of step
            self.close()
            raise

    def close(self) -> str:
        """End the process, if one runs; returns what it wrote to stderr."""
        stop, self._stop, self._proc = self._stop, None, None
        if stop is None:
            return ""
        return stop() or ""

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "cat-file", "--batch"],
                    cwd=self.root,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            except FileNotFoundError:
                raise GitError("git", "not installed", hint=NOT_INSTALLED_HINT) from None
            self._stop = weakref.finalize(self, _end, self._proc)
        return self._proc


def _end(proc: subprocess.Popen[bytes]) -> str:
    """Close git's stdin (it exits at the end of its input) and collect its stderr; a git that does not
    exit in time (a forked child of ours still holding its stdin open) is killed."""
    try:
        return proc.communicate(timeout=STOP_TIMEOUT_S)[1].decode("utf-8", "replace").strip()
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return ""


def read_objects(root: Path, names: Sequence[str], keep_up_to: int = 1 << 20) -> list[GitObject | None]:
    """`ObjectReader.read` through a `git cat-file --batch` of its own, ended before returning."""
    reader = ObjectReader(root)
    try:
        return reader.read(names, keep_up_to)
    finally:
        reader.close()


def _batch_answer(stdin: IO[bytes], stdout: IO[bytes], name: str, keep_up_to: int) -> GitObject | None:
    stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
    stdin.flush()
    fields = stdout.readline().split()
    if len(fields) != 3 or not fields[2].isdigit():  # "<name> missing" (or "ambiguous")
        if not fields:
            raise BrokenPipeError  # git stopped answering
        return None
    size = int(fields[2])
    content = None
    if size <= keep_up_to:
        content = stdout.read(size)
    else:
        _skip(stdout, size)
    stdout.read(1)  # the newline after the content
    return GitObject(fields[0].decode(), fields[1].decode(), size, content)


def _skip(stream: IO[bytes], size: int) -> None:
    while size > 0:
        chunk = stream.read(min(size, _CHUNK))
        if not chunk:
            return
        size -= len(chunk)


class GitRepo(Record):
    """A work tree whose top level is `root`. Its object reads share one `git cat-file --batch`, which
    `close` (or leaving `with GitRepo(...)`) ends; garbage collection and the interpreter's exit end it too.
    """

    root: Path
    _head: str | None = field(default=None, repr=False, compare=False)  # noted by `discover`
    # commit SHA → committer date (ISO 8601), noted by `ancestors` for `commit_date`
    _dates: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _objects: ObjectReader = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_objects", ObjectReader(self.root))

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the `git cat-file --batch` the reads share, if one runs (a later read starts another)."""
        self._objects.close()

    @classmethod
    def discover(cls, start: Path, *, note_head: bool = False) -> GitRepo:
        """The repository containing `start`, or GitError when there is none. `note_head`: look up HEAD's
        commit in the same git process, for `head` to answer; only for a caller that moves no HEAD."""
        head_args = ["--verify", "--quiet", "HEAD^{commit}"] if note_head else []
        try:
            done = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", *head_args],
                cwd=start,
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git", "not installed", hint=NOT_INSTALLED_HINT) from None
        # NOTE: rev-parse prints the top level before it looks HEAD up: in a repository without a commit
        # it prints the top level and exits 1 (`head` then fails as it always did); outside one, nothing.
        if done.returncode != 0 and not (note_head and done.stdout.strip()):
            raise GitError(
                str(start),
                "not a git repository",
                hint="run mlgate inside a git clone (baselines are read from its history)",
            )
        top, head = done.stdout, ""
        if note_head and done.returncode == 0:
            top, _, head = top.rstrip("\n").rpartition("\n")
        return cls(Path(top.strip()), _head=head or None)

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

    def read_objects(self, *names: str, keep_up_to: int = 1 << 20) -> list[GitObject | None]:
        """`ObjectReader.read` in this repository, through the process its reads share."""
        return self._objects.read(names, keep_up_to)

    def resolve(self, rev: str, *, given_as: str = "") -> str:
        """The full SHA of `rev`; an unknown revision is a GitError naming it (and the shallow hint).

        `given_as`: the flag it came from (`--base`), which the error names before the revision.
        """
        out = self.try_git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if out:
            return out.strip()
        hint = SHALLOW_HINT if self.is_shallow() else "check the name with `git log --oneline --all`"
        raise GitError(f"{given_as} {rev}".lstrip(), "unknown revision", hint=hint)

    def head(self) -> str:
        """HEAD's commit: the one `discover(note_head=True)` saw, else looked up now."""
        return self._head or self.resolve("HEAD")

    def is_shallow(self) -> bool:
        return (self.try_git("rev-parse", "--is-shallow-repository") or "").strip() == "true"

    def branch_ref(self, branch: str) -> str | None:
        """The ref for `branch`: the local branch, else `origin/<branch>`, else None."""
        return self._branch_tip_and_parents(branch)[0]

    def _branch_tip_and_parents(
        self, branch: str, sha: str | None = None
    ) -> tuple[str | None, str | None, list[str]]:
        """`branch_ref(branch)`, the commit it names (None for another kind of object), and the parents of
        commit `sha` (if given), from one round of reads."""
        candidates = (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}")
        found = self.read_objects(*candidates, *([f"{sha}^{{commit}}"] if sha else []))
        named = next(
            ((name, obj) for name, obj in zip(candidates, found[:2], strict=True) if obj is not None), None
        )
        commit = found[2] if sha else None
        parents = commit.parents if commit is not None else []
        if named is None:
            return None, None, parents
        return named[0], named[1].sha if named[1].type == "commit" else None, parents

    def merge_base(self, head: str, branch: str) -> str:
        """The commit a change of `head` forked from `branch` (DESIGN §5); fetches what the clone lacks."""
        ref, tip, parents = self._branch_tip_and_parents(branch, head)
        if ref is None and self.fetch_branch(branch):
            ref = self.branch_ref(branch)
        if ref is None:
            hint = SHALLOW_HINT if self.is_shallow() else f"fetch it: git fetch origin {branch}"
            raise GitError(f"baseline.branch {branch}", "no such branch here", hint=hint)
        head = self._pr_side(head, parents, ref)
        if head == tip:  # NOTE: the branch is at the change itself (just branched, or a run on the branch)
            return head  # and `git merge-base` would answer the same, also in a shallow clone
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
        return self._fetch(remote, refspec)

    def _fetch(self, *args: str) -> bool:
        """`git fetch --quiet --no-tags *args`; False when it failed. The object reads start another
        `git cat-file --batch` afterwards: the one before may hold on to the packs and refs it saw."""
        done = self.try_git("fetch", "--quiet", "--no-tags", *args, timeout=FETCH_TIMEOUT_S)
        self.close()
        return done is not None

    def has_commit(self, sha: str) -> bool:
        return self.try_git("cat-file", "-e", f"{sha}^{{commit}}") is not None

    def fetch_commit(self, sha: str, ref: str, remote: str = "origin") -> bool:
        """Make commit `sha` present: fetch it by SHA, else fetch `ref` (which should hold it)."""
        for what in (sha, f"+{ref}:refs/remotes/{remote}/{ref.removeprefix('refs/')}"):
            if self.has_commit(sha):
                return True
            self._fetch(remote, what)
        return self.has_commit(sha)

    @contextmanager
    def temporary_worktree(self, sha: str, prefix: str) -> Iterator[GitRepo]:
        """`sha` checked out (detached) in a new `git worktree` in a temporary folder; removed on the way
        out, also after a failure or Ctrl-C."""
        import shutil  # NOTE: here, with tempfile: only a retrain checks out a worktree; `diff` never does
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=prefix))
        tree = folder / "tree"
        try:
            self.git("worktree", "add", "--detach", "--quiet", str(tree), sha)
            with GitRepo(tree) as inside:
                yield inside
        finally:
            self.try_git("worktree", "remove", "--force", str(tree))
            shutil.rmtree(folder, ignore_errors=True)
            self.try_git("worktree", "prune")

    def deepen(self, commits: int, remote: str = "origin") -> bool:
        """Fetch `commits` more commits of history into a shallow clone (0: do nothing)."""
        if commits <= 0:
            return False
        return self._fetch(f"--deepen={commits}", remote)

    def _pr_side(self, sha: str, parents: Sequence[str], ref: str) -> str:
        """For a synthetic PR merge commit (`parents`: parent 1 on `ref`), the PR side: its second parent."""
        if len(parents) == 2 and self.try_git("merge-base", "--is-ancestor", parents[0], ref) is not None:
            return parents[1]
        return sha

    def ancestors(self, sha: str, limit: int) -> list[str]:
        """`sha` and up to `limit` first-parent ancestors, nearest first (their dates noted on the way)."""
        out = self.git("rev-list", "--first-parent", f"--max-count={limit + 1}", "--format=%cI", sha)
        lines = out.splitlines()  # "commit <sha>", then its date, for each commit
        shas = [line.removeprefix("commit ") for line in lines[0::2]]
        self._dates.update(zip(shas, lines[1::2], strict=False))
        return shas

    def commit_date(self, sha: str) -> str:
        """The committer date, ISO 8601 (`%cI`)."""
        if sha not in self._dates:
            self._dates[sha] = self.git("show", "-s", "--format=%cI", sha).strip()
        return self._dates[sha]

    def current_branch(self) -> str | None:
        out = self.try_git("symbolic-ref", "--quiet", "--short", "HEAD")
        return out.strip() if out else None

    def short(self, sha: str) -> str:
        return sha[:12]
