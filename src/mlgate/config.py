"""`.mlgate.yml`'s shape: frozen dataclasses of every section, with the checks pydantic applies to them.

The shapes are stdlib dataclasses so that a command that reads a config it has validated before (see
configcache.py) never imports pydantic: it costs more than the rest of `mlgate diff`. pydantic validates them
(configschema.py), reading `Check` from the annotations, a field's docstring as its description, and
`__pydantic_config__`. Reading the file, the MLGATE_* environment and the flags is `configfile.load_config`'s.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import field
from typing import Annotated, Any, ClassVar, Literal

from mlgate.model import Direction, GateRule, Severity
from mlgate.record import Record

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class Check:
    """Annotated metadata: pydantic's `Field` constraints (`ge=0`, `pattern=…`) and before/after functions.

    pydantic calls `__get_pydantic_core_schema__` as it builds the schema: nothing imports pydantic before.
    """

    __slots__ = ("after", "before", "constraints")

    def __init__(
        self,
        *,
        before: Callable[[Any], Any] | None = None,
        after: Callable[[Any], Any] | None = None,
        **constraints: Any,
    ) -> None:
        self.before = before
        self.after = after
        self.constraints = constraints

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from mlgate.configschema import check_schema

        return check_schema(self, source, handler)


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


def _optional_duration(value: Any) -> float | None:
    return None if value is None else parse_duration(value)


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


def _gpus(value: Any) -> str:
    text = str(value).strip().lower()
    if text in ("all", "none") or re.fullmatch(r"\d+(,\d+)*", text):
        return text
    raise ValueError(f"must be all, none or device ids like 0,1; got {value!r}")


def _env_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): ("" if v is None else str(v)) for k, v in value.items()}
    return value


Glob = Annotated[str, Check(min_length=1, after=check_glob)]
Positive = Annotated[float, Check(gt=0)]
NonNegative = Annotated[float, Check(ge=0)]


class _Section(Record):
    """What every section shares: unknown keys are errors, and a field's docstring is its description."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid", "use_attribute_docstrings": True}


class RayConfig(_Section):
    """`train.ray`: where and how to submit to a Ray cluster."""

    address: str | None = None
    """Ray dashboard address; defaults to $RAY_ADDRESS"""
    num_cpus: NonNegative = 1
    resources: dict[str, float] = field(default_factory=dict)
    working_dir: str = "."
    excludes: list[str] = field(default_factory=lambda: ["data/"])
    token_env: str | None = None
    """name of the env var holding the cluster's auth token"""
    max_upload_mb: Positive = 100
    """refuse a working directory larger than this"""
    large_file_mb: Positive = 25
    """files larger than this are left out of the upload"""
    max_results_mb: Positive = 64
    """most result data a job may send back"""


class DockerConfig(_Section):
    """`train.docker`: how the work tree reaches the training container."""

    transfer: Literal["auto", "mount", "copy"] = "auto"
    """mount: bind-mount the work tree; copy: copy it in and the results out; auto: mount with a local daemon,
    copy with a remote one (DOCKER_HOST tcp:// or ssh://, or a remote docker context)"""
    excludes: list[str] = field(default_factory=list)
    """gitignore-like; left out of the copy"""
    results: list[str] = field(default_factory=list)
    """more files or globs to copy back, besides metrics, params, predictions and plot data"""
    max_upload_mb: Positive = 100
    """refuse to copy a larger work tree"""
    large_file_mb: Positive = 25
    """files larger than this are left out of the copy"""
    max_results_mb: Positive = 64
    """most result data copied back"""
    ssh_options: list[str] = field(default_factory=list)
    """more arguments for ssh with DOCKER_HOST=ssh://, e.g. [-F, ci/ssh_config] or [-o, ProxyJump=bastion]"""


class TrainConfig(_Section):
    """`train`: the training command and where it runs."""

    command: str | None = None
    """omit to only evaluate existing metrics files"""
    backend: Literal["subprocess", "docker", "ray"] = "subprocess"
    image: str | None = None
    """docker backend only"""
    gpus: Annotated[str, Check(before=_gpus)] = "none"
    """all | none | comma-separated device ids, e.g. 0,1"""
    timeout: Annotated[float, Check(before=parse_duration)] = 7200.0
    """seconds, or a duration such as 90s, 15m, 2h"""
    env: Annotated[dict[str, str], Check(before=_env_values)] = field(default_factory=dict)
    ray: RayConfig = field(default_factory=RayConfig)
    docker: DockerConfig = field(default_factory=DockerConfig)


class PredictionColumns(_Section):
    """`predictions.columns`: which column of the predictions file holds what."""

    id: str | None = ""
    """the example id column: named, it is required; empty (the default), a column `id` is used if there is
    one; null, ids are not used"""
    y_true: str = "y_true"
    y_pred: str = "y_pred"
    score: str | None = None


