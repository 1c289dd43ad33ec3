#!/usr/bin/env bash
# Installs actionlint from the Go module proxy into a tools directory and
# lints the project's workflows and the example workflows users copy.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${AUDITPACK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/auditpack-tools}"
mkdir -p "$tools"
if [ ! -x "$tools/actionlint" ] || ! "$tools/actionlint" -version | grep -q '^v\?1\.7\.12$'; then
  GOBIN="$tools" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi
"$tools/actionlint" -version | head -1
"$tools/actionlint" .github/workflows/*.yml .github/examples/*.yml
echo "actionlint: no findings"
