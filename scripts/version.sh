#!/usr/bin/env bash
# Prints Kyso's version for the build (docs/cli.md, DESIGN "version"):
#   HEAD tagged vMAJOR.MINOR.PATCH, tree clean  → MAJOR.MINOR.PATCH
#   otherwise → the last such tag (or 0.0.0) + -dev+<12-hex commit>[.dirty]
# Releases are git tags; there is no VERSION file to forget to bump.
# Outside a git checkout (a source tarball): 0.0.0-dev.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
match='v[0-9]*.[0-9]*.[0-9]*'
valid='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'
if ! commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  echo 0.0.0-dev; exit 0
fi
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
tag=$(git tag --points-at HEAD --list "$match" | grep -E "$valid" | sort -V | tail -n1)
if [ -n "$tag" ] && [ -z "$dirty" ]; then
  echo "${tag#v}"; exit 0
fi
last=$(git tag --merged HEAD --list "$match" | grep -E "$valid" | sort -V | tail -n1)
last=${last:-v0.0.0}
echo "${last#v}-dev+${commit}${dirty}"
