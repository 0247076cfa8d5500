"""The job-side launcher mlgate ships to a Ray cluster: run the command in a private copy, frame its results.

This file runs on the cluster as `python3 .mlgate/rayjob.py '<json>'` (the standard library only, Python
3.8+), so that the user's script needs no change:

1. Ray unpacks a working_dir once per package and shares that folder between every job that uses it, so the
   launcher copies it to a scratch folder first: a job never sees files an earlier job wrote.
2. It runs the command there through the shell, its output going straight to the job's log.
3. It frames the result files into the log (base64 between marker lines, with their SHA-256), within a size
   limit, so that mlgate brings them back into the runner's work tree: every file the command created or
   changed, or only those matching the job's `paths` (globs) when some are named.
4. It prints the command's exit code as the last marker line and exits with it.

    @@mlgate@@ begin <json path> <size>      one file follows, 76-character base64 lines
    @@mlgate@@ end <sha256>
    @@mlgate@@ skip <json path> <size>       changed, but over the per-file limit: left on the cluster
    @@mlgate@@ error <json message>          results over the limit: nothing more follows
    @@mlgate@@ exit <code>
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import Any

MARK = "@@mlgate@@"
CHUNK = 57 * 1024  # bytes per read: a whole number of 76-character base64 lines
SKIP_DIRS = {".mlgate", "__pycache__", ".git"}


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """Every file under root → (size, mtime_ns); a file the command writes shows as new or different."""
    seen: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            seen[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return seen


def chosen(root: str, paths: list[str], before: dict[str, tuple[int, int]]) -> tuple[list[str], bool]:
    """The files the command created or changed (only those matching `paths` when some are named), and
    whether they were named: a named file counts against the limit whatever its size. A file the command
    did not touch is not sent: the runner has it already."""
    after = snapshot(root)
    changed = {rel for rel, stat in after.items() if before.get(rel) != stat}
    if not paths:
        return sorted(changed), False
    found = set()
    for pattern in paths:
        for hit in glob.glob(os.path.join(root, pattern), recursive=True):
            found.add(os.path.relpath(hit, root))
    return sorted(found & changed), True


def emit(root: str, rel: str, out: Any) -> None:
    """Frame one file: begin line, base64 lines, end line with the SHA-256 of its bytes."""
    path = os.path.join(root, rel)
    digest = hashlib.sha256()
    out.write(f"{MARK} begin {json.dumps(rel)} {os.path.getsize(path)}\n")
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            text = base64.b64encode(chunk).decode("ascii")
            out.write("".join(text[i : i + 76] + "\n" for i in range(0, len(text), 76)))
    out.write(f"{MARK} end {digest.hexdigest()}\n")


def frame_results(root: str, job: dict[str, Any], before: dict[str, tuple[int, int]], out: Any) -> None:
    files, named = chosen(root, list(job.get("paths") or []), before)
    budget = int(job["limit"])
    sizes = {rel: os.path.getsize(os.path.join(root, rel)) for rel in files}
    if not named:
        for rel in [r for r in files if sizes[r] > int(job["file_limit"])]:
            out.write(f"{MARK} skip {json.dumps(rel)} {sizes[rel]}\n")
            files.remove(rel)
    total = sum(sizes[rel] for rel in files)
    if total > budget:
        biggest = max(files, key=lambda rel: sizes[rel])
        message = f"result files are {total} bytes, over the limit of {budget} (largest: {biggest})"
        out.write(f"{MARK} error {json.dumps(message)}\n")
        return
    for rel in files:
        emit(root, rel, out)


def run(job: dict[str, Any]) -> int:
    scratch = tempfile.mkdtemp(prefix="mlgate-job-")
    root = os.path.join(scratch, "work")
    shutil.copytree(os.getcwd(), root, symlinks=True, ignore=shutil.ignore_patterns(".mlgate"))
    before = snapshot(root)
    child = subprocess.Popen(job["command"], shell=True, cwd=root)

    def forward(signum: int, _frame: Any) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = child.wait()
    code = 128 - code if code < 0 else code
    sys.stdout.flush()
    try:
        frame_results(root, job, before, sys.stdout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.stdout.write(f"{MARK} exit {code}\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(run(json.loads(sys.argv[1])))
