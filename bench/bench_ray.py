"""Bench the Ray backend (issue 10): mlgate's overhead around a Ray job; a 50 MB working dir uploaded once.

Overhead = mlgate's wall time for a whole run (scan + hash, package check, submit, poll, log, results)
minus the job's own time on the cluster as Ray records it (`end_time - start_time` of the job, which includes
Ray's own runtime-env and supervisor start-up). Budget: <= 2 s on a warm local cluster. Then a 50 MB
working directory (50 random 1 MiB files) is run twice: the first run uploads it, the second must find it
on the cluster.
Run: .venv/bin/python bench/bench_ray.py [--runs N]   (starts its own one-CPU cluster from the test venv)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.ray_cluster import running_cluster

from mlgate.config import TrainConfig
from mlgate.configschema import validate_section
from mlgate.console import Console
from mlgate.model import RunRecord
from mlgate.training import TrainSpec
from mlgate.training.ray import RayBackend

OVERHEAD_BUDGET_S = 2.0
JOB = "python -c \"import json, time; time.sleep(1); json.dump({'acc': 0.9}, open('metrics.json', 'w'))\""


def run_once(url: str, root: Path) -> tuple[RunRecord, float, str]:
    train = validate_section(TrainConfig, {"command": JOB, "backend": "ray", "ray": {"address": url}})
    backend = RayBackend.from_config(train, {})
    err = io.StringIO()
    spec = TrainSpec(JOB, root, {}, 60.0, root / ".mlgate" / "train.log")
    started = time.monotonic()
    record = backend.run(spec, Console(out=io.StringIO(), err=err))
    return record, time.monotonic() - started, err.getvalue()


def job_seconds(url: str, job_id: str) -> float:
    job = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
    return float(job["end_time"] - job["start_time"]) / 1000


def bench_overhead(url: str, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "train.py").write_text("print('hello')\n")
        run_once(url, root)  # warm-up: the package is uploaded and the cluster's job machinery is hot
        overheads, walls, jobs = [], [], []
        for _ in range(runs):
            record, wall, _ = run_once(url, root)
            assert record.ok, record.log_tail
            job = job_seconds(url, record.extra["ray_job_id"])
            overheads.append(wall - job)
            walls.append(wall)
            jobs.append(job)
    median = statistics.median(overheads)
    print(f"overhead around a Ray job: median {median:.2f} s (max {max(overheads):.2f} s) over {runs} runs")
    print(f"  wall {statistics.median(walls):.2f} s, the job on the cluster {statistics.median(jobs):.2f} s")
    print(f"  (the command itself sleeps 1.0 s)  budget {OVERHEAD_BUDGET_S:.1f} s: "
          f"{'ok' if median <= OVERHEAD_BUDGET_S else 'OVER'}")  # fmt: skip


def bench_upload_once(url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "data-files").mkdir()
        for i in range(50):
            (root / "data-files" / f"part-{i:02d}.bin").write_bytes(os.urandom(1024 * 1024))
        first, first_wall, first_log = run_once(url, root)
        second, second_wall, second_log = run_once(url, root)
    assert first.ok, first.log_tail
    assert second.ok, second.log_tail
    uploaded = [line for line in first_log.splitlines() if "uploaded the working directory" in line]
    print(f"50 MB working dir, first run: {first_wall:.2f} s; {uploaded[0].removeprefix('mlgate: ')}")
    again = "uploaded the working directory" in second_log
    print(f"  second run, unchanged: {second_wall:.2f} s, uploaded again: {'YES (bad)' if again else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with running_cluster() as cluster:
        bench_overhead(cluster.url, args.runs)
        bench_upload_once(cluster.url)


if __name__ == "__main__":
    main()
