"""Bench the CI one-shot (DESIGN §11): mlgate's own overhead around training, and the baseline lookup.

1. `mlgate run --forge none` with a no-op training command (`true`) on a PR branch and on main (which also
   saves the baseline in git notes), minus the no-op command's own time: budget ≤ 1.5 s.
2. The git-notes lookup from HEAD through 20 ancestors to the only note, at distance 20: budget ≤ 0.3 s.

Every figure is printed with its ratio to a reference measured in the same run: `git rev-parse HEAD` run 10
times (process start-up and git's own speed cancel out across machines).
Run: .venv/bin/python bench/bench_run.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PLOTS = """\
plots:
  - {kind: curve, path: history.csv, x: epoch, y: [loss, val_loss]}
  - {kind: bars}
"""
CONFIG = """\
train: {command: "true"}
metrics: [metrics.json]
params: [params.yaml]
gates:
  - {metric: "eval.*", abs: 0.01}
baseline: {stores: [git-notes, committed]}
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, *, commits: int = 1, plots: bool = True) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "bench@mlgate.invalid")
    git(root, "config", "user.name", "bench")
    metrics = {"eval": {f"m{i}_accuracy": 0.8 + i / 1000 for i in range(20)}, "train": {"loss": 0.3}}
    (root / "metrics.json").write_text(json.dumps(metrics))
    (root / "params.yaml").write_text("lr: 0.1\ndepth: 3\n")
    (root / ".mlgate.yml").write_text(CONFIG + (PLOTS if plots else ""))
    (root / ".gitignore").write_text(".mlgate/\nout/\n")
    rows = "\n".join(f"{e},{1 / (e + 1)},{1.2 / (e + 1)}" for e in range(200))
    (root / "history.csv").write_text("epoch,loss,val_loss\n" + rows + "\n")
    git(root, "add", "-A")
    for i in range(commits):
        git(root, "commit", "-q", "--allow-empty", "-m", f"commit {i}")


def median_wall(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# NOTE: a user's Python caches bytecode; with PYTHONDONTWRITEBYTECODE set (as in some sandboxes), every
# command would compile mlgate's modules again and the figures would not be what a user sees.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def command(argv: list[str], cwd: Path) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=ENV)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    return run


def report(name: str, seconds: float, budget: float | None, reference: float) -> None:
    verdict = "" if budget is None else ("ok" if seconds <= budget else "OVER BUDGET")
    limit = f"budget {budget * 1000:6.0f} ms" if budget is not None else " " * 16
    print(f"{name:46s} {seconds * 1000:8.1f} ms  {limit}  ratio {seconds / reference:5.2f}  {verdict}")


def bench_overhead(root: Path, runs: int, reference: float, *, plots: bool) -> None:
    make_repo(root, plots=plots)
    mlgate = [sys.executable, "-m", "mlgate", "run", "--forge", "none", "-o", "out"]
    noop = median_wall(command(["sh", "-c", "true"], root), runs)
    label = "2 PNG plots" if plots else "no plots"
    if plots:
        report("no-op training command (sh -c true)", noop, None, reference)
    main_s = median_wall(command(mlgate, root), runs) - noop
    report(f"mlgate run overhead, main, {label}", main_s, 1.5, reference)
    git(root, "checkout", "-q", "-b", "feature")
    (root / "params.yaml").write_text("lr: 0.2\ndepth: 3\n")
    pr_s = median_wall(command(mlgate, root), runs) - noop
    report(f"mlgate run overhead, PR branch, {label}", pr_s, 1.5, reference)


def bench_lookup(root: Path, runs: int, reference: float) -> None:
    from mlgate.baseline import GitNotesStore, find_baseline
    from mlgate.gitrepo import GitRepo

    make_repo(root, commits=21)
    oldest = git(root, "rev-list", "--max-parents=0", "HEAD").strip()
    snapshot = json.dumps({"schema": 1, "sha": oldest, "metrics": {"acc": {"value": 0.9, "source": "m"}},
                           "params": {}})  # fmt: skip
    git(root, "notes", "--ref=refs/notes/mlgate", "add", "-m", snapshot, oldest)
    repo = GitRepo(root)

    def lookup() -> object:
        found = find_baseline([GitNotesStore(repo, print, remote=None)], repo, repo.head(), 20)
        assert found is not None
        assert found.ref.distance == 20, found
        return found

    report("baseline lookup through 20 ancestors", median_wall(lookup, runs), 0.3, reference)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mlgate-bench-run-"))
    try:
        for name in ("a", "a2", "b", "ref"):
            (folder / name).mkdir()
        make_repo(folder / "ref")
        rev_parse = command(["git", "rev-parse", "HEAD"], folder / "ref")
        reference = median_wall(lambda: [rev_parse() for _ in range(10)], args.runs)
        print(f"{'reference: git rev-parse HEAD x10':46s} {reference * 1000:8.1f} ms")
        bench_overhead(folder / "a", args.runs, reference, plots=True)
        bench_overhead(folder / "a2", args.runs, reference, plots=False)
        bench_lookup(folder / "b", args.runs * 4, reference)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
