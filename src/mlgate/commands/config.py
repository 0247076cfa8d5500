"""`mlgate config`: the effective config and where each part came from; `mlgate schema`: its schema."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from mlgate.commands import Context, Subparsers, add_command
from mlgate.errors import ExitCode

_SECRET_KEY = re.compile(r"token|secret|password|passwd|key|credential", re.IGNORECASE)


def register(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub, "config", run_config, help="print the effective config (secrets masked)", parents=parents
    )
    parser.add_argument("--json", action="store_true", help="JSON instead of YAML")
    add_command(sub, "schema", run_schema, help="print the JSON Schema of .mlgate.yml", parents=parents)


def run_config(ctx: Context) -> ExitCode:
    from mlgate.configschema import dump
    from mlgate.pipeline import load_effective_config
    from mlgate.yamlfile import dump_yaml

    loaded = load_effective_config(ctx.cwd, ctx.flag("config"), ctx.env)
    data = mask_secrets(dump(loaded.config))
    if ctx.flag("json"):
        ctx.console.print(json.dumps(data, indent=2))
        return ExitCode.OK
    ctx.console.print(f"# config file: {loaded.path or '(none: defaults)'}")
    for key, source in sorted(loaded.sources.items()):
        ctx.console.print(f"# {key}: from {source}")
    ctx.console.print(dump_yaml(data).rstrip())
    return ExitCode.OK


def mask_secrets(data: Any, key: str = "") -> Any:
    """Values under keys that name a secret (train.env.API_TOKEN …) become `***`."""
    if isinstance(data, dict):
        return {k: mask_secrets(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_secrets(v, key) for v in data]
    if key and _SECRET_KEY.search(key) and isinstance(data, str) and data:
        return "***"
    return data


def run_schema(ctx: Context) -> ExitCode:
    from mlgate.configschema import json_schema

    ctx.console.print(json.dumps(json_schema(), indent=2))
    return ExitCode.OK
