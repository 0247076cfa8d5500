"""Bench the container (issue #7): `docker run IMAGE --version` cold start and the image size.

Cold start: a fresh container each run (`docker run --rm`), the image already on the host, as a runner
that has built or pulled it. Printed as the median of N runs with the budget of the container tests (1.5 s),
beside a reference measured in the same run: the same base image running `python3 -c pass` (the engine's
own container start plus an interpreter, which cancel out across machines).
Size: the image's uncompressed size as the engine reports it, and its base's.
Measured on the 2-core development machine (shared, Debian bookworm base, 7 runs): median 802 ms (min 740,
max 960), reference 591 ms, ratio 1.36; 440 MB, 212 MB over the base (the venv: fontTools 30, matplotlib 29,
numpy 28 + 28 of libraries, cryptography 16, pip 16, Pillow 23 MB); git is in the base.
Run: .venv/bin/python bench/bench_container.py [--image mlgate:test] [--base mlgate-base:bookworm] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

BUDGET_S = 1.5


def wall(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return times


def size_mb(image: str) -> float:
    argv = ["docker", "image", "inspect", "--format", "{{.Size}}", image]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="mlgate:test")
    parser.add_argument("--base", default="mlgate-base:bookworm", help="the image's base, for the reference")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    wall(["docker", "run", "--rm", args.image, "--version"], 1)  # the first run after a build pays once
    version = wall(["docker", "run", "--rm", args.image, "--version"], args.runs)
    reference = wall(["docker", "run", "--rm", "--entrypoint", "python3", args.base, "-c", "pass"], args.runs)
    median, ref = statistics.median(version), statistics.median(reference)
    verdict = "ok" if median <= BUDGET_S else "OVER BUDGET"
    print(f"docker run {args.image} --version   median {median * 1000:6.0f} ms of {args.runs} "
          f"(min {min(version) * 1000:.0f}, max {max(version) * 1000:.0f})  budget {BUDGET_S * 1000:.0f} ms  "
          f"ratio {median / ref:4.2f}  {verdict}")  # fmt: skip
    print(f"reference: docker run {args.base} python3 -c pass   median {ref * 1000:6.0f} ms")
    image_mb, base_mb = size_mb(args.image), size_mb(args.base)
    print(f"image size {args.image}: {image_mb:.0f} MB ({image_mb - base_mb:.0f} MB over {args.base})")
    return 0 if median <= BUDGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
