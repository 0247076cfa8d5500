"""Bench the docker backend's copy transfer (issue #4): `mlgate train` on one tiny project through
`DOCKER_HOST=tcp://…` (a loopback forwarder) and `ssh://…` (a throwaway sshd), both to the local engine.

Each run is a whole `mlgate train` in-process: connect, copy the tree in, run `python3 train.py`, copy
metrics.json back, remove the container. Printed: the median, min and max wall time of N runs per road and
how many ssh logins one ssh run made (each connection the SDK opens is one ssh session).
Run: .venv/bin/python bench/bench_docker_remote.py [--image mlgate-base:bookworm] [--runs N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.remotedocker import forward_tcp  # noqa: E402
from tests.sshd import ALIAS, running_sshd  # noqa: E402

from mlgate.cli import main as mlgate_main  # noqa: E402

TRAIN = 'import json\njson.dump({"acc": 0.75}, open("metrics.json", "w"))\n'


def project(folder: Path, image: str, ssh_options: list[str]) -> Path:
    root = folder / "repo"
    root.mkdir()
    options = ", ".join(f"'{o}'" for o in ssh_options)
    (root / ".mlgate.yml").write_text(
        f"train: {{command: python3 train.py, backend: docker, image: '{image}', "
        f"docker: {{transfer: copy, ssh_options: [{options}]}}}}\nmetrics: [metrics.json]\n"
    )
    (root / "train.py").write_text(TRAIN)
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=b", "-c", "user.email=b@b",
                 "commit", "-qm", "tiny"]):  # fmt: skip
        subprocess.run(["git", *argv], cwd=root, check=True)
    return root


def wall(root: Path, docker_host: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        err = io.StringIO()
        started = time.perf_counter()
        code = mlgate_main(["train"], env={"DOCKER_HOST": docker_host}, cwd=root, out=io.StringIO(), err=err)
        times.append(time.perf_counter() - started)
        if code != 0:
            raise SystemExit(f"mlgate train on {docker_host} exited {code}: {err.getvalue().strip()}")
    return times


def line(road: str, times: list[float]) -> str:
    return (f"{road:<28} median {statistics.median(times):5.2f} s of {len(times)} "
            f"(min {min(times):.2f}, max {max(times):.2f})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="mlgate-base:bookworm")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-remote-") as scratch, \
            running_sshd(Path(scratch) / "sshd") as server, forward_tcp() as tcp:  # fmt: skip
        root = project(Path(scratch), args.image, server.ssh_options)
        wall(root, tcp, 1)  # the first run pays the image's first start once
        tcp_times = wall(root, tcp, args.runs)
        before = server.log.read_text().count("Accepted publickey")
        ssh_times = wall(root, f"ssh://{ALIAS}", args.runs)
        logins = (server.log.read_text().count("Accepted publickey") - before) / args.runs
    print(line("DOCKER_HOST=tcp:// (copy)", tcp_times))
    print(line("DOCKER_HOST=ssh:// (copy)", ssh_times) + f"  {logins:.0f} ssh logins a run")
    print(f"ssh / tcp: {statistics.median(ssh_times) / statistics.median(tcp_times):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
