"""The fork-PR handoff: the report artifact an unprivileged job writes, and its reading as untrusted data.

A `pull_request` run from a fork has a read-only token, so it writes `manifest.json` (head SHA, PR number,
base SHA, image names) and `snapshot.json` (the metrics and params, the baseline snapshot format) next to
its report. A `workflow_run` job with a write token runs `mlgate publish --from DIR` on that artifact.

The privileged side trusts nothing in the folder: only the manifest, the snapshot and the PNGs the manifest
names are read, each within a size limit, never through a symlink; names are checked, PNGs by their magic
bytes; the verdict is recomputed from the metrics with the base branch's config, and the artifact's
Markdown is never used. The PR is found again from the head SHA through the forge's API.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from mlgate.errors import UsageError
from mlgate.model import MetricSet, Params, PlotImage, RunRecord
from mlgate.record import Record

MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.json"
KIND = "mlgate-handoff"
MAX_MANIFEST = 64 * 1024
MAX_SNAPSHOT = 16 * 1024 * 1024
MAX_IMAGE = 5 * 1024 * 1024
MAX_IMAGES = 20
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.png")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Handoff(Record):
    """What the privileged publisher may use from an artifact (all of it still untrusted values)."""

    head_sha: str
    number: int | None
    base_sha: str | None
    metrics: MetricSet
    params: Params
    images: tuple[Path, ...]


def write_handoff(
    folder: Path,
    *,
    repo: str | None,
    head_sha: str,
    number: int | None,
    base_sha: str | None,
    metrics: MetricSet,
    params: Params,
    plots: tuple[PlotImage, ...],
    run: RunRecord | None,
) -> list[Path]:
    """Write the manifest and snapshot into `folder` (the plots are copied in when they live elsewhere)."""
    from mlgate.snapshot import dump_snapshot

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for plot in plots[:MAX_IMAGES]:
        if plot.path.suffix.lower() == ".png" and _IMAGE_NAME.fullmatch(plot.path.name):
            if plot.path.resolve().parent != folder.resolve():
                shutil.copyfile(plot.path, folder / plot.path.name)
            names.append(plot.path.name)
    snapshot = folder / SNAPSHOT
    snapshot.write_text(dump_snapshot(head_sha, metrics, params, saved_at="", run=run), encoding="utf-8")
    manifest = {
        "kind": KIND, "schema": 1, "repo": repo, "head_sha": head_sha, "number": number,
        "base_sha": base_sha, "images": names,
    }  # fmt: skip
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return [folder / MANIFEST, snapshot]


def read_handoff(folder: Path) -> Handoff:
    """Read an artifact folder as untrusted data; a UsageError (exit 2) names what is wrong."""
    from mlgate.snapshot import SnapshotError, load_snapshot

    if folder.is_symlink() or not folder.is_dir():
        raise UsageError(f"--from {folder}", "not a folder")
    manifest = _manifest(_read(folder, MANIFEST, MAX_MANIFEST))
    try:
        metrics, params, _, _ = load_snapshot(_read(folder, SNAPSHOT, MAX_SNAPSHOT), store="fork artifact")
    except SnapshotError as exc:
        raise UsageError(str(folder / SNAPSHOT), str(exc)) from None
    images = tuple(_image(folder, name) for name in manifest["images"])
    return Handoff(
        head_sha=manifest["head_sha"],
        number=manifest["number"],
        base_sha=manifest["base_sha"],
        metrics=metrics,
        params=params,
        images=images,
    )


def _read(folder: Path, name: str, limit: int) -> bytes:
    path = folder / name
    if path.is_symlink() or not path.is_file():
        raise UsageError(str(path), "missing, or not a regular file")
    if path.stat().st_size > limit:
        raise UsageError(str(path), f"over the size limit of {limit:,} bytes")
    return path.read_bytes()


def _manifest(raw: bytes) -> dict[str, Any]:
    where = MANIFEST
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise UsageError(where, "not JSON") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(where, f"not an mlgate handoff manifest (kind must be {KIND!r})")
    head, base, number = data.get("head_sha"), data.get("base_sha"), data.get("number")
    if not isinstance(head, str) or not _SHA.fullmatch(head):
        raise UsageError(f"{where}: head_sha", "must be a full lowercase hex commit SHA")
    if base is not None and (not isinstance(base, str) or not _SHA.fullmatch(base)):
        base = None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        number = None
    images = data.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise UsageError(f"{where}: images", f"must be a list of at most {MAX_IMAGES} names")
    for name in images:
        if not isinstance(name, str) or not _IMAGE_NAME.fullmatch(name):
            raise UsageError(f"{where}: images", "a name that is not a plain `*.png` file name")
    return {"head_sha": head, "base_sha": base, "number": number, "images": list(dict.fromkeys(images))}


def _image(folder: Path, name: str) -> Path:
    data = _read(folder, name, MAX_IMAGE)
    if not data.startswith(_PNG_MAGIC):
        raise UsageError(str(folder / name), "not a PNG file")
    return folder / name
