"""Bench the local loop (DESIGN §11): `mlgate diff --md` on a small repo and a full `report --preview`.

Each figure is printed with its budget and its ratio to a reference measured in the same run: a 20-line
pure-Python diff of the same two metrics files (a fresh interpreter too, so start-up costs cancel out).
The diff is timed as shipped (the config read from the cache of validated configs) and with
MLGATE_NO_CACHE=1 (pydantic validating it each time). The preview is timed as shipped (plots drawn by the
pre-warmed worker) and with the plots drawn in-process, which shows what the worker saves on this machine.
With dvc installed (or --dvc PATH), the same diff is timed against `dvc metrics diff --md` on one DVC
project (DESIGN §11: well under half).
Run: .venv/bin/python bench/bench_cli.py [--runs N]
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
from pathlib import Path

REFERENCE_DIFF = """
import json, subprocess, sys
def flat(d, p=""):
    out = {}
    for k, v in d.items():
        out.update(flat(v, f"{p}{k}.") if isinstance(v, dict) else {f"{p}{k}": v})
    return out
run = lambda *a: subprocess.run(a, capture_output=True, text=True).stdout
base_sha = run("git", "merge-base", "HEAD", "main").strip()
base = flat(json.loads(run("git", "show", f"{base_sha}:metrics.json")))
head = flat(json.load(open("metrics.json")))
print("| Path | Metric | HEAD | workspace | Change |")
print("|---|---|---|---|---|")
for name in head:
    old, new = base.get(name), head[name]
    if old != new:
        change = new - old if isinstance(old, (int, float)) else "-"
        print(f"| metrics.json | {name} | {old} | {new} | {change} |")
"""

# The CLI with one idle thread running: PlotWorker then refuses to fork, so the plots are drawn in-process
# (what a run cost before the worker; the difference is what the worker saves).
INLINE_PLOTS = """
import sys, threading
threading.Thread(target=threading.Event().wait, daemon=True).start()
from mlgate.cli import main
sys.exit(main(sys.argv[1:]))
"""

CONFIG = """\
metrics: [metrics.json]
params: [params.yaml]
plots:
  - {kind: curve, path: history.csv, x: epoch, y: [loss, val_loss]}
  - {kind: bars}
gates:
  - {metric: "eval.*", abs: 0.01}
baseline: {stores: [committed]}
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def make_repo(root: Path, dvc: str | None = None) -> None:
    """main with the metrics, params and a history; branch `feature` changes two of them in the work tree.

    With `dvc` (an executable), main is also a DVC project declaring the same metrics and params.
    """
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "bench@mlgate.invalid")
    git(root, "config", "user.name", "bench")
    if dvc is not None:
        subprocess.run([dvc, "init", "-q"], cwd=root, check=True, capture_output=True)
        (root / "dvc.yaml").write_text("metrics:\n  - metrics.json\nparams:\n  - params.yaml\n")
    metrics = {"eval": {f"m{i}_accuracy": 0.8 + i / 1000 for i in range(20)}, "train": {"loss": 0.3}}
    (root / "metrics.json").write_text(json.dumps(metrics))
    (root / "params.yaml").write_text("lr: 0.1\ndepth: 3\n")
    (root / ".mlgate.yml").write_text(CONFIG)
    rows = "\n".join(f"{e},{1 / (e + 1)},{1.2 / (e + 1)}" for e in range(200))
    (root / "history.csv").write_text("epoch,loss,val_loss\n" + rows + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    metrics["eval"]["m3_accuracy"] = 0.7
    (root / "metrics.json").write_text(json.dumps(metrics))
    (root / "params.yaml").write_text("lr: 0.2\ndepth: 3\n")


# NOTE: a user's Python caches bytecode; with PYTHONDONTWRITEBYTECODE set (as in some sandboxes), every
# command would compile mlgate's modules again and the figures would not be what a user sees.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def median_wall(argv: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env or ENV)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(name: str, seconds: float, budget: float | None, reference: float) -> None:
    """One figure with its ratio to the reference; a line without a budget is there for comparison."""
    ratio = f"ratio {seconds / reference:5.2f}"
    if budget is None:
        print(f"{name:38s} {seconds * 1000:8.1f} ms  {'':17s}  {ratio}  (for comparison)")
        return
    verdict = "ok" if seconds <= budget else "OVER BUDGET"
    figures = f"{seconds * 1000:8.1f} ms  budget {budget * 1000:6.0f} ms  {ratio}"
    print(f"{name:38s} {figures}  {verdict}")


def bench_dvc(dvc: str | None, runs: int) -> None:
    """DESIGN §11: `mlgate diff` well under half of `dvc metrics diff`, both on one DVC project."""
    if dvc is None:
        print("dvc metrics diff: skipped (no dvc on PATH; pass --dvc PATH)")
        return
    root = Path(tempfile.mkdtemp(prefix="mlgate-bench-dvc-"))
    try:
        make_repo(root, dvc)
        theirs = median_wall([dvc, "metrics", "diff", "--md"], root, runs)
        ours = median_wall([sys.executable, "-m", "mlgate", "diff", "--md"], root, runs)
        print(f"{'dvc metrics diff --md':38s} {theirs * 1000:8.1f} ms")
        label = "mlgate diff --md, same DVC project"
        print(f"{label:38s} {ours * 1000:8.1f} ms  {ours / theirs:5.2f} of dvc's time")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--dvc", metavar="PATH", help="a dvc executable to compare with (default: dvc on PATH)"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlgate-bench-"))
    try:
        make_repo(root)
        mlgate = [sys.executable, "-m", "mlgate"]
        reference = median_wall([sys.executable, "-c", REFERENCE_DIFF], root, args.runs)
        print(f"{'reference: 20-line Python diff':38s} {reference * 1000:8.1f} ms")
        report("mlgate --help", median_wall([*mlgate, "--help"], root, args.runs), 0.15, reference)
        report("mlgate diff --md", median_wall([*mlgate, "diff", "--md"], root, args.runs), 0.15, reference)
        no_cache = {**ENV, "MLGATE_NO_CACHE": "1"}
        uncached = median_wall([*mlgate, "diff", "--md"], root, args.runs, no_cache)
        report("  the same, config validated each time", uncached, None, reference)
        preview_args = ["report", "--preview", "-o", str(root / "out")]
        runs = max(3, args.runs // 3)
        preview_s = median_wall([*mlgate, *preview_args], root, runs)
        report("mlgate report --preview (2 PNG plots)", preview_s, 1.0, reference)
        inline_s = median_wall([sys.executable, "-c", INLINE_PLOTS, *preview_args], root, runs)
        report("  the same, plots drawn in-process", inline_s, None, reference)
        print(f"{'  plot worker saves':38s} {(inline_s - preview_s) * 1000:8.1f} ms")
        bench_dvc(args.dvc or shutil.which("dvc"), args.runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
