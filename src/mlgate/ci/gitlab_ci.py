"""GitLab CI: the CiContext from `CI_*` variables (merge request pipelines, push, schedule, self-managed
servers through CI_API_V4_URL / CI_SERVER_URL).

In a merged-results pipeline CI_COMMIT_SHA is GitLab's merge commit; the MR's own head is
CI_MERGE_REQUEST_SOURCE_BRANCH_SHA, which is where the status belongs.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.ci import CiContext, pick_token, positive_int


def detect(env: Mapping[str, str]) -> CiContext:
    server = env.get("CI_SERVER_URL", "https://gitlab.com").rstrip("/")
    api = env.get("CI_API_V4_URL") or f"{server}/api/v4"
    project = env.get("CI_PROJECT_PATH") or env.get("CI_PROJECT_ID") or None
    path = env.get("CI_PROJECT_PATH")
    token, source = pick_token(env, "GITLAB_TOKEN", "CI_JOB_TOKEN")
    number = positive_int(env.get("CI_MERGE_REQUEST_IID"))
    source_project = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
    target_project = env.get("CI_MERGE_REQUEST_PROJECT_ID")
    head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA") or None
    return CiContext(
        provider="gitlab-ci",
        forge="gitlab",
        event=env.get("CI_PIPELINE_SOURCE", "push"),
        repo=project,
        repo_url=env.get("CI_PROJECT_URL") or (f"{server}/{path}" if path else None),
        api_url=api.rstrip("/"),
        server_url=server,
        head_sha=head,
        branch=env.get("CI_COMMIT_BRANCH") or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or None,
        base_branch=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or None,
        number=number,
        default_branch=env.get("CI_DEFAULT_BRANCH") or None,
        run_id=env.get("CI_PIPELINE_ID") or None,
        run_attempt=None,
        run_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL") or None,
        token=token,
        token_source=source,
        fork=bool(source_project and target_project and source_project != target_project),
    )
