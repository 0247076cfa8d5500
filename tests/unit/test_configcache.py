"""configcache: a config validated once is read back without pydantic, while nothing it saw has changed."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mlgate import configcache, localcache
from mlgate.config import Config, ReportConfig
from mlgate.configfile import LoadedConfig, load_config, load_config_bytes
from mlgate.errors import ConfigError

CONFIG = "gates:\n  - {metric: acc, abs: 0.01}\nreport: {precision: 3}\n"


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / ".mlgate.yml"
    path.write_text(text)
    return path


def entries(cache: Path) -> list[Path]:  # NOTE: configcache names entries <crc>-<size>.json
    return sorted((cache / "config").glob("*.json"))


def kept_and_forged(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path, dict[str, Any]]:
    """Validate the config once; its file, its one entry, and that entry's JSON with the title "forged"."""
    path = write(tmp_path)
    load_config(path, env)
    (entry,) = entries(tmp_path / "cache")
    kept = json.loads(entry.read_bytes())
    kept["loaded"]["config"]["fields"]["report"]["fields"]["title"] = "forged"
    return path, entry, kept


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MLGATE_CACHE_DIR": str(tmp_path / "cache")}


def test_a_validated_config_is_kept_and_read_back_equal(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path)
    first = load_config(path, env)
    assert len(entries(tmp_path / "cache")) == 1
    again = load_config(path, env)
    assert again == first
    assert again.config.report.precision == 3
    assert again.config.rules[0].abs == 0.01


def test_an_entry_is_what_is_read_while_the_bytes_are_the_same(tmp_path: Path, env: dict[str, str]) -> None:
    """Proof that the second read comes from the cache: an entry planted under the key is what comes back."""
    path = write(tmp_path)
    load_config(path, env)
    planted = LoadedConfig(replace(Config(), report=ReportConfig(title="from the cache")), path, {})
    configcache.save(tmp_path / "cache" / "config", CONFIG.encode(), str(path), planted)
    assert len(entries(tmp_path / "cache")) == 1, "the same bytes: the same entry, replaced"
    assert load_config(path, env).config.report.title == "from the cache"


