"""Which config a PR run obeys: the base branch's `.mlgate.yml` (DESIGN §3), the PR's only when trusted.

A PR's own config could loosen the rules that judge it (a wider tolerance, `severity: warn`, `informational:
true`, another train command), so on a PR/MR run the config is read from the PR's merge-base with its base
branch (the commit its baseline comes from), with the same environment and flag overrides on top. The PR's
version, when it differs, is named in a warning (and so in the report); `--trust-pr-config` applies it. A base
that has no config yet (the PR that introduces mlgate) leaves the PR's own: there is nothing to loosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlgate.ci import CiContext
from mlgate.configfile import CONFIG_NAMES, LoadedConfig, load_config_bytes
from mlgate.console import Console
from mlgate.gitrepo import GitRepo
from mlgate.tree import GitTree


def config_for_change(
    repo: GitRepo,
    ci: CiContext,
    loaded: LoadedConfig,
    console: Console,
    *,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    trust: bool = False,
) -> LoadedConfig:
    """`loaded` (the work tree's) outside a PR/MR or when trusted; else the base's, read from git."""
    if trust or ci.number is None or not ci.base_branch:
        return loaded
    base_sha = repo.merge_base(repo.head(), ci.base_branch)
    tree = GitTree(repo, base_sha)
    name = _config_name(repo.root, loaded.path, tree)
    if name is None:
        console.info(f"mlgate: {ci.base_branch} has no mlgate config yet: the PR's own applies")
        return loaded
    raw = tree.read_bytes(name)
    base = load_config_bytes(raw, f"{ci.base_branch}:{name}", env, overrides)
    if loaded.path is None or loaded.path.read_bytes() != raw:
        console.warn(
            f"this PR changes {name}: the gate follows {ci.base_branch}'s (at {base_sha[:12]}); "
            "`--trust-pr-config` applies the PR's"
        )
    return base


def _config_name(root: Path, path: Path | None, tree: GitTree) -> str | None:
    """The config's path in the repository: the work tree's file (`--config`, or found), else a default."""
    if path is not None and path.resolve().is_relative_to(root.resolve()):
        relative = path.resolve().relative_to(root.resolve()).as_posix()
        return relative if tree.exists(relative) else None
    return next((name for name in CONFIG_NAMES if tree.exists(name)), None)


__all__ = ["config_for_change"]
