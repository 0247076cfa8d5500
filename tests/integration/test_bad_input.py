"""Bad input through the CLI: exit 2, one `mlgate: error:` line naming the file and key or line."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import CliRunner, one_error_line
from tests.gitproject import GitProject

CONFIG = "metrics: [metrics.json]\ngates: [{metric: acc}]\n"


def _with_metrics(project: GitProject, content: bytes) -> None:
    project.commit("base", **{".mlgate.yml": CONFIG, "metrics.json": {"acc": 0.9}})
    (project.root / "metrics.json").write_bytes(content)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "metrics.json: empty file"),
        (b"\x00\x01\x02binary\xff", "metrics.json: binary file (NUL bytes), not text"),
        (b'{"acc": 0.9,\n "loss": }', "metrics.json:2:10: invalid JSON: Expecting value"),
        (b'{"acc": 0.9, "acc": 0.8}', "metrics.json:1: duplicate key 'acc'"),
        (b"[1, 2, 3]", "metrics.json: top level must be a mapping of metric names, got a list"),
        (b"[" * 1000 + b"]" * 1000, "metrics.json: nested more than 64 levels deep"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "metrics.json: nested more than 64 levels deep"),
        (b'{"\\ud800": ' * 1000 + b"1" + b"}" * 1000, "metrics.json: nested more than 64 levels deep"),
    ],
    ids=[
        "empty",
        "binary",
        "invalid-json",
        "duplicate-key",
        "not-a-mapping",
        "deep-list",
        "deep-dict",
        "deep-dict-with-lone-surrogates",
    ],
)
def test_unreadable_metrics_file_is_one_line_naming_it(
    project: GitProject, cli: CliRunner, content: bytes, expected: str
) -> None:
    _with_metrics(project, content)
    assert one_error_line(cli("diff")) == f"mlgate: error: {expected}"


def test_invalid_yaml_metrics_name_line_and_column(project: GitProject, cli: CliRunner) -> None:
    project.commit("base", **{".mlgate.yml": "metrics: [m.yaml]\n", "m_dot_yaml": "acc: 0.9\n"})
    (project.root / "m.yaml").write_text("acc: 0.9\nloss: [unclosed\n")
    line = one_error_line(cli("diff"))
    assert line.startswith("mlgate: error: m.yaml:3:1: invalid YAML: expected ',' or ']'"), line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("metrics.json", b'{"acc": 0.8, "\\ud800x": 1, "note": "\\udfff"}'),
        ("m.yaml", b'acc: 0.8\n"\\ud800x": 1\n'),
    ],
    ids=["json", "yaml"],
)
def test_lone_surrogate_escapes_become_replacement_characters_in_every_output(
    project: GitProject, cli: CliRunner, name: str, content: bytes
) -> None:
    config = f"metrics: [{name}]\ngates: [{{metric: acc}}]\n"
    project.commit("base", **{".mlgate.yml": config, name.replace(".", "_dot_"): '{"acc": 0.9}'})
    (project.root / name).write_bytes(content)
    preview = cli("report", "--preview")
    assert preview.code == 0, preview.err
    report = project.root / "mlgate-report"
    assert "\ufffdx" in (report / "report.md").read_text(encoding="utf-8")
    assert "\ufffdx" in (report / "report.html").read_text(encoding="utf-8")
    for fmt in ("--md", "--table"):
        result = cli("diff", fmt)
        assert result.code == 0, result.err
        assert "\ufffdx" in result.out
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    assert "\ufffdx" in json.loads(result.out)["metrics"][name]


def test_bom_prefixed_metrics_are_read(project: GitProject, cli: CliRunner) -> None:
    _with_metrics(project, b'\xef\xbb\xbf{"acc": 0.95}')
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    assert '"new": 0.95' in result.out


def test_missing_metrics_file_names_the_pattern(project: GitProject, cli: CliRunner) -> None:
    project.commit("base", **{".mlgate.yml": CONFIG, "metrics.json": {"acc": 0.9}})
    (project.root / "metrics.json").unlink()
    assert "metrics.json" in one_error_line(cli("diff"))


def test_lone_surrogates_in_the_config_and_its_overrides_reach_the_report_as_replacement_characters(
    project: GitProject, cli: CliRunner
) -> None:
    config = 'metrics: [metrics.json]\nreport: {title: "t\\ud800"}\ngates: [{metric: "\\udfffacc"}]\n'
    project.commit("base", **{".mlgate.yml": config, "metrics.json": {"acc": 0.9}})
    for env in ({}, {"MLGATE_REPORT__TITLE": '"o\\ud800"'}):
        preview = cli("report", "--preview", env=env)
        assert preview.code == 0, preview.err
        html = (project.root / "mlgate-report" / "report.html").read_text(encoding="utf-8")
        assert ("o\ufffd" if env else "t\ufffd") in html


def test_keys_that_become_one_once_surrogates_are_mended_are_a_duplicate_key(
    project: GitProject, cli: CliRunner
) -> None:
    _with_metrics(project, b'{"acc": 0.9, "x\\ud800": 1, "x\\udfff": 2}')
    assert one_error_line(cli("diff")) == (
        "mlgate: error: metrics.json: duplicate key 'x\ufffd' once lone surrogates are read as U+FFFD"
    )


@pytest.mark.parametrize(
    ("content", "shown", "kind"),
    [
        (b'{"acc": [0.9, 0.8]}', "[0.9, 0.8]", "a list"),
        (b'{"acc": {"macro": 0.7, "micro": 0.9}}', "{macro: 0.7, micro: 0.9}", "a mapping"),
        (b'{"acc": "n/a"}', "n/a", "not a number"),
    ],
    ids=["list", "mapping", "string"],
)
def test_a_gated_number_that_became_text_a_list_or_a_mapping_is_shown_not_gated_with_a_warning(
    project: GitProject, cli: CliRunner, content: bytes, shown: str, kind: str
) -> None:
    _with_metrics(project, content)
    result = cli("diff", "--json")
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("mlgate: warning:")]
    assert len(warnings) == 1, result.err
    assert warnings[0].startswith(f"mlgate: warning: metrics.json: acc: {kind}")
    assert warnings[0].endswith(("; shown in its place, not compared", "; shown, not compared"))
    acc = json.loads(result.out)["metrics"]["metrics.json"]["acc"]
    assert (acc["old"], acc["new"], acc["verdict"]) == (0.9, shown, "unknown")
    assert json.loads(result.out)["outcome"] == "warn"
    explained = cli("explain", "acc")
    assert f"cannot compare 0.9 with {shown} (gated by `acc`: a warning; --strict fails it)" in explained.out


def test_warnings_and_errors_quoting_untrusted_text_stay_one_line_each(
    project: GitProject, cli: CliRunner
) -> None:
    _with_metrics(project, b'{"acc": [1, "x\\n::error title=pwn::injected\\u001b[2J"]}')
    result = cli("diff", "--md")
    assert result.code == 0, result.err
    assert all(line.startswith("mlgate: warning: ") for line in result.err.splitlines()), result.err
    assert "x⏎::error title=pwn::injected[2J" in result.err
    assert "\x1b" not in result.err
    (project.root / ".mlgate.yml").write_text('metrics: [metrics.json]\n"x\\n::error::y": 1\n')
    result = cli("diff")
    assert one_error_line(result).endswith(".mlgate.yml:2: x⏎::error::y: unknown key")
    assert not any(line.startswith("::") for line in result.err.splitlines())


def test_hundred_megabyte_metrics_file_fails_fast(project: GitProject, cli: CliRunner) -> None:
    project.commit("base", **{".mlgate.yml": CONFIG, "metrics.json": {"acc": 0.9}})
    with (project.root / "metrics.json").open("wb") as f:
        f.truncate(100 * 2**20)
    started = time.monotonic()
    line = one_error_line(cli("diff"))
    assert time.monotonic() - started < 5
    assert "MiB" in line


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("metrics: [metrics.json]\nbogus: 1\n", ".mlgate.yml:2: bogus: unknown key"),
        ("baseline: {max_distance: far}\n", "baseline.max_distance"),
        ("gates: [{metric: 'a[b'}]\n", "gates[0].metric: bad glob"),
        ("gates: [{metric: acc, rel: -0.5}]\n", "gates[0].rel"),
    ],
    ids=["unknown-key", "wrong-type", "bad-glob", "negative-tolerance"],
)
def test_bad_config_is_one_line_naming_the_key(
    project: GitProject, cli: CliRunner, config: str, expected: str
) -> None:
    project.commit("base", **{".mlgate.yml": config, "metrics.json": {"acc": 0.9}})
    line = one_error_line(cli("diff"))
    assert expected in line


def test_missing_config_flag_file_is_a_usage_error(project: GitProject, cli: CliRunner) -> None:
    project.commit("base", **{"metrics.json": {"acc": 0.9}})
    assert "--config nope.yml: no such file" in one_error_line(cli("diff", "--config", "nope.yml"))


DIFF_HELP = "see `mlgate diff --help`"


@pytest.mark.parametrize(
    ("argv", "expected", "hint"),
    [
        (["diff", "--frobnicate"], "diff: unrecognized arguments: --frobnicate", DIFF_HELP),
        (
            ["diff", "--precision", "abc"],
            "diff: argument --precision: 'abc' is not a whole number",
            DIFF_HELP,
        ),
        (["diff", "--precision", "-1"], "diff: argument --precision: -1 is out of range", DIFF_HELP),
        (["diff", "--md", "--json"], "diff: argument --json: not allowed with argument --md", DIFF_HELP),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'", "see `mlgate --help`"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate", "see `mlgate --help`"),
        (
            ["-q", "diff"],
            "diff: unrecognized arguments: -q",
            "flags go after the command: `mlgate diff -q …`",
        ),
    ],
    ids=[
        "unknown-flag",
        "precision-not-a-number",
        "precision-negative",
        "exclusive-flags",
        "command",
        "top-flag",
        "flag-before-command",
    ],
)
def test_bad_flags_are_one_error_line_with_the_help_to_read(
    cli: CliRunner, argv: list[str], expected: str, hint: str
) -> None:
    result = cli(*argv)
    assert one_error_line(result).startswith(f"mlgate: error: {expected}")
    assert result.err.splitlines() == [one_error_line(result), f"hint: {hint}"]
    assert result.out == ""
