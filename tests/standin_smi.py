"""A stand-in `nvidia-smi` for machines with no GPU, and a training script whose processes it reports.

The stand-in is an executable Python script put first on the PATH mlgate is given. It answers
`--query-gpu=FIELDS` and `--query-compute-apps=FIELDS` with `--format=csv,noheader,nounits` as nvidia-smi
does (values joined by ", ", no units, `[N/A]` for what a device cannot give), for the devices and
processes of a scenario file. It checks parsing and plumbing only: the real GPU test in
tests/unit/test_training.py still needs a GPU.

The training (TRAIN_SCRIPT) writes its own pid and a child's to `pids.txt`; from then on the stand-in lists
them as compute apps with memory that rises, peaks and falls over the calls, next to an unrelated process
that is never the training's. When the stand-in has answered VISIBLE_CALLS process queries that listed the
training, the training removes `pids.txt` (it "frees its GPU memory") and exits, so every figure the sampler
saw is known.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VISIBLE_CALLS = 4

TRAIN_SCRIPT = f"""\
import os, subprocess, sys, time
from pathlib import Path
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
Path("pids.tmp").write_text(f"{{os.getpid()}} {{child.pid}}\\n")
Path("pids.tmp").replace("pids.txt")
seen = Path(sys.argv[1])
deadline = time.monotonic() + 30
while time.monotonic() < deadline and (int(seen.read_text()) if seen.exists() else 0) < {VISIBLE_CALLS}:
    time.sleep(0.02)
Path("pids.txt").unlink()
child.kill()
child.wait()
print("trained", flush=True)
"""

STANDIN = '''\
#!{python}
"""Stand-in nvidia-smi (tests only): answers the two CSV queries from {scenario}."""
import json, sys
from pathlib import Path

scenario = json.loads(Path({scenario!r}).read_text())
if scenario["mode"] == "fail":
    print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")
    sys.exit(9)
if scenario["mode"] == "garbage":
    print("GPU 0: NVIDIA H200 (UUID: GPU-0)\\nNo running processes found\\n42\\n, ,")
    sys.exit(0)
if "--format=csv,noheader,nounits" not in sys.argv:
    sys.exit("stand-in nvidia-smi: expected --format=csv,noheader,nounits")
state = Path(scenario["state"])
pids = Path(scenario["pids_file"])
pids = pids.read_text().split() if pids.exists() else None


def count(name, step):
    path = state / name
    value = (int(path.read_text()) if path.exists() else 0) + step
    path.with_suffix(".tmp").write_text(str(value))
    path.with_suffix(".tmp").replace(path)  # the training polls this file: never let it read a half-write
    return value


def at(series, call):
    return series[min(call, len(series)) - 1] if isinstance(series, list) else series


def answer(fields, rows):
    for row in rows:
        if any(f not in row for f in fields):
            sys.exit(f'Field "{{next(f for f in fields if f not in row)}}" is not a valid field to query.')
        print(", ".join(str(row[f]) for f in fields))


for arg in sys.argv[1:]:
    key, _, value = arg.partition("=")
    fields = value.split(",")
    if key == "--query-gpu":
        call = count("gpu_calls", 1 if pids else 0)
        util = max(call, 1)
        answer(fields, [{{"uuid": g["uuid"], "name": g["name"], "utilization.gpu": at(g["util"], util)}}
                        for g in scenario["gpus"]])
    elif key == "--query-compute-apps":
        call = count("gpu_calls", 0)
        rows = []
        for app in scenario["apps"]:
            role = app["pid"]
            if role in ("leader", "child") and not (pids and call):
                continue  # the training has no CUDA context yet, or has freed it
            pid = {{"leader": pids and pids[0], "child": pids and pids[-1]}}.get(role, role)
            mib = at(app["mib"], call)
            uuid = scenario["gpus"][app["gpu"]]["uuid"]
            rows.append({{"pid": pid, "gpu_uuid": uuid, "used_memory": mib, "used_gpu_memory": mib}})
        answer(fields, rows)
        if pids and call:
            count("visible_calls", 1)
'''


@dataclass(frozen=True)
class StandInSmi:
    """A stand-in nvidia-smi in `bin_dir` reading `scenario`; `seen` counts answers listing the training."""

    bin_dir: Path
    scenario: Path
    work: Path

    @classmethod
    def install(cls, root: Path, work: Path, **scenario: Any) -> StandInSmi:
        """Write the stand-in under `root`; `work` is where the training writes `pids.txt`."""
        bin_dir, state = root / "smi-bin", root / "smi-state"
        bin_dir.mkdir(parents=True)
        state.mkdir()
        standin = cls(bin_dir, root / "smi-scenario.json", work)
        standin.configure(**scenario)
        script = bin_dir / "nvidia-smi"
        script.write_text(STANDIN.format(python=sys.executable, scenario=str(standin.scenario)))
        script.chmod(0o755)
        return standin

    def configure(self, *, mode: str = "ok", gpus: list[dict[str, Any]], apps: list[dict[str, Any]]) -> None:
        scenario = {"mode": mode, "gpus": gpus, "apps": apps}
        scenario |= {
            "state": str(self.scenario.parent / "smi-state"),
            "pids_file": str(self.work / "pids.txt"),
        }
        self.scenario.write_text(json.dumps(scenario))

    @property
    def seen(self) -> Path:
        return self.scenario.parent / "smi-state" / "visible_calls"

    def path(self) -> str:
        """A PATH with the stand-in first."""
        return f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"


def h200s(util0: object = (10, 87, 40), util1: object = 100) -> list[dict[str, Any]]:
    """Two NVIDIA H200s; device 0's utilisation over the calls is `util0`, device 1's is `util1`."""
    return [
        {"uuid": "GPU-5f0e3a1c-0000-4000-8000-000000000000", "name": "NVIDIA H200", "util": util0},
        {"uuid": "GPU-5f0e3a1c-0001-4000-8000-000000000001", "name": "NVIDIA H200", "util": util1},
    ]


def training_apps(child_gpu: int = 0) -> list[dict[str, Any]]:
    """The training's leader peaks at 3,072 MiB on call 2, its child holds 512 MiB; this process 70 GiB."""
    return [
        {"pid": "leader", "gpu": 0, "mib": [1024, 3072, 1536]},
        {"pid": "child", "gpu": child_gpu, "mib": 512},
        {"pid": os.getpid(), "gpu": 1, "mib": 71680},
    ]
