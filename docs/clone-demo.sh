#!/usr/bin/env bash
# Acceptance of issue 12: the repository alone runs the demo. Clones the
# committed tree (HEAD, not uncommitted changes) into an empty temporary
# folder with nothing beside it and runs `make demo` there.
# Usage: docs/clone-demo.sh
set -euo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone --quiet --no-local "$repo" "$tmp/teeup"
make -C "$tmp/teeup" demo
echo "clone-demo: make demo passed on a clone of $(git -C "$repo" rev-parse --short HEAD) alone"
