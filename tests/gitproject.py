"""Real git repositories in temporary folders for the tests: commit files, branch, and read SHAs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


class GitProject:
    """A git work tree with a `main` branch and a local identity (never the user's global config)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.invalid")
        self.git("config", "user.name", "mlgate tests")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def write(self, path: str, content: object) -> Path:
        """Write `content` at `path`: a string as it is, anything else as JSON."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content if isinstance(content, str) else json.dumps(content))
        return target

    def commit(self, message: str = "change", **files: object) -> str:
        """Write `files` (keyword names use `__` for `/` and `_dot_` for `.`), commit everything."""
        for name, content in files.items():
            self.write(name.replace("__", "/").replace("_dot_", "."), content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> None:
        self.git("checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)
