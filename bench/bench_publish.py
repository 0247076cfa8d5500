"""Bench publishing (DESIGN §11): one PR report with two images to the fake GitHub on loopback, through real
PyGithub. Budgets: ≤ 4 write requests and ≤ 0.5 s wall for a publish once the `mlgate-assets` branch exists
(the first publish of a repository also creates that branch: 3 more writes, once). Measured with a PAT (the
verdict is a commit status) and with an App token such as Actions' GITHUB_TOKEN (a check run carrying the
report); both are 2 image uploads + 1 comment + 1 verdict.

Each run uses new image contents (nothing cached by content) and a fresh PR. Prints the figures, with the
first-ever publish and a same-process reference (one bare PyGithub comment create) for scale.
Run: .venv/bin/python bench/bench_publish.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakeforge import FakeForge
from tests.fakeforge.drive import GITHUB_REPO, make_github_forge

from mlgate.ci import CiContext
from mlgate.comparison import compare
from mlgate.config import Config
from mlgate.configschema import validate
from mlgate.console import Console
from mlgate.gate import evaluate
from mlgate.model import BaselineRef, Metric, MetricSet, PlotImage
from mlgate.publishing import Publication, publish
from mlgate.report import ReportInput

WRITE_BUDGET = 4
WALL_BUDGET_S = 0.5


def _report(folder: Path, salt: int) -> tuple[Publication, ReportInput]:
    config = validate({"gates": [{"metric": "acc", "abs": 0.01}]})
    head = MetricSet({"acc": Metric("acc", 0.85, "m.json"), "loss": Metric("loss", 0.3, "m.json")})
    base = MetricSet({"acc": Metric("acc", 0.9, "m.json"), "loss": Metric("loss", 0.2, "m.json")})
    comparison = compare(head, base, baseline=BaselineRef("git-notes", "c" * 40), head_sha="ab" * 20)
    gate = evaluate(comparison, config.rules, strict=False, if_missing="pass")
    plots = []
    for index in range(2):
        path = folder / f"plot-{salt}-{index}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([salt % 256, index]) * 20_000)
        plots.append(PlotImage(title=f"Plot {index}", path=path))
    inp = ReportInput(title="Model report", gate=gate, comparison=comparison, plots=tuple(plots))
    return Publication("", folder, "ab" * 20, inp, tuple(p.path for p in plots)), inp


def _one(
    fake: FakeForge, folder: Path, salt: int, token: str = FakeForge.GITHUB_BOT_TOKEN
) -> tuple[float, int]:
    number = 100 + salt
    fake.github.add_pull(GITHUB_REPO, number, "ab" * 20)
    pub, inp = _report(folder, salt)
    ci = CiContext(provider="github-actions", forge="github", event="pull_request", number=number,
                   head_sha="ab" * 20, run_id=str(salt), run_url="https://ci.example/run")  # fmt: skip
    config = Config()
    forge = make_github_forge(fake, token)
    fake.clear_log()
    started = time.perf_counter()
    result = publish(pub, inp.gate, ci, forge, config, Console(io.StringIO(), io.StringIO()))
    wall = time.perf_counter() - started
    assert not result.problems, result.problems
    return wall, len(fake.writes())


def _reference(fake: FakeForge) -> float:
    forge = make_github_forge(fake)
    started = time.perf_counter()
    forge.create_comment(999, "reference")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp, FakeForge() as fake:
        fake.github.add_repo(GITHUB_REPO)
        fake.github.add_pull(GITHUB_REPO, 999, "ab" * 20)
        first_wall, first_writes = _one(fake, Path(tmp), 0)
        figures = [_one(fake, Path(tmp), salt) for salt in range(1, runs + 1)]
        app = FakeForge.GITHUB_ACTIONS_TOKEN
        checks = [_one(fake, Path(tmp), salt, app) for salt in range(runs + 1, 2 * runs + 1)]
        reference = statistics.median(_reference(fake) for _ in range(5))
    walls = sorted(wall for wall, _ in figures)
    writes = max(count for _, count in figures)
    median = statistics.median(walls)
    check_writes = max(count for _, count in checks)
    check_median = statistics.median(wall for wall, _ in checks)
    print(f"first publish (creates mlgate-assets): {first_writes} writes, {first_wall * 1000:.0f} ms")
    print(f"publish with 2 images: writes {writes} (budget ≤ {WRITE_BUDGET})")
    print(
        f"publish with 2 images: median {median * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms "
        f"(budget ≤ {WALL_BUDGET_S * 1000:.0f} ms; {median / WALL_BUDGET_S:.2f}× budget)"
    )
    print(
        f"with an App token (check run carrying the report): writes {check_writes}, "
        f"median {check_median * 1000:.0f} ms"
    )
    print(f"reference, one bare comment create: {reference * 1000:.1f} ms ({median / reference:.1f}× of it)")
    ok = max(writes, check_writes) <= WRITE_BUDGET and max(median, check_median) <= WALL_BUDGET_S
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
