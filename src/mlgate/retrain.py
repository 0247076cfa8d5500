"""The retrain baseline store: train the base commit in a temporary `git worktree` when nothing is stored.

The result is the baseline, and it is kept in the local git notes (GitNotesStore) for the next run. Training
goes through the subprocess backend without the runner's forge tokens; the training modules are imported
only when a retrain happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.baseline import Baseline, BlobTree, GitNotesStore
from mlgate.errors import BaselineError
from mlgate.gitrepo import GitRepo
from mlgate.model import BaselineRef, RunRecord
from mlgate.snapshot import dump_snapshot
from mlgate.tree import WorkTree

if TYPE_CHECKING:
    from mlgate.config import Config
    from mlgate.console import Console


class RetrainStore:
    """Train the base commit itself, in a temporary `git worktree` (always removed), with the subprocess
    backend; the result is the baseline and is kept in the local git notes for the next run.

    Only the first commit asked for (the merge-base) is trained: walking back would train every ancestor.
    """

    name = "retrain"

    def __init__(self, repo: GitRepo, config: Config, env: Mapping[str, str], console: Console) -> None:
        self.repo = repo
        self.config = config
        self.env = env
        self.console = console
        self._tried = False

    def load(self, sha: str) -> Baseline | None:
        if self._tried or not self.config.train.command:
            return None
        self._tried = True
        with self.repo.temporary_worktree(sha, "mlgate-retrain-") as tree:
            return self._train(sha, tree.root)

    def _train(self, sha: str, tree: Path) -> Baseline | None:
        record = self._run(sha, tree)
        return None if record is None else self._baseline(sha, WorkTree(tree), record)

    def _run(self, sha: str, tree: Path) -> RunRecord | None:
        """Train the base commit checked out at `tree`; None (and a warning) when the training failed."""
        from mlgate.training import TrainSpec, describe_failure, training_env
        from mlgate.training.subprocess import SubprocessBackend

        train = self.config.train
        assert train.command is not None
        log = self.repo.root / ".mlgate" / f"retrain-{sha[:12]}.log"
        self.console.info(f"mlgate: no stored baseline: retraining the base commit {sha[:12]}")
        spec = TrainSpec(
            train.command, tree, training_env(self.env, train.env), train.timeout, log, runner_env=self.env
        )
        record = SubprocessBackend().run(spec, self.console)
        if not record.ok:
            self.warn(f"baseline store retrain: {describe_failure(record)} (log: {log}); no baseline from it")
            return None
        return record

    def _baseline(self, sha: str, work: WorkTree, record: RunRecord) -> Baseline:
        """What the training wrote, as the baseline, kept in the local git notes."""
        from mlgate.datasketch import try_sketch_file
        from mlgate.metrics import load_metrics, load_params

        metrics = load_metrics(work, self.config.metrics)
        params = load_params(work, self.config.params)
        files = self._kept_files(work)
        saved_at = datetime.now(UTC).isoformat(timespec="seconds")
        data_path = self.config.data.path if self.config.data else None
        data = try_sketch_file(work, data_path, self.warn)
        snapshot = dump_snapshot(sha, metrics, params, saved_at=saved_at, run=record, data=data)
        self._keep(sha, snapshot, files)
        ref = BaselineRef(store=self.name, sha=sha, saved_at=saved_at)
        tree_view = BlobTree.holding(files, f"retrained {sha[:12]}") if files else None
        return Baseline(metrics=metrics, params=params, ref=ref, tree=tree_view, data=data)

    def _kept_files(self, work: WorkTree) -> dict[str, bytes]:
        predictions = self.config.predictions
        if predictions is None or not work.exists(predictions.path):
            return {}
        return {predictions.path: work.read_bytes(predictions.path)}

    def _keep(self, sha: str, snapshot: str, files: dict[str, bytes]) -> None:
        path, data = next(iter(files.items()), (None, None))
        try:
            GitNotesStore(self.repo, self.warn, remote=None, fetch=False).save(sha, snapshot, data, path)
        except BaselineError as exc:
            self.warn(f"baseline store retrain: not kept in git notes: {exc.what}")

    def warn(self, text: str) -> None:
        self.console.warn(text)
