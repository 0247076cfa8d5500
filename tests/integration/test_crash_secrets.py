"""A crashed training that prints the job's token: `mlgate run` in GitHub Actions against the fake GitHub,
and the token in none of the report, the comment, the check/status, the job summary, the log tail or the
terminal, in any of the forms it leaks in (plain, URL-encoded, inside a Basic auth header)."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from urllib.parse import quote

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import github_env
from tests.fakeforge.drive import GITHUB_REPO
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]

CANARY = "ghp_CANARYcrash1234567890abcdefXYZ"
TRAIN = """\
import base64, json, os, sys
from urllib.parse import quote
key = os.environ.get("DEPLOY_KEY", "")
print("forge token seen:", os.environ.get("GITHUB_TOKEN", "(none)"))
print("copy:", os.environ.get("HF_TOKEN", ""), "train.env:", key, flush=True)
print("clone url: https://x:" + quote(key, safe="") + "@example.invalid/r.git")
print("Authorization: Basic " + base64.b64encode(("x-access-token:" + key).encode()).decode())
if os.environ.get("CRASH"):
    print("RuntimeError: CUDA out of cheese with", key, flush=True)
    sys.exit(3)
json.dump({"acc": 0.9}, open("metrics.json", "w"))
"""
CONFIG = f"""\
train: {{command: {sys.executable} train.py, timeout: 20s}}
metrics: [metrics.json]
gates:
  - {{metric: acc, abs: 0.01}}
baseline: {{stores: [git-notes]}}
"""


def _pr(project: GitProject, cli: CliRunner) -> str:
    """main with a training script and its baseline; branch `feature` one commit ahead; its SHA."""
    project.write(".gitignore", "metrics.json\nmlgate-report/\n.mlgate/\n")
    project.commit("model", **{".mlgate.yml": CONFIG, "train_dot_py": TRAIN})
    assert cli("run", env={}).code == 0
    project.branch("feature")
    return project.commit("break it", **{"README.md": "a change\n"})


def _leaks(text: str) -> bool:
    forms = (CANARY, quote(CANARY, safe=""), base64.b64encode(f"x-access-token:{CANARY}".encode()).decode())
    return any(form in text for form in forms)


def test_canary_token_is_in_no_report_comment_summary_or_log_when_the_training_crashes(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.add_token(CANARY, "mlgate-bot")
    head = _pr(project, cli)
    env = github_env(fake_forge, tmp_path, head, token=CANARY)
    env |= {"CRASH": "1", "HF_TOKEN": CANARY, "MLGATE_TRAIN__ENV__DEPLOY_KEY": CANARY}
    result = cli("run", "-v", env=env)
    assert result.code == 3, result.err
    assert "training exited with code 3" in result.err
    [comment] = [c for c in fake_forge.github.comments(GITHUB_REPO, 5) if c["login"] == "mlgate-bot"]
    body = str(comment["body"])
    assert "CUDA out of cheese with ***" in body, "the log tail is posted, masked"
    assert "forge token seen: (none)" in body, "the forge token never reaches the training"
    summary = (tmp_path / "summary.md").read_text()
    assert "out of cheese" in summary
    report = project.root / "mlgate-report"
    seen = {"stdout": result.out, "stderr": result.err, "comment": body, "summary": summary}
    seen |= {f"request {r.method} {r.path}": r.body + r.path + str(r.query) for r in fake_forge.log}
    seen |= {str(p): p.read_text(errors="replace") for p in [*report.rglob("*"), *tmp_path.glob("*.*")]
             if p.is_file()}  # fmt: skip
    seen |= {
        str(p): p.read_text(errors="replace") for p in (project.root / ".mlgate").rglob("*") if p.is_file()
    }
    assert (report / "report.md").exists()
    assert [where for where, text in seen.items() if _leaks(text)] == []
