"""yamlcache: a YAML document parsed once is read back without PyYAML while its text and the parser stay."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from mlgate import localcache, yamlcache, yamlfile
from mlgate.errors import MetricsError
from mlgate.yamlfile import keeping, load_yaml

DOCUMENT = """\
lr: 0.1
depth: 3
seed: -7
big: 123456789012345678901234567890
flags: {early_stop: true, resume: false, note: null}
layers: [64, 32.5, .inf, -.inf, .nan]
name: "résumé: ✓"
on: still a string
"""


def parse(text: str, directory: Path | None) -> tuple[Any, dict[Any, int]]:
    with keeping(directory):
        return load_yaml(text, "params.yaml", MetricsError)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json"))


def no_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(yamlfile, "_parse", refuse)


def test_a_parsed_document_comes_back_equal_with_its_types_and_key_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_data, first_lines = parse(DOCUMENT, tmp_path)
    assert len(entries(tmp_path)) == 1
    no_pyyaml(monkeypatch)
    data, lines = parse(DOCUMENT, tmp_path)
    assert lines == first_lines
    assert lines[("layers", 1)] == 6
    assert {k: data[k] for k in ("lr", "depth", "seed", "big", "flags", "name", "on")} == {
        k: first_data[k] for k in ("lr", "depth", "seed", "big", "flags", "name", "on")
    }
    assert [type(v) for v in data.values()] == [type(v) for v in first_data.values()]
    assert data["layers"][:4] == [64, 32.5, math.inf, -math.inf]
    assert type(data["layers"][0]) is int
    assert math.isnan(data["layers"][4])
    assert data["flags"]["early_stop"] is True


def test_nothing_is_kept_outside_keeping_or_with_no_directory(tmp_path: Path) -> None:
    load_yaml(DOCUMENT, "params.yaml", MetricsError)
    parse(DOCUMENT, None)
    assert entries(tmp_path) == []


@pytest.mark.parametrize(
    "text",
    [
        "released: 2024-05-01\n",  # a date
        "1: one\n",  # a key that is not a string
        "tags: !!set {a, b}\n",
        "blob: !!binary aGVsbG8=\n",
    ],
)
def test_a_document_json_cannot_hold_exactly_is_parsed_each_time(tmp_path: Path, text: str) -> None:
    first = parse(text, tmp_path)
    assert entries(tmp_path) == []
    assert parse(text, tmp_path) == first


def test_a_bad_document_is_an_error_every_time_and_is_never_kept(tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(MetricsError, match="duplicate key 'lr'"):
            parse("lr: 0.1\nlr: 0.2\n", tmp_path)
    assert entries(tmp_path) == []


def test_an_entry_for_other_text_or_other_code_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse(DOCUMENT, tmp_path)
    (entry,) = entries(tmp_path)
    kept = json.loads(entry.read_text())
    kept["data"]["lr"] = 99.0
    kept["text"] = DOCUMENT + "# another document under the same name\n"
    entry.write_text(json.dumps(kept))
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 0.1, "text differs: parsed, not read"
    kept["text"] = DOCUMENT
    kept["stamp"] = "another mlgate"
    entry.write_text(json.dumps(kept))
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 0.1, "stamp differs: parsed, not read"
    kept = json.loads(entry.read_text())
    kept["data"]["lr"] = 99.0
    entry.write_text(json.dumps(kept))
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 99.0, "the proof that a good entry is what is read"


def test_an_entry_others_can_write_or_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    parse(DOCUMENT, tmp_path)
    (entry,) = entries(tmp_path)
    kept = json.loads(entry.read_text())
    kept["data"]["lr"] = 99.0
    entry.write_text(json.dumps(kept))
    os.chmod(entry, 0o666)
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 0.1
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(kept))
    entry.unlink()
    entry.symlink_to(planted)
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 0.1


def test_a_damaged_entry_costs_only_a_parse(tmp_path: Path) -> None:
    parse(DOCUMENT, tmp_path)
    (entry,) = entries(tmp_path)
    entry.write_text("{not json")
    assert parse(DOCUMENT, tmp_path)[0]["lr"] == 0.1
    assert yamlcache.load(tmp_path, DOCUMENT) is not None, "parsing again replaced it"


def test_the_yaml_store_is_off_in_ci_and_when_turned_off(tmp_path: Path) -> None:
    assert localcache.cache_dir({"MLGATE_CACHE_DIR": str(tmp_path)}, "yaml") == tmp_path / "yaml"
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "MLGATE_NO_CACHE"):
        assert localcache.cache_dir({"MLGATE_CACHE_DIR": str(tmp_path), name: "true"}, "yaml") is None
