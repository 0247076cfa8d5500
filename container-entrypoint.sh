#!/bin/sh
# The image's entrypoint: exec mlgate. A GitHub container action passes every input, blank ones too: empty
# arguments are dropped and empty MLGATE_* variables unset, so a blank input means "not set"; MLGATE_ARGS
# (the action's `args` input) is appended, split on blanks, never evaluated by a shell.
set -eu
for arg do shift; [ -z "$arg" ] || set -- "$@" "$arg"; done
for name in $(env | sed -n 's/^\(MLGATE_[A-Z0-9_]*\)=$/\1/p'); do unset "$name"; done
set -f
# shellcheck disable=SC2086
exec /opt/mlgate/bin/mlgate "$@" ${MLGATE_ARGS:-}
