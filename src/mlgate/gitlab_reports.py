"""The GitLab merge request widgets' files: the metrics report (`artifacts:reports:metrics`) and a JUnit XML
of the gate (`artifacts:reports:junit`), one test case per gated metric, a failure per blocking regression.

Both are written into the report folder; the job's `artifacts:reports:` section points GitLab at them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.model import GateResult, MetricResult

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

METRICS_REPORT = "metrics.txt"
JUNIT_REPORT = "junit.xml"  # the names templates/gitlab/mlgate.gitlab-ci.yml reports
_NAME_BAD = re.compile(r"[^A-Za-z0-9_:]")
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def write_gitlab_reports(gate: GateResult, folder: Path) -> list[Path]:
    """Write both files into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics, junit = folder / METRICS_REPORT, folder / JUNIT_REPORT
    metrics.write_text(render_metrics_report(gate), encoding="utf-8")
    junit.write_text(render_junit(gate), encoding="utf-8")
    return [metrics, junit]


def render_metrics_report(gate: GateResult) -> str:
    """`name value` lines (OpenMetrics names: other characters become `_`), head values, finite ones only."""
    lines: dict[str, str] = {}
    for result in gate.results:
        head = result.delta.head
        if head is None or head.value is None or not math.isfinite(head.value):
            continue
        name = metric_name(result.name)
        lines.setdefault(name, f"{name} {head.value:.12g}")
    return "".join(line + "\n" for line in lines.values())


def metric_name(name: str) -> str:
    cleaned = _NAME_BAD.sub("_", name) or "_"
    return cleaned if not cleaned[0].isdigit() else f"_{cleaned}"


def render_junit(gate: GateResult) -> str:
    """A JUnit document: suite `mlgate`, a case per gated metric, `<failure>` on each blocking one."""
    from xml.etree import ElementTree as ET

    gated = [r for r in gate.results if r.gated]
    suite = ET.Element("testsuite", name="mlgate", tests=str(len(gated)))
    suite.set("failures", str(sum(1 for r in gated if r.blocking)))
    for result in gated:
        suite.append(_case(result))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _case(result: MetricResult) -> Element:
    from xml.etree import ElementTree as ET

    case = ET.Element("testcase", classname="mlgate.gate", name=_xml_text(result.name))
    reason = _xml_text(f"{result.verdict.value}: {result.reason}")
    if result.blocking:
        failure = ET.SubElement(case, "failure", message=reason[:500], type="regression")
        failure.text = reason
    elif result.warning:
        ET.SubElement(case, "system-out").text = f"warning: {reason}"
    return case


def _xml_text(text: str) -> str:
    return _XML_BAD.sub("", text)
