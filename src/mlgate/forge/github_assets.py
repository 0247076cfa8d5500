"""The orphan `mlgate-assets` branch where report images live on GitHub: content-named files, their links.

PyGithub's Contents API stores one image per write and the Git Data API makes the parentless branch, once per
repository. Called through GitHubForge, whose `_call` turns PyGithub's errors into masked ForgeErrors.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from github.Repository import Repository

ASSETS_BRANCH = "mlgate-assets"
_README = "Images linked from mlgate's PR reports. Written by mlgate; never merge this branch.\n"


class GitHubAssets:
    """The `mlgate-assets` branch of one repository; the branch is made on the first image stored."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._ready = False

    def store(self, name: str, data: bytes) -> None:
        """Commit `data` as file `name` on the branch, unless a file of that name (same content) is there."""
        # NOTE: one Contents-API PUT per new image (blob + tree + commit + ref move in one write) keeps a
        # publish with two images within 4 writes; the Git Data API (tree → parentless commit → ref) makes the
        # orphan branch, once per repository.
        from github import GithubException

        self._ensure_branch()
        if self._exists(name):
            return
        try:
            self._repo.create_file(name, f"mlgate: add {name}", data, branch=ASSETS_BRANCH)
        except GithubException as exc:  # 422: the path exists (a concurrent run stored the same image)
            if exc.status != 422 or not self._exists(name):
                raise

    def _exists(self, name: str) -> bool:
        from github import UnknownObjectException

        try:
            self._repo.get_contents(name, ref=ASSETS_BRANCH)
        except UnknownObjectException:
            return False
        return True

    def _ensure_branch(self) -> None:
        from github import UnknownObjectException

        if self._ready:
            return
        try:
            _ = self._repo.get_git_ref(f"heads/{ASSETS_BRANCH}").object
        except UnknownObjectException:
            self._create_branch()
        self._ready = True

    def _create_branch(self) -> None:
        from github import GithubException, InputGitTreeElement

        readme = InputGitTreeElement("README.md", "100644", "blob", content=_README)
        tree = self._repo.create_git_tree([readme])
        commit = self._repo.create_git_commit("mlgate: images for PR reports", tree, [])
        try:
            self._repo.create_git_ref(f"refs/heads/{ASSETS_BRANCH}", commit.sha)
        except GithubException as exc:  # 422: a concurrent run created the branch first
            if exc.status != 422:
                raise


def asset_name(data: bytes, suffix: str) -> str:
    """The file name of an image on the branch: a digest of its content, so the same image is stored once."""
    return f"{hashlib.sha256(data).hexdigest()[:16]}{suffix.lower()}"


def asset_url(server_url: str, repo_name: str, name: str) -> str:
    """The link a report uses for an image stored on the branch."""
    owner, _, repo = repo_name.partition("/")
    # NOTE: a `blob/…?raw=true` link is served with the viewer's own session, so the image of a private
    # repository stays private; raw.githubusercontent.com links would need a token in the URL.
    return f"{server_url}/{quote(owner)}/{quote(repo)}/blob/{ASSETS_BRANCH}/{quote(name)}?raw=true"
