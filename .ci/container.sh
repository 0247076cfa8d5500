#!/usr/bin/env bash
# Static checks of the shipped CI files (action.yml, workflows, the GitLab template and examples, Dockerfile)
# with check-jsonschema, actionlint, hadolint and zizmor, all offline. The tools go to a cache folder
# (MLGATE_TOOLS, default ~/.cache/mlgate-ci/tools): from ../shared/harness/install-tools.sh where the harness is,
# else (GitHub's runner) from .ci/lint-tools.sh (PyPI, and official release binaries pinned by SHA-256).
# The engine tests are pytest's (`pytest -m container`). Usage: .ci/container.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=${MLGATE_HARNESS:-../shared/harness}
TOOLS=${MLGATE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mlgate-ci/tools}
if [ -d "$HARNESS" ]; then
  TOOLS=$("$HARNESS/install-tools.sh" "$TOOLS" | tail -1)
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "zizmor==${ZIZMOR_VERSION:-1.32.0}"
  export PATH="$TOOLS/venv/bin:$TOOLS/npm/node_modules/.bin:$PATH"
else
  TOOLS=$(bash .ci/lint-tools.sh "$TOOLS" | tail -1)
  export PATH="$TOOLS/bin:$TOOLS/venv/bin:$PATH"
fi
fail=0
run() { echo "+ $*"; "$@" || fail=1; }

if [ -d "$HARNESS" ]; then
  run "$HARNESS/lint-ci-files.sh" .
else # what lint-ci-files.sh checks
  run check-jsonschema --builtin-schema vendor.github-actions action.yml
  run check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
  run actionlint -no-color .github/workflows/*.yml
  run check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci .gitlab-ci.yml
  run hadolint Dockerfile
fi
# what lint-ci-files.sh does not glob: the template in its subfolder and the examples users copy
run check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci \
  templates/gitlab/mlgate.gitlab-ci.yml docs/examples/gitlab-ci.yml
examples=()
for f in docs/examples/*.yml; do [ "$f" = docs/examples/gitlab-ci.yml ] || examples+=("$f"); done
run check-jsonschema --builtin-schema vendor.github-workflows "${examples[@]}"
# the GPU example runs on a self-hosted runner labelled "gpu", a label actionlint cannot know
run actionlint -no-color -ignore 'label "gpu" is unknown' "${examples[@]}"
if command -v shellcheck >/dev/null; then run shellcheck container-entrypoint.sh .ci/run .ci/*.sh; fi
run zizmor --offline --no-progress action.yml .github/workflows/ "${examples[@]}"
exit $fail
