"""Which backend runs the training: `train.backend` → a Backend built from the config.

Each backend module exposes a class with `from_config(train: TrainConfig, env: Mapping[str, str])`; the module
is imported only when chosen, so the docker SDK and httpx stay off the start-up path.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from mlgate.config import TrainConfig
from mlgate.errors import ConfigError
from mlgate.training import Backend

BACKENDS = {
    "subprocess": ("mlgate.training.subprocess", "SubprocessBackend"),
    "docker": ("mlgate.training.docker", "DockerBackend"),
    "ray": ("mlgate.training.ray", "RayBackend"),
}


def backend_for(train: TrainConfig, env: Mapping[str, str]) -> Backend:
    """The configured backend, or a ConfigError (exit 2) naming `train.backend` when it is unavailable."""
    module_name, class_name = BACKENDS[train.backend]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(
            ".mlgate.yml", f"train.backend: {train.backend!r} is not available in this version",
            hint="use `backend: subprocess`",
        ) from None  # fmt: skip
    backend: Backend = getattr(module, class_name).from_config(train, env)
    return backend
