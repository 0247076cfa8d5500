#!/usr/bin/env bash
# The CI-file linters where ../shared/harness is absent (GitHub's runner): zizmor and check-jsonschema from PyPI
# into a venv; actionlint and hadolint as their official release binaries, pinned by version and SHA-256 (a
# download whose checksum differs is refused, a cached one is checked again). Linux x86_64 only.
# Prints the tools folder; put "$TOOLS/bin" and "$TOOLS/venv/bin" on PATH.
# Usage: .ci/lint-tools.sh [DIR]   (default ~/.cache/mlgate-ci/tools)
# To bump a binary: the new version's SHA-256 from its release's checksums file (actionlint_X_checksums.txt,
# hadolint-linux-x86_64.sha256), never from a download of your own.
set -euo pipefail
TOOLS=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/mlgate-ci/tools}
ACTIONLINT_VERSION=1.7.12
ACTIONLINT_SHA256=8aca8db96f1b94770f1b0d72b6dddcb1ebb8123cb3712530b08cc387b349a3d8 # linux_amd64.tar.gz
HADOLINT_VERSION=2.15.1
HADOLINT_SHA256=c7187db94eeeeca956519a6af171adc31453941a1e777961f6e680f697c8c507 # hadolint-linux-x86_64
RELEASES=https://github.com
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "lint-tools.sh: Linux x86_64 only, not $(uname -sm)" >&2; exit 1; }
mkdir -p "$TOOLS/bin" "$TOOLS/downloads"
[ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
"$TOOLS/venv/bin/pip" install -q --disable-pip-version-check \
  "zizmor==${ZIZMOR_VERSION:-1.32.0}" "check-jsonschema==${CHECK_JSONSCHEMA_VERSION:-0.39.0}" >&2

fetch() { # URL SHA256 NAME: downloads/NAME, downloaded unless a copy with that checksum is there
  local file="$TOOLS/downloads/$3"
  echo "$2  $file" | sha256sum -c --status 2>/dev/null && return 0
  curl -fsSL --retry 3 -o "$file.part" "$1" || { echo "lint-tools.sh: cannot download $1" >&2; exit 1; }
  if ! echo "$2  $file.part" | sha256sum -c --status; then
    rm -f "$file.part"
    echo "lint-tools.sh: $1 does not have the pinned SHA-256 $2" >&2
    exit 1
  fi
  mv "$file.part" "$file"
}

archive=actionlint_${ACTIONLINT_VERSION}_linux_amd64.tar.gz
fetch "$RELEASES/rhysd/actionlint/releases/download/v$ACTIONLINT_VERSION/$archive" "$ACTIONLINT_SHA256" "$archive"
tar -xzf "$TOOLS/downloads/$archive" -C "$TOOLS/bin" actionlint
fetch "$RELEASES/hadolint/hadolint/releases/download/v$HADOLINT_VERSION/hadolint-linux-x86_64" \
  "$HADOLINT_SHA256" "hadolint-$HADOLINT_VERSION-linux-x86_64"
install -m 0755 "$TOOLS/downloads/hadolint-$HADOLINT_VERSION-linux-x86_64" "$TOOLS/bin/hadolint"
echo "$TOOLS"
