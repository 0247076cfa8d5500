"""The wheel ships every subpackage and the top-level templates/ folder as `mlgate.templates`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert set(setuptools["packages"]) == found | {"mlgate.templates"}
    assert setuptools["package-dir"]["mlgate.templates"] == "templates"


def test_templates_folder_holds_the_report_templates_and_the_demo() -> None:
    names = {
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()
    }
    assert {"report.md.j2", "report.html.j2", "demo/train.py", "demo/mlgate.yml", "demo/params.yaml"} <= names
