"""`.mlgate.yml`'s shape: the pydantic models of every section, their validators, and the JSON Schema.

Reading the file, the MLGATE_* environment and the flags into a `Config` is `configfile.load_config`'s.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlgate.model import Direction, GateRule, Severity

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: str | float | int) -> float:
    """`90`, `"90s"`, `"15m"`, `"2h"` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 2h)")
        seconds = float(match[1]) * _UNIT_S[match[2]]
    if seconds <= 0:
        raise ValueError("must be > 0")
    return seconds


def check_glob(pattern: str) -> str:
    """A glob that fnmatch can compile and that has balanced brackets."""
    if not pattern:
        raise ValueError("empty glob")
    if pattern.count("[") != pattern.count("]"):
        raise ValueError(f"bad glob {pattern!r}: unbalanced brackets")
    try:
        re.compile(fnmatch.translate(pattern))
    except re.error as exc:
        raise ValueError(f"bad glob {pattern!r}: {exc}") from None
    return pattern


Glob = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RayConfig(_Section):
    """`train.ray`: where and how to submit to a Ray cluster."""

    address: str | None = Field(None, description="Ray dashboard address; defaults to $RAY_ADDRESS")
    num_cpus: float = Field(1, ge=0)
    resources: dict[str, float] = Field(default_factory=dict)
    working_dir: str = "."
    excludes: list[str] = Field(default_factory=lambda: ["data/"])
    token_env: str | None = Field(None, description="name of the env var holding the cluster's auth token")
    max_upload_mb: float = Field(100, gt=0, description="refuse a working directory larger than this")
    large_file_mb: float = Field(25, gt=0, description="files larger than this are left out of the upload")
    max_results_mb: float = Field(64, gt=0, description="most result data a job may send back")


class DockerConfig(_Section):
    """`train.docker`: how the work tree reaches the training container."""

    transfer: Literal["auto", "mount", "copy"] = Field(
        "auto",
        description="mount: bind-mount the work tree; copy: copy it in and the results out; auto: mount with "
        "a local daemon, copy with a remote one (DOCKER_HOST tcp:// or ssh://, or a remote docker context)",
    )
    excludes: list[str] = Field(default_factory=list, description="gitignore-like; left out of the copy")
    results: list[str] = Field(
        default_factory=list,
        description="more files or globs to copy back, besides metrics, params, predictions and plot data",
    )
    max_upload_mb: float = Field(100, gt=0, description="refuse to copy a larger work tree")
    large_file_mb: float = Field(25, gt=0, description="files larger than this are left out of the copy")
    max_results_mb: float = Field(64, gt=0, description="most result data copied back")
    ssh_options: list[str] = Field(
        default_factory=list,
        description="more arguments for ssh with DOCKER_HOST=ssh://, e.g. [-F, ci/ssh_config] or "
        "[-o, ProxyJump=bastion]",
    )


class TrainConfig(_Section):
    """`train`: the training command and where it runs."""

    command: str | None = Field(None, description="omit to only evaluate existing metrics files")
    backend: Literal["subprocess", "docker", "ray"] = "subprocess"
    image: str | None = Field(None, description="docker backend only")
    gpus: str = Field("none", description="all | none | comma-separated device ids, e.g. 0,1")
    timeout: float = Field(7200.0, description="seconds, or a duration such as 90s, 15m, 2h")
    env: dict[str, str] = Field(default_factory=dict)
    ray: RayConfig = Field(default_factory=RayConfig)
    docker: DockerConfig = Field(default_factory=DockerConfig)

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpus(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if text in ("all", "none") or re.fullmatch(r"\d+(,\d+)*", text):
            return text
        raise ValueError(f"must be all, none or device ids like 0,1; got {value!r}")

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ("" if v is None else str(v)) for k, v in value.items()}
        return value


class PredictionColumns(_Section):
    id: str | None = "id"
    y_true: str = "y_true"
    y_pred: str = "y_pred"
    score: str | None = None


class ConfirmConfig(_Section):
    """`predictions.confirm`: re-run the evaluation when a gated metric is inconclusive (off by default)."""

    command: str | None = Field(
        None, description="the evaluation command to re-run; train.command when omitted"
    )
    runs: int = Field(2, ge=1, le=10, description="how many re-runs, each with its own seed")
    seed_env: str = Field(
        "MLGATE_SEED",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="env var holding each re-run's seed: 1, 2, …",
    )
    timeout: float | None = Field(
        None, description="per re-run, seconds or a duration; train.timeout when omitted"
    )

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)


