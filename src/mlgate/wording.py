"""The words of a report: the verdict line, the telemetry and provenance facts, and the noise line.

Text here is mlgate's own; untrusted values inside it (metric names, commands, runner names) go through
`mlgate.markdown`'s code spans, or are marked `code=True` for the caller to fence.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from mlgate.markdown import clean, code_span, delta_text
from mlgate.model import (
    BaselineRef,
    Comparison,
    Delta,
    GateResult,
    MetricResult,
    Outcome,
    RunRecord,
    Verdict,
    format_number,
)

_RANK = {Verdict.UNKNOWN: 2, Verdict.REMOVED: 3, Verdict.REGRESSED: 4, Verdict.IMPROVED: 5, Verdict.NEW: 6,
         Verdict.INCONCLUSIVE: 7, Verdict.UNCHANGED: 8}  # fmt: skip


class Fact(NamedTuple):
    """One labelled line of the telemetry or provenance section; `code`: the value is untrusted text."""

    label: str
    value: str
    code: bool = True


def rank(result: MetricResult) -> int:
    """Sort key: regressions first, then warnings, unknown/removed, improvements, new, unchanged."""
    return 0 if result.blocking else 1 if result.warning else _RANK[result.verdict]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def verdict_text(gate: GateResult, run: RunRecord | None) -> str:
    """The overall verdict in words with its emoji, e.g. `❌ mlgate: 2 regressions` (fixed text only)."""
    if run is not None and not run.ok:
        return f"💥 mlgate: training {'timed out' if run.timed_out else 'failed'}"
    if gate.outcome is Outcome.FAIL:
        count = len(gate.failures)
        return f"❌ mlgate: {_plural(count, 'regression')}" if count else "❌ mlgate: failed"
    if gate.outcome is Outcome.NO_BASELINE:
        return "ℹ️ mlgate: no baseline"
    warnings = len(gate.warnings)
    if gate.outcome is Outcome.WARN or warnings:
        return f"⚠️ mlgate: passed with {_plural(warnings, 'warning')}"
    return "✅ mlgate: passed"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _mib(value: float) -> str:
    return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MiB"


def _run_result(run: RunRecord) -> str:
    if run.timed_out:
        return f"timed out after {_duration(run.duration_s)}"
    if run.signal:
        return f"killed by {clean(run.signal, 20)}"
    return "succeeded" if run.exit_code == 0 else f"failed with exit code {run.exit_code}"


def telemetry_facts(run: RunRecord) -> list[Fact]:
    """Command, result, wall and CPU time, peak RSS, runner, GPU (or "CPU only")."""
    facts = [
        Fact("Command", run.command),
        Fact("Backend", run.backend),
        Fact("Result", _run_result(run), False),
    ]
    facts.append(Fact("Wall time", _duration(run.duration_s), False))
    if run.cpu_s is not None:
        facts.append(Fact("CPU time", _duration(run.cpu_s), False))
    if run.peak_rss_mib is not None:
        facts.append(Fact("Peak RSS", _mib(run.peak_rss_mib), False))
    if run.runner is not None:
        hosted = {True: " · hosted", False: " · self-hosted", None: ""}[run.runner.hosted]
        facts.append(Fact("Runner", f"{run.runner.os} · {run.runner.cpu} · {run.runner.cpus} CPUs{hosted}"))
    return [*facts, _gpu_fact(run), *_backend_facts(run)]


def _backend_facts(run: RunRecord) -> list[Fact]:
    """Where a remote backend ran the job: Ray cluster, job, node, queue and run time; Docker image, host."""
    extra = run.extra
    facts = []
    if extra.get("ray_job_id"):
        cluster = f"{extra.get('ray_address', '?')} · Ray {extra.get('ray_version', '?')}"
        facts.append(Fact("Cluster", cluster))
        facts.append(Fact("Job", f"{extra['ray_job_id']} · {extra.get('ray_status', '?')}"))
        if extra.get("ray_node"):
            facts.append(Fact("Node", extra["ray_node"]))
        times = [f"{label} {_duration(float(extra[key]))}" for key, label in
                 (("ray_queue_s", "queued"), ("ray_run_s", "ran")) if _is_float(extra.get(key))]  # fmt: skip
        if times:
            facts.append(Fact("Job time", " · ".join(times), False))
    if extra.get("image"):
        facts.append(Fact("Image", extra["image"]))
    if extra.get("docker_transfer"):
        how = {"copy": "work tree copied in, results copied out", "mount": "work tree bind-mounted"}
        said = how.get(extra["docker_transfer"], extra["docker_transfer"])
        facts.append(Fact("Docker host", f"{extra.get('docker_host', '?')} · {said}"))
    return facts


def _is_float(text: str | None) -> bool:
    try:
        float(text or "")
    except ValueError:
        return False
    return True


def _gpu_fact(run: RunRecord) -> Fact:
    gpu = run.gpu
    if gpu is None or not gpu.names:
        return Fact("GPU", "CPU only", False)
    counts = Counter(gpu.names)  # NOTE: mixed models say how many of each: "A100 × 2, T4 × 1"
    text = ", ".join(f"{name} × {count}" for name, count in sorted(counts.items()))
    if gpu.peak_memory_mib is not None:
        text += f" · peak memory {_mib(gpu.peak_memory_mib)}"
    if gpu.peak_util_pct is not None:
        text += f" · peak utilisation {gpu.peak_util_pct:.0f} %"
    return Fact("GPU", text)


def provenance_facts(comparison: Comparison, base_label: str, head_label: str) -> list[Fact]:
    """Head and base commits, how far back the baseline is, its store, the eval set, the noise model."""
    ref = comparison.baseline
    facts = [Fact("Head", f"{head_label} at {(comparison.head_sha or 'unknown')[:12]}")]
    if ref is None:
        facts.append(Fact("Base", f"no baseline found for {base_label}; every metric is new"))
    else:
        away = (
            "the merge-base"
            if ref.distance == 0
            else f"{_plural(ref.distance, 'commit')} before the merge-base"
        )
        facts += [Fact("Base", f"{base_label} at {ref.sha[:12]}"), Fact("Distance", away, False)]
        facts += [Fact(label, value) for label, value in _optional_refs(ref) if value]
        facts.append(
            Fact("Eval set", _short_hash(ref.eval_hash))
            if ref.eval_hash
            else Fact("Eval set", "unknown", False)
        )
    note = comparison.noise_note
    facts.append(
        Fact("Noise model", note) if note else Fact("Noise model", "no noise model was available", False)
    )
    return facts


def _short_hash(digest: str) -> str:
    algorithm, _, hexdigest = digest.rpartition(":")
    return f"{algorithm}:{hexdigest[:12]}" if algorithm else hexdigest[:12]


def _optional_refs(ref: BaselineRef) -> tuple[tuple[str, str | None], ...]:
    return (("Store", ref.store), ("Saved", ref.saved_at), ("Run", ref.run_id))


def change_text(delta: Delta, precision: int) -> str:
    """`0.842 → 0.839 (−0.003 ± 0.004)`: both values, the change and the interval's half-width."""
    base = format_number(delta.base.value, precision) if delta.base and delta.base.value is not None else "—"
    head = format_number(delta.head.value, precision) if delta.head and delta.head.value is not None else "—"
    change = delta_text(delta, precision).split(" (")[0]
    return f"{base} → {head} ({change})"


def headline(comparison: Comparison, gate: GateResult) -> MetricResult | None:
    """The metric whose interval states the eval set's resolution: the first gated one with an interval."""
    with_interval = [gate.get(d.name) for d in comparison.deltas if d.interval is not None]
    found = [r for r in with_interval if r is not None]
    return next((r for r in found if r.gated), found[0] if found else None)


def noise_line(comparison: Comparison, gate: GateResult, precision: int, *, markdown: bool = True) -> str:
    """ "Noise: `m` 0.842 → 0.839 (−0.003 ± 0.004); this eval set resolves differences of about ±0.004 …".

    `markdown=False`: the metric's name as plain text, for the HTML page (whose autoescape escapes it).
    """
    result = headline(comparison, gate)
    if result is None or result.delta.interval is None:
        return ""
    interval = result.delta.interval
    level = format_number(interval.level * 100, 3)
    name = code_span(result.name) if markdown else clean(result.name)
    source = "these seeds resolve" if interval.method.startswith("Welch") else "this eval set resolves"
    return (
        f"Noise: {name} {change_text(result.delta, precision)}; {source}"
        f" differences of about ±{format_number(interval.half_width, precision)}"
        f" ({level} % interval, {clean(interval.method, 80)})."
    )
