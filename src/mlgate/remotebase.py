"""The base branch without a clone: its config through the forge's files API, its baseline from `ci-artifact`.

`mlgate publish --from DIR` may run in a `workflow_run` job that only downloaded the fork's artifact. The
gate rules then come from the base branch's `.mlgate.yml` as the forge serves it (GitHub contents API,
GitLab repository files API), never from a file in the workspace (the artifact may have put one there).

The baseline comes from the `ci-artifact` store only: it is written by the base branch's own CI runs, so
nothing the fork controls can choose it, and it is read over the API. The fork's merge-base is used when
the branch's CI kept a snapshot for exactly that commit (a SHA the branch's own runs name, so the
untrusted manifest can only pick among trusted snapshots); otherwise the newest snapshot, said in the
report. `git-notes`, `committed` and `retrain` need the history and the files of a clone and are skipped:
reading refs/notes/mlgate through the Git Data API would work on GitHub only, and without the first-parent
history it could not walk back from the merge-base either.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.baseline import Baseline, CiArtifactStore
from mlgate.ci import CiContext
from mlgate.config import Config
from mlgate.configfile import CONFIG_NAMES, LoadedConfig, load_config, load_config_bytes
from mlgate.console import Console
from mlgate.errors import UsageError
from mlgate.forge import FileForge, Forge

NO_CLONE_HINT = (
    "check out the base branch first (actions/checkout), or pass --config PATH with the gate rules"
)


def load_base_config(forge: Forge, ci: CiContext, env: Mapping[str, str], console: Console) -> LoadedConfig:
    """The base branch's config file as the forge serves it; the defaults when the branch has none."""
    branch = ci.base_branch or ci.default_branch
    if not isinstance(forge, FileForge) or not branch:
        why = "the forge cannot read files" if branch else "the event names no base or default branch"
        raise UsageError(
            "publish --from", f"not a git checkout, and the base config cannot be read: {why}",
            hint=NO_CLONE_HINT,
        )  # fmt: skip
    for name in CONFIG_NAMES:
        raw = forge.read_file(name, branch)
        if raw is not None:
            console.info(f"mlgate: gate rules from {name} on {branch}, read through the {ci.forge} API")
            return load_config_bytes(raw, f"{branch}:{name}", env)
    console.info(f"mlgate: {branch} has no {CONFIG_NAMES[0]}: the default rules apply")
    return load_config(None, env)


def find_remote_baseline(
    ci: CiContext, config: Config, base_sha: str | None, console: Console
) -> tuple[Baseline | None, str | None]:
    """(the baseline, a note for the report when it is not the merge-base's), from `ci-artifact` only."""
    stores = config.baseline.stores
    skipped = [name for name in stores if name != "ci-artifact"]
    if skipped:
        console.info(f"mlgate: baseline stores {', '.join(skipped)} need a git clone: skipped here")
    if "ci-artifact" not in stores or ci.forge not in ("github", "gitlab") or not (ci.api_url and ci.repo):
        console.warn("no baseline store works without a clone: add ci-artifact to baseline.stores")
        return None, None
    branch = config.baseline.branch
    store = CiArtifactStore(
        ci.forge, ci.api_url, ci.repo, ci.token, branch, console.warn,
        job_token=ci.token_source == "CI_JOB_TOKEN",
    )  # fmt: skip
    found = store.load(base_sha) if base_sha else None
    if found is not None:
        return found, None
    found = store.load_latest()
    if found is None:
        return None, None
    note = (
        f"Baseline: the newest one {branch}'s CI kept (commit {found.ref.sha[:12]}), not the merge-base's: "
        "this publisher has no clone to walk the history with."
    )
    return found, note
