"""The `/mlgate` command parser: first line only, case-insensitive, quotes and code blocks ignored."""

from __future__ import annotations

import pytest

from mlgate.chatops import Command, parse_command


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/mlgate run", Command("run")),
        ("/MLGate RUN\n", Command("run")),
        ("\n\n  /mlgate help  ", Command("help")),
        ("/mlgate", Command("help")),
        ("/mlgate explain acc", Command("explain", ("acc",))),
        ("/mlgate explain", Command("explain")),
        ("/mlgate accept", Command("accept")),
        ("/mlgate accept: known trade-off", Command("accept", (), "known trade-off")),
        ("/mlgate accept acc, f1 : noisy", Command("accept", ("acc", "f1"), "noisy")),
        ("/mlgate accept acc\nseen it before\nfine", Command("accept", ("acc",), "seen it before fine")),
        ("/mlgate accept: a\r\nb", Command("accept", (), "a b")),
        ("/mlgate deploy now", Command("unknown", word="deploy")),
    ],
)
def test_parse_command_reads_the_first_line_when_it_is_a_command(body: str, expected: Command) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n  ",
        "LGTM",
        "> /mlgate accept",
        ">/mlgate accept",
        "```\n/mlgate accept\n```",
        "~~~\n/mlgate accept\n~~~",
        "    /mlgate accept",
        "\t/mlgate accept",
        "please /mlgate accept",
        "/mlgateaccept",
        "`/mlgate accept`",
        "thanks\n/mlgate accept",
    ],
)
def test_parse_command_returns_none_when_the_first_line_is_not_a_command(body: str) -> None:
    assert parse_command(body) is None


def test_parse_command_keeps_a_long_comment_bounded_when_it_has_10000_characters() -> None:
    command = parse_command("/mlgate accept: " + "x" * 10_000)
    assert command is not None
    assert command.kind == "accept"
    assert len(command.reason) < 1_000
