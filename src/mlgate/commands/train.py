"""`mlgate train`: run the configured training command with telemetry and write the run record."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from mlgate.ci import secret_values
from mlgate.commands import Context, Subparsers, add_command
from mlgate.config import Config
from mlgate.errors import ExitCode, UsageError
from mlgate.masking import Masker
from mlgate.model import RunRecord
from mlgate.pipeline import load_effective_config
from mlgate.training import TrainSpec, check_run, describe_failure, training_env
from mlgate.training.backends import backend_for
from mlgate.training.outputs import output_paths

RUN_RECORD = Path(".mlgate") / "run.json"
TRAIN_LOG = Path(".mlgate") / "train.log"


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "train", run, help="run train.command with telemetry; write .mlgate/run.json", parents=parents
    )
    add_train_flags(parser)


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--command", dest="train_command", metavar="CMD", help="override train.command")
    parser.add_argument("--timeout", metavar="DURATION", help="override train.timeout (e.g. 90s, 15m, 2h)")


def run(ctx: Context) -> ExitCode:
    ctx.console.mask = Masker(secret_values(ctx.env)).mask  # as `run` masks them
    config = load_effective_config(ctx.cwd, ctx.flag("config"), ctx.env, train_overrides(ctx)).config
    record = train(ctx, config, ctx.cwd)
    check_run(record)
    return ExitCode.OK


def train_overrides(ctx: Context) -> dict[str, object]:
    return {"train.command": ctx.flag("train_command"), "train.timeout": ctx.flag("timeout")}


def train(ctx: Context, config: Config, root: Path) -> RunRecord:
    """Run the training and write the run record next to the log; a failed run is returned, not raised."""
    command = config.train.command
    if not command:
        raise UsageError(
            "train.command", "not set", hint="set train.command in .mlgate.yml or pass --command"
        )
    backend = backend_for(config.train, ctx.env)
    spec = TrainSpec(
        command=command,
        cwd=root,
        env=training_env(ctx.env, config.train.env),
        timeout_s=config.train.timeout,
        log_path=root / TRAIN_LOG,
        gpus=config.train.gpus,
        runner_env=ctx.env,
        outputs=output_paths(config, root),
    )
    record = backend.run(spec, ctx.console)
    write_record(record, root / RUN_RECORD)
    if not record.ok:
        ctx.console.warn(describe_failure(record))
    return record


def write_record(record: RunRecord, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2, default=str) + "\n")
    tmp.replace(path)