class PredictionsConfig(_Section):
    """`predictions`: per-example results, which enable the noise model."""

    path: str
    task: Literal["classification", "regression"] = "classification"
    columns: PredictionColumns = Field(default_factory=PredictionColumns)
    level: float = Field(0.95, gt=0.5, lt=1.0, description="confidence level shared by the gated metrics")
    seed: int = Field(0, ge=0, description="seed of the bootstrap, so a verdict is reproducible")
    confirm: ConfirmConfig | None = Field(
        None, description="re-run the evaluation when a result is inconclusive"
    )

    @property
    def look_level(self) -> float:
        """The level of each look at the data: with `confirm`, the error budget is split over two looks."""
        return self.level if self.confirm is None else 1 - (1 - self.level) / 2


class CurvePlot(_Section):
    kind: Literal["curve"]
    path: str
    x: str | None = Field(None, description="x column; the row number when omitted")
    y: list[str] = Field(default_factory=list, description="y columns; every numeric column when empty")
    title: str | None = None


class PredictionPlot(_Section):
    kind: Literal["confusion", "roc", "pr"]
    title: str | None = None


class BarsPlot(_Section):
    kind: Literal["bars"]
    metrics: list[Glob] = Field(default_factory=list, description="globs; the gated metrics when empty")
    title: str | None = None


class ImagePlot(_Section):
    kind: Literal["image"]
    path: str
    title: str | None = None


PlotSpec = Annotated[CurvePlot | PredictionPlot | BarsPlot | ImagePlot, Field(discriminator="kind")]


class GateRuleConfig(_Section):
    """One `gates:` entry; the first rule whose glob matches a metric's name wins."""

    metric: Glob
    direction: Direction | None = Field(None, description="inferred from the name when omitted")
    abs: float = Field(0.0, ge=0)
    rel: float = Field(0.0, ge=0)
    min: float | None = None
    max: float | None = None
    severity: Severity = Severity.FAIL

    @field_validator("metric")
    @classmethod
    def _glob(cls, value: str) -> str:
        return check_glob(value)

    @model_validator(mode="after")
    def _bounds(self) -> GateRuleConfig:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self

    def to_rule(self, index: int) -> GateRule:
        return GateRule(
            metric=self.metric,
            direction=self.direction,
            abs=self.abs,
            rel=self.rel,
            min=self.min,
            max=self.max,
            severity=self.severity,
            index=index,
        )


BaselineStoreName = Literal["git-notes", "ci-artifact", "committed", "retrain"]


def _default_stores() -> list[BaselineStoreName]:
    return ["git-notes", "ci-artifact", "committed"]


class BaselineConfig(_Section):
    branch: str = "main"
    stores: list[BaselineStoreName] = Field(default_factory=_default_stores)
    max_distance: int = Field(20, ge=0)
    if_missing: Literal["pass", "warn", "fail"] = "pass"


class DriftConfig(_Section):
    method: Literal["psi", "ks"] = "psi"
    warn: float = Field(0.1, ge=0)


class DataConfig(_Section):
    path: str
    drift: DriftConfig = Field(default_factory=DriftConfig)
    severity: Severity = Severity.WARN


class ReportConfig(_Section):
    title: str = "Model report"
    template: str | None = Field(None, description="path of a custom Jinja template for the Markdown report")
    precision: int = Field(4, ge=1, le=12)


class CommentConfig(_Section):
    when: Literal["always", "change", "regression", "never"] = "always"
    mode: Literal["update", "new", "once"] = "update"


class ChatopsConfig(_Section):
    enabled: bool = True
    min_permission: Literal["write", "maintain", "admin"] = "write"
    allow_self_accept: bool = False


class StatusConfig(_Section):
    name: str = "mlgate"
    informational: bool = False
    check_run: Literal["auto", "never"] = Field(
        "auto",
        description="GitHub: auto sends the verdict as a check run carrying the report when the token may "
        "create one (a GitHub App token such as Actions' GITHUB_TOKEN with `checks: write`), else a commit "
        "status; never: always a commit status",
    )


class Config(_Section):
    """The whole `.mlgate.yml`."""

    version: Literal[1] = 1
    train: TrainConfig = Field(default_factory=TrainConfig)
    metrics: list[str] | None = Field(None, description="files or globs; DVC layouts are found when omitted")
    params: list[str] | None = Field(None, description="files or globs; DVC layouts are found when omitted")
    predictions: PredictionsConfig | None = None
    plots: list[PlotSpec] = Field(default_factory=list)
    gates: list[GateRuleConfig] = Field(default_factory=list)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    data: DataConfig | None = None
    report: ReportConfig = Field(default_factory=ReportConfig)
    comment: CommentConfig = Field(default_factory=CommentConfig)
    chatops: ChatopsConfig = Field(default_factory=ChatopsConfig)
    status: StatusConfig = Field(default_factory=StatusConfig)

    @property
    def rules(self) -> tuple[GateRule, ...]:
        return tuple(rule.to_rule(i) for i, rule in enumerate(self.gates))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `.mlgate.yml`, as `mlgate schema` prints it."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlgate configuration (.mlgate.yml)"
    return schema
