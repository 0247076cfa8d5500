"""The report: golden Markdown files, section order, the budget ladder, hostile names, templates, HTML."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from mlgate.difftable import render_diff_table
from mlgate.errors import ConfigError, ExitCode
from mlgate.markdown import clean
from mlgate.model import (
    BaselineRef,
    Comparison,
    Delta,
    Direction,
    GateResult,
    GateRule,
    GpuTelemetry,
    Interval,
    Metric,
    MetricResult,
    Outcome,
    ParamChange,
    PlotImage,
    RunnerInfo,
    RunRecord,
    Severity,
    ValueKind,
    Verdict,
)
from mlgate.report import ReportInput, compile_templates, render_html, render_markdown
from mlgate.reporttemplate import _environment, templates_dir

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
GFM = MarkdownIt("commonmark").enable("table")
ACCURACY = GateRule("eval.accuracy", Direction.HIGHER, 0.005, 0.01, min=0.8, index=0)
LATENCY = GateRule("*latency*", Direction.LOWER, 0.0, 0.10, severity=Severity.WARN, index=1)
ANY = GateRule("eval.*", None, 0.0, 0.0, index=2)
HOSTILE = ["|", "\\|", "`", "```", "<!--", "-->", "@alice", "/close", "\n/approve", "\r\n", "\x00", "\u202e",
           "<details>", "</details>", "* ", "# ", "> ", "- ", "[x](y)", "日本", "🙂", "\\", " "]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=30), st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=10).map("".join)
)


# ------------------------------------------------------------------------------------------------ builders


def result(
    name: str,
    base: float | None,
    head: float | None,
    verdict: Verdict,
    *,
    rule: GateRule | None = ANY,
    interval: Interval | None = None,
    reason: str = "within tolerance",
    bound_violated: bool = False,
) -> MetricResult:
    """A gated (when `rule` is given) metric result with its delta; values come from metrics.json."""
    delta = Delta(name, _metric(name, base), _metric(name, head), interval)
    severity = rule.severity if rule else Severity.FAIL
    direction = (rule.direction if rule else None) or Direction.NEUTRAL
    return MetricResult(delta, direction, verdict, severity, rule, reason, rule is not None, bound_violated)


def _metric(name: str, value: float | None) -> Metric | None:
    return None if value is None else Metric(name, value, "metrics.json")


def comparison(
    results: Sequence[MetricResult], *, baseline: bool = True, noise: str | None = None
) -> Comparison:
    ref = BaselineRef(
        "git-notes", "1f3e5a7c9b" * 4, 2, "2026-11-30T10:00:00Z", "run-41", "sha256:" + "ab" * 32
    )
    params = (ParamChange("train.lr", "0.1", "0.05"), ParamChange("model.depth", None, "6"))
    return Comparison(
        tuple(r.delta for r in results), params, ref if baseline else None, "9c8b7a6f5e" * 4, noise
    )


def training(*, ok: bool = True, log: Sequence[str] = ()) -> RunRecord:
    gpu = GpuTelemetry(("NVIDIA A10G",), peak_memory_mib=6144.0, peak_util_pct=87.0) if ok else None
    runner = RunnerInfo("Linux 6.5", "AMD EPYC 7R13", 4, hosted=True)
    return RunRecord("python train.py --epochs 3", "subprocess", 0 if ok else 1, 754.2, 2890.5, 1843.0,
                     log_tail=tuple(log), runner=runner, gpu=gpu)  # fmt: skip


def report_input(results: Sequence[MetricResult], outcome: Outcome, **kwargs: object) -> ReportInput:
    baseline, noise = bool(kwargs.pop("baseline", True)), kwargs.pop("noise", None)
    comp = comparison(results, baseline=baseline, noise=noise)  # type: ignore[arg-type]
    return ReportInput("Churn model", GateResult(tuple(results), outcome), comp, **kwargs)  # type: ignore[arg-type]


def passing() -> ReportInput:
    results = [
        result("eval.accuracy", 0.842, 0.851, Verdict.IMPROVED, rule=ACCURACY,
               interval=Interval(0.004, 0.014, 0.95, "paired bootstrap")),
        result("eval.p95_latency_ms", 41.0, 40.2, Verdict.UNCHANGED, rule=LATENCY),
        result("eval.f1", 0.79, 0.7912, Verdict.UNCHANGED),
        result("train.epochs", 3, 3, Verdict.UNCHANGED, rule=None),
    ]  # fmt: skip
    plots = (
        PlotImage("Loss per epoch", Path("out/loss.png")),
        PlotImage("Confusion matrix", Path("out/cm.png")),
    )
    return report_input(results, Outcome.PASS, plots=plots, run=training(),
                        noise="this eval set resolves differences of about ±0.005 (95 %, 2,000 resamples)",
                        full_report_url="https://ci.example.com/runs/42/artifacts/report.html")  # fmt: skip


def failing() -> ReportInput:
    results = [
        result("eval.f1", 0.79, 0.80, Verdict.IMPROVED),
        result("eval.accuracy", 0.842, 0.839, Verdict.REGRESSED, rule=ACCURACY,
               interval=Interval(-0.007, 0.001, 0.95, "paired bootstrap"), reason="0.839 < 0.842 − 0.005"),
        result("eval.p95_latency_ms", 41.0, 47.5, Verdict.REGRESSED, rule=LATENCY, reason="+15.9 % > 10 %"),
        result("eval.recall", 0.70, 0.70, Verdict.UNCHANGED),
    ]  # fmt: skip
    return report_input(results, Outcome.FAIL, run=training(),
                        banners=["Accepted by @carol: known flaky metric"],
                        data_checks=["train.csv: PSI of `age` is 0.23 (warn at 0.1)"],
                        full_report_url="https://ci.example.com/runs/43")  # fmt: skip


def no_baseline() -> ReportInput:
    results = [
        result("eval.accuracy", None, 0.84, Verdict.NEW, rule=ACCURACY),
        result("eval.f1", None, 0.8, Verdict.NEW),
    ]
    return report_input(results, Outcome.NO_BASELINE, baseline=False)


def training_failed() -> ReportInput:
    log = ["epoch 1/3 loss=0.52", "Traceback (most recent call last):", '  File "train.py", line 9',
           "```oops```", "/close", "RuntimeError: CUDA out of memory"]  # fmt: skip
    return report_input([], Outcome.PASS, run=training(ok=False, log=log), report_id="nightly")


def many(count: int, *, regressions: int = 0, names: Sequence[str] | None = None) -> ReportInput:
    names = names or [f"eval.metric_{i:06d}" for i in range(count)]
    results = [
        result(
            n,
            0.5,
            0.4 if i < regressions else 0.5,
            Verdict.REGRESSED if i < regressions else Verdict.UNCHANGED,
        )
        for i, n in enumerate(names)
    ]
    outcome = Outcome.FAIL if regressions else Outcome.PASS
    return report_input(results, outcome, run=training(ok=False, log=["boom"] * 30),
                        plots=[PlotImage(f"plot {i}", Path(f"p{i}.png")) for i in range(3)],
                        full_report_url="https://ci.example.com/runs/44")  # fmt: skip


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME exactly; `MLGATE_UPDATE_GOLDEN=1 pytest …` rewrites the file."""
    path = GOLDEN / name
    if os.environ.get("MLGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with MLGATE_UPDATE_GOLDEN=1 and review the diff"
    assert text == path.read_text(encoding="utf-8")


def table_rows(body: str, header: str = "| Metric") -> list[list[str]]:
    """The body rows of every GFM table whose header starts with `header`, split the way GFM splits them
    (on each `|` not preceded by a backslash)."""
    rows: list[list[str]] = []
    lines = body.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith(header) and lines[i + 1].startswith("|---"):
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(re.split(r"(?<!\\)\|", row)[1:-1])
    return rows


def parsed_metric_names(body: str) -> list[str]:
    """The code span of the first cell of each body row of each metric table, as markdown-it parses it."""
    names: list[str] = []
    metric_table = in_body = first_cell = False
    for token in GFM.parse(body):
        if token.type == "inline" and token.content == "Metric" and not in_body:
            metric_table = True
        elif token.type in ("tbody_open", "tbody_close"):
            in_body = token.type == "tbody_open"
            metric_table = metric_table and in_body
        elif token.type == "tr_open":
            first_cell = in_body and metric_table
        elif token.type == "inline" and first_cell:
            first_cell = False
            children = token.children or []
            names.append(
                children[0].content if len(children) == 1 and children[0].type == "code_inline" else "?"
            )
    return names


# ------------------------------------------------------------------------------------------------- goldens


@pytest.mark.parametrize(
    ("name", "build"),
    [("passing.md", passing), ("failing.md", failing), ("no_baseline.md", no_baseline),
     ("training_failed.md", training_failed)],
)  # fmt: skip
def test_markdown_matches_golden_file_when_rendered(name: str, build: object) -> None:
    inp = build()  # type: ignore[operator]
    urls = {Path("out/loss.png"): "https://github.com/o/r/blob/mlgate-assets/42/loss.png?raw=true"}
    assert_golden(name, render_markdown(inp, image_urls=urls))


# ------------------------------------------------------------------------------------------ what is shown


def test_marker_then_verdict_open_the_report_when_rendered() -> None:
    lines = render_markdown(failing()).splitlines()
    assert lines[0] == "<!-- mlgate:report id=default -->"
    assert lines[1] == "### ❌ mlgate: 1 regression"
    tokens = GFM.parse("\n".join(lines))
    assert tokens[0].type == "html_block"
    assert tokens[1].type == "heading_open"
    assert tokens[1].tag == "h3"


@pytest.mark.parametrize(
    ("build", "verdict"),
    [(passing, "### ✅ mlgate: passed"), (no_baseline, "### ℹ️ mlgate: no baseline"),
     (training_failed, "### 💥 mlgate: training failed")],
)  # fmt: skip
def test_verdict_line_names_the_outcome_when_gate_differs(build: object, verdict: str) -> None:
    assert render_markdown(build()).splitlines()[1] == verdict  # type: ignore[operator]


def test_verdict_line_counts_warnings_when_only_warn_rules_regressed() -> None:
    warn = result("eval.p95_latency_ms", 41.0, 47.5, Verdict.REGRESSED, rule=LATENCY)
    assert (
        render_markdown(report_input([warn], Outcome.PASS)).splitlines()[1]
        == "### ⚠️ mlgate: passed with 1 warning"
    )


def test_gate_table_lists_regressions_then_warnings_then_improvements_when_mixed() -> None:
    body = render_markdown(failing())
    gate = body.split("\n\n")[3].splitlines()[2:]
    names = [re.search(r"`([^`]+)`", row).group(1) for row in gate]  # type: ignore[union-attr]
    assert names == ["eval.accuracy", "eval.p95_latency_ms", "eval.f1", "eval.recall"]
    assert "| −0.003 ± 0.004 (−0.356 %) | ❌ regressed |" in gate[0]
    assert "⚠️ regressed" in gate[1]
    assert "· warn" in gate[1]


def test_sections_follow_design_order_when_all_are_present() -> None:
    body = render_markdown(failing())
    heads = [
        "| Metric",
        "#### Changed params",
        "#### Training",
        "#### Data checks",
        "#### Baseline",
        "<details>",
    ]
    positions = [body.index(h) for h in heads]
    assert positions == sorted(positions)
    assert body.rstrip().endswith("📄 [Full report](https://ci.example.com/runs/43)")


def test_provenance_says_no_noise_model_when_none_was_available() -> None:
    assert "- Noise model: no noise model was available" in render_markdown(failing())
    assert "resolves differences of about ±0.005" in render_markdown(passing())


def test_plots_link_uploaded_urls_else_the_file_name_when_rendered() -> None:
    urls = {Path("out/loss.png"): "https://host/o/r/loss.png?raw=true"}
    body = render_markdown(passing(), image_urls=urls)
    assert "![Loss per epoch](https://host/o/r/loss.png?raw=true)" in body
    assert "![Confusion matrix](cm.png)" in body


def test_telemetry_says_cpu_only_when_no_gpu_was_seen() -> None:
    inp = training_failed()
    body = render_markdown(inp)
    assert "- GPU: CPU only" in body
    assert "- Wall time: 12 min 34 s" in body
    assert "- Peak RSS: 1.8 GiB" in body
    assert "- GPU: `NVIDIA A10G × 1 · peak memory 6.0 GiB · peak utilisation 87 %`" in render_markdown(
        passing()
    )


def test_telemetry_counts_each_gpu_model_when_the_machine_mixes_them() -> None:
    gpu = GpuTelemetry(("NVIDIA T4", "NVIDIA A100", "NVIDIA A100"), peak_memory_mib=2048.0)
    inp = replace(passing(), run=replace(training(), gpu=gpu))
    assert "- GPU: `NVIDIA A100 × 2, NVIDIA T4 × 1 · peak memory 2.0 GiB`" in render_markdown(inp)


def test_log_tail_is_fenced_longer_than_its_backticks_when_training_failed() -> None:
    body = render_markdown(training_failed())
    fences = [t for t in GFM.parse(body) if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content.splitlines()[-1] == "│ RuntimeError: CUDA out of memory"
    assert "\n/close" not in body
    assert "lines of the training log" not in render_markdown(passing())


def test_no_gate_rule_note_opens_details_when_nothing_is_gated() -> None:
    inp = report_input([result("x", 1, 2, Verdict.IMPROVED, rule=None)], Outcome.PASS)
    body = render_markdown(inp)
    assert "No metric matched a gate rule" in body
    assert "<details open><summary>All metrics (1)" in body


# ----------------------------------------------------------------------------------------- hostile names


def assert_lines_start_safely(body: str) -> None:
    """No line starts with untrusted text: each starts with one of mlgate's own prefixes."""
    fixed = re.compile(
        r"(<!-- mlgate:report id=[A-Za-z0-9._:-]+ -->|#{3,4} |\| |\|---|- [A-Z]|- `|- …|> `|> …"
        r"|<details|</details>"
        r"|!\[|Report `|Last \d+ lines|`{3,}$|│ |… and|📄|✂️|No metric matched|No metrics were read|$)"
    )
    for line in body.splitlines():
        assert fixed.match(line), f"line starts with untrusted text: {line!r}"
    for row in table_rows(body):
        assert row[0].startswith(" `"), f"metric cell does not start with a code span: {row!r}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_text, min_size=1, max_size=8))
def test_hostile_names_render_as_one_row_each_when_rendered(names: list[str]) -> None:
    inp = report_input([result(n, 1.0, 2.0, Verdict.IMPROVED) for n in names], Outcome.PASS)
    body = render_markdown(inp)
    rows = table_rows(body)
    assert len(rows) == 2 * len(names)  # the gate table and the details table
    assert all(len(row) == 6 for row in rows)
    expected = [clean(n, 120) or " " for n in names]
    assert parsed_metric_names(body) == expected + expected  # a real GFM parser sees each name whole
    lines = body.splitlines()
    assert lines[0] == "<!-- mlgate:report id=default -->"
    assert lines[1] == "### ✅ mlgate: passed"
    assert_lines_start_safely(body)


@settings(max_examples=40, deadline=None)
@given(hostile_text, hostile_text, st.lists(hostile_text, max_size=3))
def test_hostile_title_params_and_log_never_start_a_line_when_rendered(
    title: str, value: str, log: list[str]
) -> None:
    base = training_failed()
    comp = Comparison((), (ParamChange(value, value, None),), None, value, value)
    inp = ReportInput(title, base.gate, comp, run=training(ok=False, log=log), banners=[value],
                      data_checks=[value], notes=[value], base_label=value, head_label=value, report_id=value,
                      plots=[PlotImage(value, Path("x.png"))])  # fmt: skip
    body = render_markdown(inp)
    assert body.splitlines()[1] == "### 💥 mlgate: training failed"
    assert_lines_start_safely(body)


# ----------------------------------------------------------------------------------------------- budget


def signature(body: str) -> tuple[int, bool, bool, bool, int]:
    """What a budgeted body kept: details rows, log tail, plots, params, gate rows."""
    details = body.split("<details", 1)[1] if "<details" in body else ""
    gate = body.split("<details", 1)[0]
    return (
        len(table_rows(details)),
        "lines of the training log" in body,
        "#### Plots" in body,
        "#### Changed params" in body,
        len(table_rows(gate)),
    )


def test_budget_gives_up_details_then_log_then_plots_then_params_then_gate_rows_when_shrinking() -> None:
    inp = many(60, regressions=20)
    full = render_markdown(inp)
    seen = []
    for limit in range(len(full), 999, -97):
        body = render_markdown(inp, max_chars=limit)
        assert len(body) <= limit
        seen.append(signature(body))
    assert seen[0] == (60, True, True, True, 60)
    assert seen == sorted(seen, reverse=True), "a section came back after a smaller budget dropped it"
    order = [next(i for i, s in enumerate(seen) if test(s)) for test in (
        lambda s: 0 < s[0] < 60, lambda s: s[0] == 0, lambda s: not s[1], lambda s: not s[2],
        lambda s: not s[3],
        lambda s: s[4] < 60)]  # fmt: skip
    assert order == sorted(order)


def test_budget_truncates_gate_table_at_a_row_with_a_count_when_even_it_does_not_fit() -> None:
    inp = many(400, regressions=400)
    body = render_markdown(inp, max_chars=4000)
    assert len(body) <= 4000
    rows = table_rows(body)
    assert 10 < len(rows) < 400
    assert all(len(r) == 6 for r in rows)
    assert f"… and {400 - len(rows)} more regressions in the full report" in body
    assert "✂️ Shortened to fit the size limit. 📄 [Full report](https://ci.example.com/runs/44)" in body


def test_budget_keeps_the_whole_report_when_it_fits() -> None:
    inp = failing()
    assert render_markdown(inp, max_chars=65536) == render_markdown(inp)


@st.composite
def random_inputs(draw: st.DrawFn) -> ReportInput:
    names = draw(st.lists(hostile_text, max_size=120))
    verdicts = draw(st.lists(st.sampled_from(list(Verdict)), min_size=len(names), max_size=len(names)))
    results = [result(n, 1.0, 0.5, v, rule=draw(st.sampled_from([ANY, LATENCY, None])))
               for n, v in zip(names, verdicts, strict=True)]  # fmt: skip
    log = draw(st.lists(hostile_text, max_size=60))
    plots = [PlotImage(t, Path(f"{i}.png")) for i, t in enumerate(draw(st.lists(hostile_text, max_size=5)))]
    params = tuple(ParamChange(n, n, None) for n in draw(st.lists(hostile_text, max_size=40)))
    comp = Comparison(tuple(r.delta for r in results), params, None, draw(hostile_text), draw(hostile_text))
    outcome = draw(st.sampled_from(list(Outcome)))
    return ReportInput(draw(hostile_text), GateResult(tuple(results), outcome), comp, plots=plots,
                       run=training(ok=draw(st.booleans()), log=log),
                       banners=draw(st.lists(hostile_text, max_size=30)),
                       data_checks=draw(st.lists(hostile_text, max_size=30)),
                       notes=draw(st.lists(hostile_text, max_size=3)),
                       full_report_url="https://ci.example.com/runs/7")  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(random_inputs(), st.integers(1000, 20000))
def test_budget_is_never_exceeded_and_keeps_marker_verdict_link_when_input_is_random(
    inp: ReportInput, max_chars: int
) -> None:
    body = render_markdown(inp, max_chars=max_chars)
    assert len(body) <= max_chars
    lines = body.splitlines()
    assert lines[0] == "<!-- mlgate:report id=default -->"
    assert lines[1].startswith("### ")
    assert "mlgate: " in lines[1]
    assert "(https://ci.example.com/runs/7)" in body
    assert_lines_start_safely(body)


def test_budget_holds_for_a_tiny_limit_when_even_the_marker_barely_fits() -> None:
    assert len(render_markdown(failing(), max_chars=40)) <= 40


def test_rendering_100k_metrics_takes_under_2s_when_budgeted() -> None:
    inp = many(100_000, regressions=5_000)
    start = time.perf_counter()
    body = render_markdown(inp, max_chars=65536)
    elapsed = time.perf_counter() - start
    assert len(body) <= 65536
    assert "more regressions" not in body.split("\n\n")[3]
    assert elapsed < 2.0, f"{elapsed:.2f} s"


# -------------------------------------------------------------------------------------------- templates


def test_custom_template_gets_the_same_context_when_configured(tmp_path: Path) -> None:
    path = tmp_path / "custom.md.j2"
    path.write_text(
        '{{ marker }}\n{{ verdict }}\nTitle: {{ report.title | code }}\n{% include "partials/gate.md.j2" %}\n'
    )
    body = render_markdown(failing(), template=path)
    assert body.startswith(
        "<!-- mlgate:report id=default -->\n### ❌ mlgate: 1 regression\nTitle: `Churn model`\n"
    )
    assert "| `eval.accuracy` | 0.842 | 0.839 |" in body


def test_custom_template_body_starts_with_the_marker_when_the_template_leaves_it_out(tmp_path: Path) -> None:
    path = tmp_path / "custom.md.j2"
    path.write_text("## {{ report.title | code }}\n{{ verdict }}\n")
    body = render_markdown(failing(), template=path)
    assert body.startswith(
        "<!-- mlgate:report id=default -->\n## `Churn model`\n### ❌ mlgate: 1 regression\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [("{{ marker }}\n\n{% if %}\n", 3, "template error"), ("ok\n{{ nope.x }}\n", 2, "'nope' is undefined"),
     ("a\nb\n{{ ''.__class__.__mro__ }}\n", 3, "template error")],
)  # fmt: skip
def test_custom_template_error_names_file_and_line_when_template_is_broken(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    path = tmp_path / "broken.md.j2"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        render_markdown(failing(), template=path)
    assert caught.value.where == f"{path}:{line}"
    assert what in caught.value.what
    assert caught.value.exit_code is ExitCode.USAGE


def test_custom_template_that_does_not_exist_is_a_config_error_when_configured(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such template file"):
        render_markdown(failing(), template=tmp_path / "missing.md.j2")


def test_builtin_templates_are_found_when_running_from_the_repository() -> None:
    assert (templates_dir() / "report.md.j2").is_file()
    assert (templates_dir() / "report.html.j2").is_file()


# ------------------------------------------------------------------------------------------------- HTML


def test_html_is_self_contained_with_images_inlined_when_plots_exist(tmp_path: Path) -> None:
    png = tmp_path / "loss.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    base = passing()
    inp = ReportInput(base.title, base.gate, base.comparison, plots=[PlotImage("Loss", png)], run=base.run)
    page = render_html(inp)
    srcs = re.findall(r'\s(?:src|href)="([^"]*)"', page)
    assert srcs == ["data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()]
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page


def test_html_escapes_untrusted_text_when_names_hold_markup() -> None:
    evil = "<script>alert(1)</script>"
    inp = report_input([result(evil, 1, 2, Verdict.IMPROVED)], Outcome.PASS, banners=[evil])
    page = render_html(inp)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_says_an_image_is_missing_when_its_file_is_gone(tmp_path: Path) -> None:
    inp = ReportInput(
        "t", GateResult((), Outcome.PASS), Comparison(()), plots=[PlotImage("Gone", tmp_path / "g.png")]
    )
    assert "image not found: <code>g.png</code>" in render_html(inp)


# ------------------------------------------------------------------------------------------- diff table


def diff_rows() -> list[Delta]:
    return [r.delta for r in failing().gate.results] + [
        Delta("eval.new", None, Metric("eval.new", 0.123456789, "eval/more.json")),
        Delta("eval.label", Metric("eval.label", None, "eval/more.json", ValueKind.TEXT, "a|b"), None),
    ]


def test_diff_table_prints_like_dvc_metrics_diff_md_when_asked_for_markdown() -> None:
    assert render_diff_table(diff_rows(), "md") == (
        "| Path           | Metric              | HEAD   | workspace   | Change   |\n"
        "|----------------|---------------------|--------|-------------|----------|\n"
        "| metrics.json   | eval.f1             | 0.79   | 0.8         | 0.01     |\n"
        "| metrics.json   | eval.accuracy       | 0.842  | 0.839       | -0.003   |\n"
        "| metrics.json   | eval.p95_latency_ms | 41     | 47.5        | 6.5      |\n"
        "| eval/more.json | eval.new            | -      | 0.12346     | -        |\n"
        "| eval/more.json | eval.label          | `a\\|b` | -           | -        |\n"
    )


def test_diff_table_shows_unchanged_metrics_only_when_all_is_asked() -> None:
    plain = render_diff_table(diff_rows(), "table", base_label="main", show_all=True)
    assert plain.splitlines()[0].split() == ["Path", "Metric", "main", "workspace", "Change"]
    assert "eval.recall" in plain
    assert "eval.recall" not in render_diff_table(diff_rows(), "table")
    assert render_diff_table([], "md") == ""


def diff_cells(body: str) -> list[list[tuple[str, set[str]]]]:
    """Each body row of a diff table as markdown-it parses it: per cell, its text and its token types."""
    rows: list[list[tuple[str, set[str]]]] = []
    in_body = False
    for token in GFM.parse(body):
        if token.type in ("tbody_open", "tbody_close"):
            in_body = token.type == "tbody_open"
        elif token.type == "tr_open" and in_body:
            rows.append([])
        elif token.type == "inline" and in_body:
            children = token.children or []
            text = "".join(child.content for child in children if child.type in ("text", "code_inline"))
            rows[-1].append((text, {child.type for child in children}))
    return rows


@settings(max_examples=80, deadline=None)
@given(st.lists(hostile_text, min_size=1, max_size=6), hostile_text)
def test_hostile_names_and_values_stay_text_in_one_row_each_of_diff_md(names: list[str], value: str) -> None:
    text = Metric("x", None, "m.json", ValueKind.TEXT, value)
    deltas = [Delta(n, Metric(n, 1.0, "m.json"), replace(text, name=n)) for n in names]
    body = render_diff_table(deltas, "md", base_label=value, head_label="workspace")
    rows = diff_cells(body)
    assert len(rows) == len(names)
    assert len(body.splitlines()) == len(names) + 2
    for row, name in zip(rows, names, strict=True):
        assert len(row) == 5
        assert row[1][0].strip() == clean(name, 120).strip(), (name, body)
        assert row[3][0].strip() == clean(value, 120).strip(), (value, body)
        assert row[1][1] | row[3][1] <= {"text", "code_inline"}, body  # no HTML, link, emphasis or break


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("eval.f1_macro", "eval.f1_macro"),
        ("metrics.json", "metrics.json"),
        ("@alice", "`@alice`"),
        ("a@b.com", "`a@b.com`"),
        ("www.evil.com", "`www.evil.com`"),
        ("http://evil.com/x", "`http://evil.com/x`"),
        ("_x_", "`_x_`"),
        ("a__b", "`a__b`"),
        ("#12", "`#12`"),
        ("x" * 200 + "|", "`" + "x" * 200 + "\\|`"),
    ],
)
def test_diff_md_leaves_plain_words_as_dvc_prints_them_and_quotes_the_rest(name: str, cell: str) -> None:
    body = render_diff_table([Delta(name, None, Metric(name, 1.0, "m.json"))], "md")
    assert body.splitlines()[2].split(" | ")[1].strip() == cell


def test_diff_table_does_not_import_jinja2_when_rendered() -> None:
    code = (
        "import sys; from mlgate.difftable import render_diff_table; from mlgate.model import Delta, Metric;"
        "render_diff_table([Delta('a', Metric('a', 1.0, 'm.json'), Metric('a', 2.0, 'm.json'))], 'md');"
        "print(sorted(m for m in ('jinja2', 'matplotlib', 'numpy', 'markupsafe') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_noise_line_states_the_change_and_resolution_when_a_gated_metric_has_an_interval() -> None:
    text = render_markdown(failing())
    line = next(line for line in text.splitlines() if line.startswith("Noise: "))
    assert line == (
        "Noise: `eval.accuracy` 0.842 → 0.839 (−0.003 ± 0.004); this eval set resolves differences of about"
        " ±0.004 (95 % interval, paired bootstrap)."
    )
    assert "this eval set resolves differences of about ±0.004" in render_html(failing())


def test_noise_line_is_absent_when_no_metric_has_an_interval() -> None:
    results = [result("eval.accuracy", 0.842, 0.839, Verdict.UNCHANGED, rule=ACCURACY)]
    text = render_markdown(report_input(results, Outcome.PASS))
    assert "resolves differences" not in text
    assert "- Noise model: no noise model was available" in text


def test_data_check_lines_are_code_spans_when_they_name_untrusted_columns() -> None:
    inp = report_input(
        [], Outcome.PASS, data_checks=["/close: PSI 0.300, KS 0.2 (drifted)", "a|b`c: PSI 0.1"]
    )
    text = render_markdown(inp)
    assert "#### Data checks\n\n- `/close: PSI 0.300, KS 0.2 (drifted)`\n- ``a|b`c: PSI 0.1``" in text
    assert not any(line.startswith("/") for line in text.splitlines())


def test_compiling_ahead_leaves_nothing_to_compile_when_the_report_renders() -> None:
    """bundle.py compiles the templates while the plot worker draws; rendering then only runs them."""
    compile_templates(None)
    compiled = {
        autoescape: set(_environment((str(templates_dir()),), autoescape).cache or {})
        for autoescape in (False, True)
    }
    render_markdown(failing())
    render_html(failing())
    for autoescape, before in compiled.items():
        assert set(_environment((str(templates_dir()),), autoescape).cache or {}) == before
