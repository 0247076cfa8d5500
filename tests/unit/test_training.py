"""The subprocess backend: exit codes, timeouts that stop the whole group, logs, resource usage."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from mlgate.console import Console
from mlgate.errors import ExitCode, TrainingError
from mlgate.training import TrainSpec, check_run, describe_failure
from mlgate.training.subprocess import SubprocessBackend
from mlgate.training.telemetry import GpuSampler, runner_info

PY = sys.executable


def run(tmp_path: Path, command: str, timeout: float = 30.0, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    console = Console(out=io.StringIO(), err=io.StringIO())
    full_env = {"PATH": os.environ.get("PATH", ""), **(env or {})}
    spec = TrainSpec(
        command=command,
        cwd=tmp_path,
        env=full_env,
        timeout_s=timeout,
        log_path=tmp_path / "logs" / "train.log",
        runner_env=full_env,
    )
    return SubprocessBackend().run(spec, console), console


def test_success_streams_output_to_log_and_console(tmp_path: Path) -> None:
    record, console = run(tmp_path, f"{PY} -c \"print('epoch 1'); print('epoch 2')\"")
    assert record.ok
    assert record.exit_code == 0
    assert record.log_tail[-2:] == ("epoch 1", "epoch 2")
    assert (tmp_path / "logs" / "train.log").read_text() == "epoch 1\nepoch 2\n"
    assert "  | epoch 2" in console.err.getvalue()
    assert record.runner is not None
    assert record.runner.cpus >= 1
    check_run(record)


def test_env_and_cwd_reach_the_command(tmp_path: Path) -> None:
    record, _ = run(
        tmp_path, f"{PY} -c \"import os; open('seed.txt','w').write(os.environ['SEED'])\"", env={"SEED": "7"}
    )
    assert record.ok
    assert (tmp_path / "seed.txt").read_text() == "7"


def test_nonzero_exit_is_a_training_error_with_exit_3(tmp_path: Path) -> None:
    record, _ = run(tmp_path, f"{PY} -c \"import sys; print('boom'); sys.exit(3)\"")
    assert record.exit_code == 3
    assert not record.ok
    assert record.log_tail == ("boom",)
    with pytest.raises(TrainingError) as info:
        check_run(record)
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert "exited with code 3" in str(info.value)


def test_missing_command_is_exit_127_with_a_hint(tmp_path: Path) -> None:
    record, _ = run(tmp_path, "no-such-trainer --epochs 3")
    assert record.exit_code == 127
    with pytest.raises(TrainingError) as info:
        check_run(record)
    assert "not found" in str(info.value)
    assert info.value.hint is not None
    assert "train.command" in info.value.hint


def test_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-alive"
    (tmp_path / "child.py").write_text(f"import time; time.sleep(3); open(r'{marker}', 'w').write('x')\n")
    (tmp_path / "train.py").write_text(
        f"import subprocess, time\nsubprocess.Popen([r'{PY}', 'child.py'])\nprint('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    record, _ = run(tmp_path, f"{PY} train.py", timeout=1.0)
    assert time.monotonic() - started < 10
    assert record.timed_out
    assert not record.ok
    assert "timed out" in describe_failure(record)
    time.sleep(3.5)
    assert not marker.exists(), "the grandchild survived the timeout"


def test_sigkill_is_named_as_out_of_memory_when_the_command_is_killed(tmp_path: Path) -> None:
    record, _ = run(tmp_path, f'{PY} -c "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"')
    assert record.exit_code == 137
    assert "SIGKILL" in describe_failure(record)
    assert "out of memory" in describe_failure(record)


def test_peak_rss_and_cpu_time_are_measured(tmp_path: Path) -> None:
    record, _ = run(tmp_path, f'{PY} -c "b = bytearray(200 * 2**20); sum(range(3_000_000))"')
    assert record.ok
    assert record.peak_rss_mib is not None
    assert record.peak_rss_mib > 200
    assert record.cpu_s is not None
    assert record.cpu_s > 0


def test_runner_is_self_hosted_when_github_says_so() -> None:
    assert runner_info({"RUNNER_ENVIRONMENT": "self-hosted", "RUNNER_NAME": "gpu-1"}).hosted is False
    info = runner_info({"RUNNER_ENVIRONMENT": "github-hosted"})
    assert info.hosted is True
    assert runner_info({}).hosted is None
    assert runner_info({}).cpu


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA GPU")
def test_gpu_telemetry_is_none_when_no_gpu_tooling_answers() -> None:
    sampler = GpuSampler.start(os.getpid(), {"PATH": os.environ.get("PATH", "")})
    sampler.sample_once()
    assert sampler.stop() is None


def test_backend_for_picks_subprocess_and_names_an_unavailable_backend() -> None:
    from mlgate.config import TrainConfig
    from mlgate.errors import ConfigError
    from mlgate.training.backends import BACKENDS, backend_for

    assert backend_for(TrainConfig(), {}).name == "subprocess"
    missing = [name for name, (module, _) in BACKENDS.items() if importlib.util.find_spec(module) is None]
    for name in missing:
        with pytest.raises(ConfigError, match=f"train.backend: '{name}' is not available"):
            backend_for(TrainConfig(backend=name), {})  # type: ignore[arg-type]


def test_forge_tokens_never_reach_the_training_command(tmp_path: Path) -> None:
    from mlgate.training import training_env

    env = training_env({"PATH": os.environ.get("PATH", ""), "GITHUB_TOKEN": "canary", "MLGATE_TOKEN": "x",
                        "INPUT_TOKEN": "x"}, {"SEED": "1"})  # fmt: skip
    script = "import os; print(sorted(k for k in os.environ if 'TOKEN' in k), os.environ['SEED'])"
    console = Console(out=io.StringIO(), err=io.StringIO())
    spec = TrainSpec(f'{PY} -c "{script}"', tmp_path, env, 30.0, tmp_path / "train.log")
    record = SubprocessBackend().run(spec, console)
    assert record.log_tail == ("[] 1",)


GPU_SCRIPT = """\
import time, torch
x = torch.empty(512 * 2**20, dtype=torch.uint8, device="cuda")  # 512 MiB on the GPU
(x.float().sum()).item()
time.sleep(4)  # long enough for the sampler to see the process (it needs a CUDA context first)
print(torch.cuda.get_device_name(0), flush=True)
"""


def _cuda_torch() -> bool:
    if shutil.which("nvidia-smi") is None or importlib.util.find_spec("torch") is None:
        return False
    torch = importlib.import_module("torch")
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda_torch(), reason="needs an NVIDIA GPU with nvidia-smi and a CUDA build of torch")
def test_gpu_training_shows_the_gpu_model_and_peak_memory_when_a_gpu_is_there(tmp_path: Path) -> None:
    (tmp_path / "gpu_train.py").write_text(GPU_SCRIPT)
    record, _ = run(tmp_path, f"{PY} gpu_train.py", timeout=120)
    assert record.ok, record.log_tail
    assert record.gpu is not None
    assert record.gpu.names
    assert record.gpu.names[0] in record.log_tail[-1]
    assert record.gpu.peak_memory_mib is not None
    assert record.gpu.peak_memory_mib >= 512
