"""yamlfile: a document PyYAML cannot build, or that aliases blow up, is one MlgateError naming its line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlgate.errors import ConfigError, MetricsError
from mlgate.yamlfile import MAX_ALIAS_NODES, keeping, load_yaml


def refusal(text: str) -> MetricsError:
    with pytest.raises(MetricsError) as caught:
        load_yaml(text, "m.yaml", MetricsError)
    error = caught.value
    assert "\n" not in str(error), str(error)
    return error


def bomb(levels: int) -> str:
    """The "billion laughs": each level a list of nine aliases of the one before, 9**levels numbers in all."""
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("acc: !!float abc\n", "m.yaml:1:6", "'abc' is not a !!float"),
        ("n: 1\nacc: !!int 1.5\n", "m.yaml:2:6", "'1.5' is not a !!int"),
        ("when: !!timestamp xx\n", "m.yaml:1:7", "'xx' is not a !!timestamp"),
        ("when: 2024-13-01\n", "m.yaml:1:7", "month must be in 1..12"),
        ("ok: !!bool maybe\n", "m.yaml:1:5", "'maybe' is not a !!bool"),
        ("blob: !!binary a\n", "m.yaml:1:7", "failed to decode base64 data"),
        ("big: " + "9" * 5000 + "\n", "m.yaml:1:6", "is not a !!int"),
        ("acc: [1, !!float x]\n", "m.yaml:1:10", "'x' is not a !!float"),
    ],
    ids=["float", "int", "timestamp", "implicit-date", "bool", "binary", "huge-int", "in-a-list"],
)
def test_a_tagged_value_that_cannot_be_built_names_its_line_and_column(
    text: str, where: str, what: str
) -> None:
    error = refusal(text)
    assert error.where == where
    assert what in error.what


@pytest.mark.parametrize(
    ("text", "where", "tag"),
    [
        ("acc: !!python/object:os.system x\n", "m.yaml:1:6", "!!python/object:os.system"),
        ("a: 1\nb: !foo {x: 1}\n", "m.yaml:2:4", "!foo"),
    ],
)
def test_an_unknown_tag_is_one_line_with_line_and_column(text: str, where: str, tag: str) -> None:
    error = refusal(text)
    assert error.where == where
    assert f"'{tag}'" in error.what
    assert "<unicode string>" not in error.what


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\nb: [unclosed\n", "m.yaml:3:1"),
        ("a: 1\n---\nb: 2\n", "m.yaml:2:1"),
        ("a: *nope\n", "m.yaml:1:4"),
        ("a: 1\nb: x\x07\n", "m.yaml:2:5"),
    ],
    ids=["parser", "two-documents", "undefined-alias", "control-character"],
)
def test_every_pyyaml_error_is_one_line_with_its_position(text: str, where: str) -> None:
    error = refusal(text)
    assert error.where == where
    assert error.what.startswith("invalid YAML: ")
    assert "position" not in error.what


TWO = "but found another document"


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("a: &a 1\nb: &a 2\n", "found duplicate anchor 'a'; first occurrence on line 1; second occurrence"),
        ("a: 1\n---\nb: 2\n", f"expected a single document in the stream on line 1; {TWO}"),
        ("a: [1,\n", "expected the node content, but found '<stream end>'"),
    ],
    ids=["duplicate-anchor", "two-documents", "while-parsing"],
)
def test_a_terse_problem_says_its_context_and_a_while_parsing_one_does_not(text: str, what: str) -> None:
    assert refusal(text).what == f"invalid YAML: {what}"


def test_the_error_builder_given_is_the_one_raised() -> None:
    with pytest.raises(ConfigError, match=r"^\.mlgate\.yml:1:26: invalid YAML: 'x' is not a !!int$"):
        load_yaml("baseline: {max_distance: !!int x}\n", ".mlgate.yml", ConfigError)


def test_an_alias_bomb_is_refused_at_the_alias_before_anything_is_built() -> None:
    started = time.monotonic()
    error = refusal(bomb(9))  # 387 million numbers
    assert time.monotonic() - started < 2
    assert error.where == "m.yaml:6:10"  # the first `*l4` of l5: the aliases before it repeat 66,430 nodes
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in error.what


def test_aliases_repeating_up_to_the_limit_are_read() -> None:
    data, _ = load_yaml(bomb(5), "m.yaml", MetricsError)  # aliases repeat 74,718 nodes
    assert len(data["l4"]) == 9
    assert data["l4"][8][8][8][8][8] == 1


def test_a_few_aliases_and_a_merge_key_are_read() -> None:
    text = (
        "base: &base {lr: 0.1, depth: 3}\nfinetune:\n  <<: *base\n  lr: 0.01\n"
        "same: *base\nl: &l [1, 2]\nboth: [*l, *l]\n"
    )
    data, lines = load_yaml(text, "params.yaml", MetricsError)
    assert data["finetune"] == {"lr": 0.01, "depth": 3}
    assert data["same"] == {"lr": 0.1, "depth": 3}
    assert data["both"] == [[1, 2], [1, 2]]
    assert lines[("finetune", "lr")] == 4


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    started = time.monotonic()
    error = refusal("a: 1\nacc: &x [1, *x]\n")
    assert time.monotonic() - started < 2
    assert error.where == "m.yaml:2:13"
    assert "*x" in error.what


@pytest.mark.parametrize("text", ["acc: !!float abc\n", bomb(9), "acc: &x [1, *x]\n", "a: !foo 1\n"])
def test_a_document_that_fails_is_never_kept(tmp_path: Path, text: str) -> None:
    for _ in range(2):
        with keeping(tmp_path), pytest.raises(MetricsError):
            load_yaml(text, "m.yaml", MetricsError)
    assert list(tmp_path.iterdir()) == []


def test_the_readme_states_the_alias_limit() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in readme
