"""`mlgate baseline save | show [REV] | list`: the snapshots kept in git notes (refs/notes/mlgate).

`save --to-file PATH` writes the snapshot as a file instead, for the workflow to upload as the CI artifact
the `ci-artifact` store reads; `save` also keeps the configured predictions file (gzip) beside the note.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from mlgate.baseline import NOTES_REF, GitNotesStore
from mlgate.commands import Context, Subparsers, add_command
from mlgate.config import Config
from mlgate.errors import ExitCode, UsageError
from mlgate.gitrepo import GitRepo
from mlgate.pipeline import load_effective_config
from mlgate.snapshot import dump_snapshot
from mlgate.tree import WorkTree


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "baseline", run, help="save, show or list stored baselines (git notes)", parents=parents
    )
    parser.add_argument("action", choices=("save", "show", "list"), help="what to do")
    parser.add_argument("rev", nargs="?", help="commit (default: HEAD)")
    parser.add_argument("--remote", default="origin", help="remote to fetch and push notes (default: origin)")
    parser.add_argument("--no-push", action="store_true", help="save: write the note locally only")
    parser.add_argument("--run-id", help="save: the CI run that made the metrics (shown in provenance)")
    parser.add_argument(
        "--to-file", metavar="PATH", help="save: write the snapshot JSON to PATH (a CI artifact) instead"
    )


def run(ctx: Context) -> ExitCode:
    with GitRepo.discover(ctx.cwd) as repo:
        remote = None if ctx.flag("no_push") else ctx.args.remote
        store = GitNotesStore(repo, ctx.console.warn, remote=remote)
        action = ctx.args.action
        if action == "save":
            return _save(ctx, repo, store)
        if action == "show":
            return _show(ctx, repo, store)
        return _list(ctx, repo, store)


def _save(ctx: Context, repo: GitRepo, store: GitNotesStore) -> ExitCode:
    config = load_effective_config(repo.root, ctx.flag("config"), ctx.env).config
    sha = repo.resolve(ctx.args.rev or "HEAD")
    tree = WorkTree(repo.root)
    snapshot, count = _snapshot(ctx, tree, config, sha)
    if ctx.flag("to_file"):
        target = ctx.cwd / Path(ctx.args.to_file)  # an absolute PATH stays itself
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(snapshot)
        ctx.console.print(f"baseline for {sha[:12]} written to {target}: {count} metrics")
        return ExitCode.OK
    path = config.predictions.path if config.predictions else None
    predictions = tree.read_bytes(path) if path and tree.exists(path) else None
    store.save(sha, snapshot, predictions, path)
    where = f"pushed to {store.remote}" if store.remote else "local only"
    kept = " + predictions" if predictions is not None else ""
    ctx.console.print(f"baseline saved for {sha[:12]}: {count} metrics{kept} ({NOTES_REF}, {where})")
    return ExitCode.OK


def _snapshot(ctx: Context, tree: WorkTree, config: Config, sha: str) -> tuple[str, int]:
    """The snapshot JSON of the work tree's metrics and params, and how many metrics it holds."""
    from mlgate.datasketch import try_sketch_file
    from mlgate.metrics import load_metrics, load_params

    metrics = load_metrics(tree, config.metrics)
    if not len(metrics):
        raise UsageError("baseline save", "no metrics found to save", hint="set `metrics:` in .mlgate.yml")
    params = load_params(tree, config.params)
    saved_at = datetime.now(UTC).isoformat(timespec="seconds")
    data = try_sketch_file(tree, config.data.path if config.data else None, ctx.console.warn)
    run_id = ctx.flag("run_id")
    return dump_snapshot(sha, metrics, params, saved_at=saved_at, run_id=run_id, data=data), len(metrics)


def _show(ctx: Context, repo: GitRepo, store: GitNotesStore) -> ExitCode:
    sha = repo.resolve(ctx.args.rev or "HEAD")
    baseline = store.load(sha)
    if baseline is None:
        raise UsageError(
            f"baseline show {sha[:12]}",
            "no baseline stored for this commit",
            hint="`mlgate baseline list` shows the commits that have one",
        )
    values = {m.name: (m.value if m.raw is None else m.raw) for m in baseline.metrics}
    ref = baseline.ref
    document = {"sha": sha, "saved_at": ref.saved_at, "run_id": ref.run_id, "metrics": values,
                "params": {p.name: p.value for p in baseline.params.params.values()}}  # fmt: skip
    ctx.console.print(json.dumps(document, indent=2, default=str))
    return ExitCode.OK


def _list(ctx: Context, repo: GitRepo, store: GitNotesStore) -> ExitCode:
    noted = set(store.noted_commits())
    if not noted:
        ctx.console.info("no baselines stored yet (`mlgate baseline save` on the default branch makes one)")
        return ExitCode.OK
    log = repo.git("log", "--format=%H %cs %s", ctx.args.rev or "HEAD", "-n", "500")
    for line in log.splitlines():
        sha, date, subject = [*line.split(" ", 2), "", ""][:3]
        if sha in noted:
            ctx.console.print(f"{sha[:12]}  {date}  {subject[:60]}")
    return ExitCode.OK
