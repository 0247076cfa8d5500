"""The wheel ships every subpackage and the top-level templates/ folder as `mlgate.templates`."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert set(SETUPTOOLS["packages"]) == found | {"mlgate.templates"}


def test_every_package_lies_under_src_so_an_editable_install_is_a_plain_path() -> None:
    # NOTE: any other package-dir entry makes setuptools install an import hook for editable installs,
    # which costs every Python start in the venv (pyproject.toml, [tool.setuptools]).
    assert SETUPTOOLS["package-dir"] == {"": "src"}
    link = ROOT / "src" / "mlgate" / "templates"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "templates").resolve()


def test_templates_folder_holds_the_report_templates_and_the_demo() -> None:
    names = {
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()
    }
    assert {"report.md.j2", "report.html.j2", "demo/train.py", "demo/mlgate.yml", "demo/params.yaml"} <= names


@pytest.mark.slow
def test_the_built_wheel_holds_every_template_as_a_file(tmp_path: Path) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        env=env,
    )
    (wheel,) = tmp_path.glob("mlgate-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {info.filename for info in archive.infolist() if not info.is_dir()}
        links = [info.filename for info in archive.infolist() if (info.external_attr >> 28) == 0o12]
    templates = {
        "mlgate/templates/" + p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert templates <= shipped
    assert "mlgate/reporttemplate.py" in shipped
    assert links == []  # files, not a link that would point out of site-packages