def test_changed_bytes_are_validated_again_and_a_bad_edit_is_an_error(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = write(tmp_path)
    load_config(path, env)
    path.write_text(CONFIG.replace("0.01", "-0.01"))
    with pytest.raises(ConfigError, match=r"gates\[0\]\.abs"):
        load_config(path, env)
    assert len(entries(tmp_path / "cache")) == 1, "an invalid config is never kept"


def test_a_config_with_environment_or_flag_overrides_is_never_kept(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """An entry holds only what the file holds: a secret given in the environment never reaches the disk."""
    path = write(tmp_path)
    by_env = load_config(path, {**env, "MLGATE_TRAIN__ENV__API_KEY": "s3cret-value"})
    by_flag = load_config(path, env, {"report.precision": 8})
    assert by_env.config.train.env == {"API_KEY": "s3cret-value"}
    assert by_env.sources["train.env.API_KEY"] == "env MLGATE_TRAIN__ENV__API_KEY"
    assert (by_flag.config.report.precision, by_flag.sources["report.precision"]) == (8, "flag")
    assert not (tmp_path / "cache").exists()
    assert load_config(path, env).config.report.precision == 3
    assert len(entries(tmp_path / "cache")) == 1


def test_only_a_file_read_from_disk_is_kept_never_a_base_branch_config_read_elsewhere(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A config read from git or the forge (load_config_bytes) is the base branch's: it judges the PR, and is
    validated every time."""
    base = load_config_bytes(CONFIG.encode(), "main:.mlgate.yml", env)
    assert base.sources["gates"] == "main:.mlgate.yml"
    assert base.config.report.precision == 3
    assert entries(tmp_path / "cache") == []


def test_a_damaged_entry_is_validated_again_and_replaced(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path)
    expected = load_config(path, env)
    (entry,) = entries(tmp_path / "cache")
    entry.write_bytes(b"\x80\x05not json")
    assert load_config(path, env) == expected
    assert load_config(path, env) == expected
    assert entry.read_bytes().startswith(b"{"), "the damaged entry was replaced"


def test_a_directory_others_may_write_is_neither_read_nor_written(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = write(tmp_path)
    load_config(path, env)
    planted = LoadedConfig(replace(Config(), report=ReportConfig(title="planted")), path, {})
    configcache.save(tmp_path / "cache" / "config", CONFIG.encode(), str(path), planted)
    os.chmod(tmp_path / "cache" / "config", 0o777)
    assert load_config(path, env).config.report.title == "Model report"
    path.write_text(CONFIG + "comment: {when: never}\n")
    load_config(path, env)
    assert len(entries(tmp_path / "cache")) == 1


def test_no_cache_when_turned_off_or_unwritable_and_loading_still_works(tmp_path: Path) -> None:
    path = write(tmp_path)
    off = {"MLGATE_CACHE_DIR": str(tmp_path / "cache"), "MLGATE_NO_CACHE": "1"}
    assert load_config(path, off).config.report.precision == 3
    assert not (tmp_path / "cache").exists()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would go")
    assert load_config(path, {"MLGATE_CACHE_DIR": str(blocked)}).config.report.precision == 3
    assert load_config(path, {}).config.report.precision == 3, "no home in the environment: no cache"


def test_the_cache_keeps_only_the_newest_entries(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localcache, "MAX_ENTRIES", 3)
    path = write(tmp_path)
    for precision in range(1, 7):
        path.write_text(CONFIG.replace("precision: 3", f"precision: {precision}"))
        load_config(path, env)
    assert len(entries(tmp_path / "cache")) == 3


def test_the_cache_directory_follows_the_environment(tmp_path: Path) -> None:
    assert configcache.cache_dir({"MLGATE_CACHE_DIR": "/c"}) == Path("/c/config")
    assert configcache.cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/mlgate/config")
    assert configcache.cache_dir({"HOME": "/h"}) == Path("/h/.cache/mlgate/config")
    assert configcache.cache_dir({}) is None


def test_an_empty_config_needs_no_validation(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ""), {}).config == Config()
    assert load_config(None, {}).config == Config()


def test_an_entry_is_used_only_for_the_very_bytes_and_source_it_was_validated_from(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A file name is only a CRC: an entry found under it that holds other bytes (a collision) is not used."""
    path, entry, kept = kept_and_forged(tmp_path, env)
    assert (kept["source"], kept["raw"]) == (str(path), CONFIG)
    other = CONFIG.replace("precision: 3", "precision: 9")
    for field, value in (("raw", other), ("source", "elsewhere.yml"), ("stamp", "an older mlgate")):
        entry.write_text(json.dumps({**kept, field: value}))
        assert load_config(path, env).config.report.title == "Model report", field


def test_in_ci_nothing_is_kept_or_read(tmp_path: Path, env: dict[str, str]) -> None:
    """A PR's training runs as this user: on a persistent runner it could leave an entry for later jobs."""
    path = write(tmp_path)
    for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI"):
        assert load_config(path, {**env, name: "true"}).config.report.precision == 3
    assert entries(tmp_path / "cache") == []


def test_an_entry_that_is_a_link_or_that_others_may_write_is_not_read(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path, entry, kept = kept_and_forged(tmp_path, env)
    elsewhere = tmp_path / "forged.json"
    elsewhere.write_text(json.dumps(kept))
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert load_config(path, env).config.report.title == "Model report", "a link is not followed"
    entry.unlink()
    entry.write_text(json.dumps(kept))
    entry.chmod(0o666)
    assert load_config(path, env).config.report.title == "Model report", "others may write it"
    entry.write_text(json.dumps(kept))
    entry.chmod(0o600)
    assert load_config(path, env).config.report.title == "forged", "the checks above are what refused it"


def test_every_section_survives_the_cache(tmp_path: Path, env: dict[str, str]) -> None:
    from tests.unit.test_config import FULL

    path = write(tmp_path, FULL)
    first = load_config(path, env)
    again = load_config(path, env)
    assert again == first
    assert again.config.gates[0].direction is first.config.gates[0].direction
    assert len(entries(tmp_path / "cache")) == 1
