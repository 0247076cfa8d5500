"""The `ray` backend: the training command as a job on a Ray cluster, through the Jobs REST API.

    check   GET /api/version, GET /api/v0/nodes: fail at once when no node can hold the CPUs/GPUs/resources
    pack    the working directory (raypack), uploaded once per content hash: GET, PUT only when absent
    submit  POST /api/jobs/ with submission_id `mlgate-<short sha>-<run id>`, the launcher as entrypoint
    follow  poll status and log until SUCCEEDED / FAILED / STOPPED; timeout or Ctrl-C → stop, verify STOPPED
    fetch   the result files framed into the log by the launcher (rayjob) land in the work tree (rayresults)

The RunRecord says `backend: ray` and carries the cluster address (no credentials), job id, node, GPUs,
queue time and run time in `extra`, so the rest of the run cannot tell it from a local one.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config import RayConfig, TrainConfig
from mlgate.console import Console
from mlgate.errors import ConfigError, GitError, TrainingError
from mlgate.gitrepo import GitRepo
from mlgate.model import GpuTelemetry, RunRecord
from mlgate.training import TrainSpec, raypack
from mlgate.training.rayapi import JobsClient, dashboard_url
from mlgate.training.rayresults import Frames, LogFollower
from mlgate.training.telemetry import runner_info

PROGRESS_EVERY_S = 30.0
STOP_WAIT_S = 20.0
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


@dataclass
class RayBackend:
    """Submit the command to the Ray cluster at `url`; limits in bytes."""

    url: str
    ray: RayConfig
    env_vars: Mapping[str, str]
    token: str | None = None
    run_id: str | None = None
    sha: str | None = None
    result_paths: tuple[str, ...] = ()
    large_file_bytes: int = 25 * raypack.MIB
    upload_limit_bytes: int = 100 * raypack.MIB
    result_limit_bytes: int = 64 * raypack.MIB
    poll_s: float = 0.25
    name: str = field(default="ray", init=False)

    @classmethod
    def from_config(cls, train: TrainConfig, env: Mapping[str, str]) -> RayBackend:
        address = train.ray.address or env.get("RAY_ADDRESS")
        if not address:
            raise ConfigError(
                "train.ray.address", "not set, and RAY_ADDRESS is empty",
                hint="set train.ray.address to the cluster's dashboard, e.g. http://ray-head:8265",
            )  # fmt: skip
        return cls(
            url=dashboard_url(address),
            ray=train.ray,
            env_vars=dict(train.env),
            token=_token(train.ray, env),
            run_id=_run_id(env),
            sha=env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA"),
            large_file_bytes=int(train.ray.large_file_mb * raypack.MIB),
            upload_limit_bytes=int(train.ray.max_upload_mb * raypack.MIB),
            result_limit_bytes=int(train.ray.max_results_mb * raypack.MIB),
        )

    def run(self, spec: TrainSpec, console: Console) -> RunRecord:
        client = JobsClient(self.url, self.token)
        try:
            return self._run(client, spec, console)
        finally:
            client.close()

    def _run(self, client: JobsClient, spec: TrainSpec, console: Console) -> RunRecord:
        version = client.version()
        nodes = [node for node in client.nodes() if node.get("state") == "ALIVE"]
        gpus = _gpu_count(spec.gpus, nodes)
        _check_fits(client.address, self._needs(gpus), nodes)
        workdir = (spec.cwd / self.ray.working_dir).resolve()
        uri = self._upload(client, workdir, _state_file(spec), console)
        job_id = client.submit(self._request(spec, uri, gpus, self.sha or _git_head(spec.cwd)))
        console.info(f"mlgate: training on Ray at {client.address} as job {job_id}: {spec.command}")
        console.info(f"  (log: {spec.log_path})")
        run = _Run(job_id, time.monotonic(), Frames(workdir))
        self._follow(client, spec, run, console)
        return self._record(client, spec, run, nodes, gpus, str(version.get("ray_version", "")), console)

    def _needs(self, gpus: float) -> dict[str, float]:
        needs = {"CPU": float(self.ray.num_cpus), "GPU": gpus, **self.ray.resources}
        return {key: value for key, value in needs.items() if value > 0}

    def _upload(self, client: JobsClient, workdir: Path, state: Path, console: Console) -> str:
        outputs = _outputs_of_last_run(state)
        scanned = raypack.scan(
            workdir, self.ray.excludes, self.large_file_bytes, self.upload_limit_bytes, outputs
        )
        for rel, size in scanned.left_out:
            console.info(
                f"mlgate: left out of the upload: {rel} ({size / raypack.MIB:.1f} MiB, a large file)"
            )
        for rel in scanned.outside:
            console.warn(f"left out of the upload: {rel} (a symlink to a file outside the working directory)")
        package = raypack.with_launcher(scanned, Path(__file__).with_name("rayjob.py").read_bytes())
        name = raypack.package_name(package.digest)
        amount = f"{len(package.files)} files, {package.total_bytes / raypack.MIB:.1f} MiB"
        if client.has_package(name):
            console.info(f"mlgate: working directory unchanged ({amount}): gcs://{name} is on the cluster")
        else:
            started = time.monotonic()
            data = raypack.build_zip(package)
            client.upload(name, data)
            console.info(
                f"mlgate: uploaded the working directory ({amount}, "
                f"{len(data) / raypack.MIB:.1f} MiB zipped) as gcs://{name} "
                f"in {time.monotonic() - started:.1f} s"
            )
        return f"gcs://{name}"

    def _request(self, spec: TrainSpec, uri: str, gpus: float, sha: str | None) -> dict[str, Any]:
        job = {
            "command": spec.command,
            "paths": list(spec.result_paths or self.result_paths),
            "limit": self.result_limit_bytes,
            "file_limit": self.large_file_bytes,
        }
        return {
            "entrypoint": f"python3 {raypack.LAUNCHER} {shlex.quote(json.dumps(job))}",
            "submission_id": _submission_id(sha, self.run_id),
            "runtime_env": {"working_dir": uri, "env_vars": dict(self.env_vars)},
            "entrypoint_num_cpus": self.ray.num_cpus,
            "entrypoint_num_gpus": gpus,
            "entrypoint_resources": dict(self.ray.resources),
            "metadata": {"submitted_by": "mlgate", "command": spec.command[:500]},
        }

    def _follow(self, client: JobsClient, spec: TrainSpec, run: _Run, console: Console) -> None:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("w", encoding="utf-8", errors="replace") as log:
            follower = LogFollower(log, console, run.frames)
            run.follower = follower
            try:
                self._poll(client, spec, run, console)
            except KeyboardInterrupt:
                console.warn(f"interrupted: stopping Ray job {run.job_id}")
                _stop(client, run, console)
                raise
            follower.update(client.logs(run.job_id), final=True)

    def _poll(self, client: JobsClient, spec: TrainSpec, run: _Run, console: Console) -> None:
        next_progress = run.started + PROGRESS_EVERY_S
        delay = 0.05
        while True:
            run.details = client.job(run.job_id)
            status = str(run.details.get("status"))
            now = time.monotonic()
            if status == "RUNNING" and run.running_at is None:
                run.running_at = now
            if status in TERMINAL:
                run.ended_at = now
                return
            run.follower_update(client.logs(run.job_id))
            if now - run.started > spec.timeout_s:
                console.warn(
                    f"training timed out after {spec.timeout_s:.0f} s: stopping Ray job {run.job_id}"
                )
                run.timed_out = True
                _stop(client, run, console)
                return
            if now >= next_progress:
                console.info(f"mlgate: training… {now - run.started:.0f} s elapsed ({status.lower()})")
                next_progress += PROGRESS_EVERY_S
            time.sleep(delay)
            delay = min(delay * 2, self.poll_s)

    def _record(
        self,
        client: JobsClient,
        spec: TrainSpec,
        run: _Run,
        nodes: list[Mapping[str, Any]],
        gpus: float,
        ray_version: str,
        console: Console,
    ) -> RunRecord:
        details = run.details
        frames = run.frames
        for rel, size in frames.skipped:
            console.info(f"mlgate: left on the cluster: {rel} ({size / raypack.MIB:.1f} MiB, a large file)")
        if frames.error:
            hint = "name fewer or smaller result files; write large outputs to storage the runner reaches"
            raise TrainingError("train.ray", f"job {run.job_id}: {frames.error}", hint=hint)
        if frames.written:
            console.info(f"mlgate: brought back from the cluster: {', '.join(frames.written)}")
        _state_file(spec).write_text(json.dumps({"outputs": frames.written}) + "\n")
        code = _exit_code(details, frames, run.timed_out)
        node = _node(nodes, details.get("driver_node_id"))
        tail = tuple(run.tail())
        if code != 0 and details.get("message") and not tail:
            tail = tuple(str(details["message"]).splitlines()[-20:])
        record = RunRecord(
            command=spec.command,
            backend=self.name,
            exit_code=code,
            duration_s=time.monotonic() - run.started,
            timed_out=run.timed_out,
            log_tail=tail,
            log_path=str(spec.log_path),
            runner=runner_info(spec.runner_env),
            gpu=_gpu_telemetry(node, gpus),
            extra=_extra(client.address, run, node, gpus, ray_version),
        )
        console.info(
            f"mlgate: Ray job {run.job_id} {details.get('status')} after {record.duration_s:.1f} s, "
            f"exit code {code}"
        )
        return record


@dataclass
class _Run:
    """What is known of one submitted job while it is followed."""

    job_id: str
    started: float
    frames: Frames
    details: Mapping[str, Any] = field(default_factory=dict)
    running_at: float | None = None
    ended_at: float | None = None
    timed_out: bool = False
    follower: LogFollower | None = None

    def follower_update(self, text: str) -> None:
        if self.follower is not None:
            self.follower.update(text)

    def tail(self) -> list[str]:
        return list(self.follower.tail) if self.follower is not None else []


def _stop(client: JobsClient, run: _Run, console: Console) -> None:
    """Ask Ray to stop the job and wait until it says STOPPED (or another end state)."""
    client.stop(run.job_id)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        run.details = client.job(run.job_id)
        if run.details.get("status") in TERMINAL:
            run.ended_at = time.monotonic()
            console.info(f"mlgate: Ray job {run.job_id} is {run.details.get('status')}")
            return
        time.sleep(0.2)
    console.warn(
        f"Ray job {run.job_id} is still {run.details.get('status')} {STOP_WAIT_S:.0f} s after the stop "
        f"request; stop it with `ray job stop {run.job_id}`"
    )


def _exit_code(details: Mapping[str, Any], frames: Frames, timed_out: bool) -> int:
    code = details.get("driver_exit_code")
    if frames.exit_code is not None:
        code = frames.exit_code
    if isinstance(code, int):
        return 128 - code if code < 0 else code
    if details.get("status") == "SUCCEEDED":
        return 0
    return 143 if timed_out or details.get("status") == "STOPPED" else 1


def _check_fits(address: str, needs: Mapping[str, float], nodes: list[Mapping[str, Any]]) -> None:
    """A job no node can hold would stay PENDING for ever: say so before submitting."""
    if any(all(node.get("resources_total", {}).get(k, 0) >= v for k, v in needs.items()) for node in nodes):
        return
    asked = ", ".join(f"{key}: {value:g}" for key, value in needs.items())
    largest = "; ".join(_describe(node) for node in nodes[:5]) or "no live node"
    raise TrainingError(
        "train.ray",
        f"no node of the Ray cluster at {address} can hold {{{asked}}} (nodes: {largest})",
        hint="lower train.gpus / train.ray.num_cpus / train.ray.resources, or add a node that has them",
    )


def _describe(node: Mapping[str, Any]) -> str:
    total = node.get("resources_total", {})
    shown = {k: v for k, v in total.items() if not k.startswith("node:") and "memory" not in k}
    return f"{node.get('node_ip', '?')} " + ", ".join(f"{k}: {v:g}" for k, v in sorted(shown.items()))


def _gpu_count(gpus: str, nodes: list[Mapping[str, Any]]) -> float:
    """`none` → 0; `0,1` → 2 (ids mean nothing on a cluster: their count does); `all` → the biggest node's."""
    if gpus == "none":
        return 0.0
    if gpus == "all":
        return max((float(n.get("resources_total", {}).get("GPU", 0)) for n in nodes), default=0.0) or 1.0
    return float(len(gpus.split(",")))


