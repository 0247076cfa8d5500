"""yamlfile: a document PyYAML cannot read or build is one MlgateError naming its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import ConfigError, MetricsError
from mlgate.yamlfile import keeping, load_yaml


def refusal(text: str) -> MetricsError:
    with pytest.raises(MetricsError) as caught:
        load_yaml(text, "m.yaml", MetricsError)
    error = caught.value
    assert "\n" not in str(error), str(error)
    return error


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


def test_the_error_builder_given_is_the_one_raised() -> None:
    with pytest.raises(ConfigError, match=r"^\.mlgate\.yml:1:26: invalid YAML: 'x' is not a !!int$"):
        load_yaml("baseline: {max_distance: !!int x}\n", ".mlgate.yml", ConfigError)


@pytest.mark.parametrize("text", ["acc: !!float abc\n", "a: !foo 1\n"])
def test_a_document_that_fails_is_never_kept(tmp_path: Path, text: str) -> None:
    for _ in range(2):
        with keeping(tmp_path), pytest.raises(MetricsError):
            load_yaml(text, "m.yaml", MetricsError)
    assert list(tmp_path.iterdir()) == []
