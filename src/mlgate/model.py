"""The values every module shares: metrics, params, comparisons, gate results, run records. No I/O."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.record import Record

if TYPE_CHECKING:  # numpy stays off the import path of `mlgate diff`
    import numpy as np


class Direction(StrEnum):
    """Which way a metric improves."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


class Severity(StrEnum):
    """What a regression of a gated metric does to the overall verdict."""

    FAIL = "fail"
    WARN = "warn"


class Verdict(StrEnum):
    """What happened to one metric between base and head."""

    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    INCONCLUSIVE = "inconclusive"
    REGRESSED = "regressed"
    NEW = "new"
    REMOVED = "removed"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """The overall gate verdict."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NO_BASELINE = "no_baseline"


class ValueKind(StrEnum):
    """How a metric value was written in its file."""

    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"


class Metric(Record):
    """One named value from a metrics file. `value` is None when the file held no number (kind TEXT).

    `repeats`: the metric's values in the file's several runs (seeds), when it has at least two.
    """

    name: str
    value: float | None
    source: str
    kind: ValueKind = ValueKind.NUMBER
    raw: str | None = None
    repeats: tuple[float, ...] = ()

    @property
    def is_number(self) -> bool:
        return self.value is not None and not math.isnan(self.value)

    def display(self, precision: int = 4) -> str:
        if self.kind is ValueKind.TEXT or self.value is None:
            return self.raw if self.raw is not None else "—"
        if self.kind is ValueKind.BOOL:
            return "true" if self.value else "false"
        return format_number(self.value, precision)


def format_number(value: float, precision: int = 4) -> str:
    """A number as a person reads it: integers plain, others to `precision` significant digits."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{precision}g}"


class MetricSet(Record):
    """Metrics by flattened dotted name, in file order, with the files they came from."""

    metrics: Mapping[str, Metric] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def __len__(self) -> int:
        return len(self.metrics)

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def get(self, name: str) -> Metric | None:
        return self.metrics.get(name)


class Param(Record):
    """One hyperparameter, flattened to a dotted name, as text for display."""

    name: str
    value: str
    source: str


class Params(Record):
    """Hyperparameters by dotted name."""

    params: Mapping[str, Param] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def get(self, name: str) -> Param | None:
        return self.params.get(name)


class ParamChange(Record):
    """A param whose value differs between base and head (None: absent on that side)."""

    name: str
    base: str | None
    head: str | None


class Interval(Record):
    """A confidence interval for the head − base difference, oriented so that higher is better."""

    low: float
    high: float
    level: float
    method: str

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


class Delta(Record):
    """One metric on both sides. `change` is head − base; `rel` is change / |base| (None if undefined)."""

    name: str
    base: Metric | None
    head: Metric | None
    interval: Interval | None = None

    @property
    def change(self) -> float | None:
        if self.base is None or self.head is None or not (self.base.is_number and self.head.is_number):
            return None
        assert self.base.value is not None
        assert self.head.value is not None
        diff = self.head.value - self.base.value
        return None if math.isnan(diff) else diff

    @property
    def lost_number(self) -> bool:
        """Head has the metric but no longer as a number (a string, a list, a mapping, NaN), where the
        baseline has one."""
        base, head = self.base, self.head
        return base is not None and base.is_number and head is not None and not head.is_number

    @property
    def rel(self) -> float | None:
        change = self.change
        if change is None or self.base is None or self.base.value in (None, 0.0):
            return None
        assert self.base.value is not None
        rel = change / abs(self.base.value)
        return None if math.isnan(rel) else rel


class BaselineRef(Record):
    """Where the baseline came from: store, commit, how far back from the merge-base, when, which run."""

    store: str
    sha: str
    distance: int = 0
    saved_at: str | None = None
    run_id: str | None = None
    eval_hash: str | None = None


class Comparison(Record):
    """Every metric of head and base side by side, the changed params, and the baseline's provenance."""

    deltas: tuple[Delta, ...]
    param_changes: tuple[ParamChange, ...] = ()
    baseline: BaselineRef | None = None
    head_sha: str | None = None
    noise_note: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def has_baseline(self) -> bool:
        return self.baseline is not None


class GateRule(Record):
    """One `gates:` entry: the first rule whose glob matches a metric decides how it is judged."""

    metric: str
    direction: Direction | None = None
    abs: float = 0.0
    rel: float = 0.0
    min: float | None = None
    max: float | None = None
    severity: Severity = Severity.FAIL
    index: int | None = None


class MetricResult(Record):
    """The gate's judgement of one metric and the reason, in words a person can check."""

    delta: Delta
    direction: Direction
    verdict: Verdict
    severity: Severity
    rule: GateRule | None
    reason: str
    gated: bool
    bound_violated: bool = False

    @property
    def name(self) -> str:
        return self.delta.name

    @property
    def blocking(self) -> bool:
        """A failure that makes the overall verdict FAIL."""
        bad = self.verdict is Verdict.REGRESSED or self.bound_violated
        return self.gated and bad and self.severity is Severity.FAIL

    @property
    def warning(self) -> bool:
        """A gated result that does not block but must not pass silently: a REMOVED metric among them, and one
        that is a number in the baseline but not at head (a string, a list, a mapping, NaN)."""
        doubtful = self.verdict in (Verdict.REGRESSED, Verdict.INCONCLUSIVE, Verdict.REMOVED)
        bad = doubtful or self.bound_violated or self.delta.lost_number
        return self.gated and bad and not self.blocking


class GateResult(Record):
    """Per-metric results, regressions first, and the overall outcome."""

    results: tuple[MetricResult, ...]
    outcome: Outcome
    strict: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    @property
    def failures(self) -> tuple[MetricResult, ...]:
        return tuple(r for r in self.results if r.blocking)

    @property
    def warnings(self) -> tuple[MetricResult, ...]:
        return tuple(r for r in self.results if r.warning)

    def get(self, name: str) -> MetricResult | None:
        return next((r for r in self.results if r.name == name), None)


class GpuTelemetry(Record):
    """GPUs seen during training: model names, count, peak memory of the training processes, utilisation."""

    names: tuple[str, ...]
    peak_memory_mib: float | None = None
    peak_util_pct: float | None = None
    mean_util_pct: float | None = None
    source: str = "nvidia-smi"


class RunnerInfo(Record):
    """The machine that ran the training."""

    os: str
    cpu: str
    cpus: int
    hosted: bool | None = None
    name: str | None = None


class RunRecord(Record):
    """What one training run did: exit status, time, memory, log tail, where it ran."""

    command: str
    backend: str
    exit_code: int
    duration_s: float
    cpu_s: float | None = None
    peak_rss_mib: float | None = None
    timed_out: bool = False
    signal: str | None = None
    log_tail: tuple[str, ...] = ()
    log_path: str | None = None
    runner: RunnerInfo | None = None
    gpu: GpuTelemetry | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class ChangeRef(Record):
    """A change on the code host: repository, head commit, PR/MR number if any."""

    repo: str
    sha: str
    number: int | None = None


class Predictions(Record, eq=False):
    """Per-example results of one eval run. Classes are encoded 0..k-1; `labels` holds their names.

    `score` is the positive-class probability (binary) or None; `content_hash` identifies the eval set
    (ids and y_true only), so head and base can be paired only when they were scored on the same examples.
    """

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    source: str
    content_hash: str
    ids: np.ndarray | None = None
    score: np.ndarray | None = None
    labels: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.y_true.shape[0])


class PlotImage(Record):
    """A rendered plot or a user image: what it shows and where the PNG is."""

    title: str
    path: Path
    alt: str = ""