def _node(nodes: list[Mapping[str, Any]], node_id: object) -> Mapping[str, Any]:
    return next((node for node in nodes if node.get("node_id") == node_id), {})


def _gpu_telemetry(node: Mapping[str, Any], gpus: float) -> GpuTelemetry | None:
    if not gpus or not node:
        return None
    kinds = [k.split(":", 1)[1] for k in node.get("resources_total", {}) if k.startswith("accelerator_type:")]
    return GpuTelemetry(names=(kinds[0] if kinds else "GPU",) * int(gpus), source="ray")


def _extra(address: str, run: _Run, node: Mapping[str, Any], gpus: float, version: str) -> dict[str, str]:
    details = run.details
    queued = (run.running_at or run.ended_at or run.started) - run.started
    extra = {
        "ray_address": address,
        "ray_job_id": run.job_id,
        "ray_status": str(details.get("status")),
        "ray_version": version,
        "ray_node": f"{node.get('node_ip', '?')} ({str(details.get('driver_node_id') or '?')[:12]})",
        "ray_gpus": f"{gpus:g}",
        "ray_queue_s": f"{queued:.2f}",
    }
    if run.running_at is not None and run.ended_at is not None:
        extra["ray_run_s"] = f"{run.ended_at - run.running_at:.2f}"
    if details.get("error_type"):
        extra["ray_error_type"] = str(details["error_type"])
    return extra


def _state_file(spec: TrainSpec) -> Path:
    """Where the names of the files the last job brought back are kept (next to the log)."""
    return spec.log_path.parent / "ray-outputs.json"


def _outputs_of_last_run(state: Path) -> list[str]:
    try:
        return [str(name) for name in json.loads(state.read_text()).get("outputs", [])]
    except (OSError, ValueError, AttributeError):
        return []


def _token(ray: RayConfig, env: Mapping[str, str]) -> str | None:
    if not ray.token_env:
        return None
    token = env.get(ray.token_env)
    if not token:
        raise ConfigError("train.ray.token_env", f"${ray.token_env} is not set or empty")
    return token


def _run_id(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_RUN_ID"):
        return f"{env['GITHUB_RUN_ID']}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    return env.get("CI_JOB_ID") or None


def _git_head(cwd: Path) -> str | None:
    try:
        return GitRepo.discover(cwd).head()
    except GitError:
        return None


def _submission_id(sha: str | None, run_id: str | None) -> str:
    """`mlgate-<short sha>-<run id>`; outside CI the run id is the time in milliseconds."""
    return f"mlgate-{(sha or 'local')[:12]}-{run_id or int(time.time() * 1000)}"