class ConfirmConfig(_Section):
    """`predictions.confirm`: re-run the evaluation when a gated metric is inconclusive (off by default)."""

    command: str | None = None
    """the evaluation command to re-run; train.command when omitted"""
    runs: Annotated[int, Check(ge=1, le=10)] = 2
    """how many re-runs, each with its own seed"""
    seed_env: Annotated[str, Check(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = "MLGATE_SEED"
    """env var holding each re-run's seed: 1, 2, …"""
    timeout: Annotated[float | None, Check(before=_optional_duration)] = None
    """per re-run, seconds or a duration; train.timeout when omitted"""


class PredictionsConfig(_Section):
    """`predictions`: per-example results, which enable the noise model."""

    path: str
    task: Literal["classification", "regression"] = "classification"
    columns: PredictionColumns = field(default_factory=PredictionColumns)
    level: Annotated[float, Check(gt=0.5, lt=1.0)] = 0.95
    """confidence level shared by the gated metrics"""
    seed: Annotated[int, Check(ge=0)] = 0
    """seed of the bootstrap, so a verdict is reproducible"""
    confirm: ConfirmConfig | None = None
    """re-run the evaluation when a result is inconclusive"""

    @property
    def look_level(self) -> float:
        """The level of each look at the data: with `confirm`, the error budget is split over two looks."""
        return self.level if self.confirm is None else 1 - (1 - self.level) / 2


class CurvePlot(_Section):
    """A `plots:` entry of kind `curve`: training curves from a CSV, JSON or TSV history, base vs head."""

    kind: Literal["curve"]
    path: str
    x: str | None = None
    """x column; the row number when omitted"""
    y: list[str] = field(default_factory=list)
    """y columns; every numeric column when empty"""
    title: str | None = None


class PredictionPlot(_Section):
    """A `plots:` entry of kind `confusion`, `roc` or `pr`, drawn from `predictions`."""

    kind: Literal["confusion", "roc", "pr"]
    title: str | None = None


class BarsPlot(_Section):
    """A `plots:` entry of kind `bars`: base vs head of the gated metrics (or of `metrics`)."""

    kind: Literal["bars"]
    metrics: list[Glob] = field(default_factory=list)
    """globs; the gated metrics when empty"""
    title: str | None = None


class ImagePlot(_Section):
    """A `plots:` entry of kind `image`: PNG files the training wrote, by glob."""

    kind: Literal["image"]
    path: str
    title: str | None = None


PlotSpec = Annotated[CurvePlot | PredictionPlot | BarsPlot | ImagePlot, Check(discriminator="kind")]


class GateRuleConfig(_Section):
    """One `gates:` entry; the first rule whose glob matches a metric's name wins."""

    metric: Glob
    direction: Direction | None = None
    """inferred from the name when omitted"""
    abs: NonNegative = 0.0
    rel: NonNegative = 0.0
    min: float | None = None
    max: float | None = None
    severity: Severity = Severity.FAIL

    def __post_init__(self) -> None:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")

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
    """`baseline`: where the main branch's numbers are found, in order, and what a missing one means."""

    branch: str = "main"
    stores: list[BaselineStoreName] = field(default_factory=_default_stores)
    max_distance: Annotated[int, Check(ge=0)] = 20
    if_missing: Literal["pass", "warn", "fail"] = "pass"


class DriftConfig(_Section):
    """`data.drift`: how a data file is compared with the base's sketch of it."""

    method: Literal["psi", "ks"] = "psi"
    warn: NonNegative = 0.1


class DataConfig(_Section):
    """`data`: a data file to check against the base's sketch (columns, types, nulls, drift)."""

    path: str
    drift: DriftConfig = field(default_factory=DriftConfig)
    severity: Severity = Severity.WARN


class ReportConfig(_Section):
    """`report`: the report's title, precision and an optional custom template."""

    title: str = "Model report"
    template: str | None = None
    """path of a custom Jinja template for the Markdown report"""
    precision: Annotated[int, Check(ge=1, le=12)] = 4


class CommentConfig(_Section):
    """`comment`: when the sticky PR/MR comment is posted, and whether it is updated or added."""

    when: Literal["always", "change", "regression", "never"] = "always"
    mode: Literal["update", "new", "once"] = "update"


class ChatopsConfig(_Section):
    """`chatops`: the `/mlgate` commands maintainers may answer with in PR comments."""

    enabled: bool = True
    min_permission: Literal["write", "maintain", "admin"] = "write"
    allow_self_accept: bool = False


class StatusConfig(_Section):
    """`status`: the commit status or check run that carries the verdict."""

    name: str = "mlgate"
    informational: bool = False
    check_run: Literal["auto", "never"] = "auto"
    """GitHub: auto sends the verdict as a check run carrying the report when the token may create one (a
    GitHub App token such as Actions' GITHUB_TOKEN with `checks: write`), else a commit status; never: always
    a commit status"""


class Config(_Section):
    """The whole `.mlgate.yml`."""

    version: Literal[1] = 1
    train: TrainConfig = field(default_factory=TrainConfig)
    metrics: list[str] | None = None
    """files or globs; DVC layouts are found when omitted"""
    params: list[str] | None = None
    """files or globs; DVC layouts are found when omitted"""
    predictions: PredictionsConfig | None = None
    plots: list[PlotSpec] = field(default_factory=list)
    gates: list[GateRuleConfig] = field(default_factory=list)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    data: DataConfig | None = None
    report: ReportConfig = field(default_factory=ReportConfig)
    comment: CommentConfig = field(default_factory=CommentConfig)
    chatops: ChatopsConfig = field(default_factory=ChatopsConfig)
    status: StatusConfig = field(default_factory=StatusConfig)

    @property
    def rules(self) -> tuple[GateRule, ...]:
        return tuple(rule.to_rule(i) for i, rule in enumerate(self.gates))
