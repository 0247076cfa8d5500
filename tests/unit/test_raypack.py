"""The upload package of the Ray (and remote Docker) backends: what goes, what never does."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from mlgate.training import raypack

MIB = raypack.MIB


def test_a_symlink_to_a_file_outside_the_tree_is_never_packed_when_a_pr_commits_one(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text("print('hi')\n")
    (work / "key").symlink_to(secret)
    (work / "alias.py").symlink_to(work / "train.py")
    package = raypack.scan(work, (), 25 * MIB, 100 * MIB)
    assert package.outside == ("key",)
    assert [name for name, _ in package.files] == ["alias.py", "train.py"]
    archive = zipfile.ZipFile(io.BytesIO(raypack.build_zip(package)))
    assert sorted(archive.namelist()) == ["alias.py", "train.py"]
    assert b"PRIVATE KEY" not in raypack.build_zip(package)
