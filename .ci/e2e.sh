#!/usr/bin/env bash
# Runs the README's quickstart against the built binary, the way a user
# would, and checks the exit codes and that the pack verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/auditpack" ./cmd/auditpack
bin="$work/auditpack"

echo "run the demo (expect exit 0)"
"$bin" run --config testdata/demo/.auditpack.yml --key testdata/demo/keys/cosign.key --out "$work/pack" >"$work/run.out"
test -f "$work/pack/index.json"
test -f "$work/pack.tar.gz"

echo "verify the directory and the archive (expect exit 0)"
"$bin" verify "$work/pack" --key testdata/demo/keys/cosign.pub --artifact testdata/demo/models/model.json
"$bin" verify "$work/pack.tar.gz" --key testdata/demo/keys/cosign.pub

echo "same inputs give a byte-identical archive, also when run starts in another directory"
# The archive's entries and gzip header carry the output directory's name,
# so the second pack has the same name in another parent.
mkdir "$work/again"
(cd testdata/demo && "$bin" run --config .auditpack.yml --key keys/cosign.key --out "$work/again/pack" >/dev/null)
cmp "$work/pack.tar.gz" "$work/again/pack.tar.gz"

echo "a changed byte fails verification (expect exit 1)"
printf ' ' >>"$work/pack/summary.md"
set +e
"$bin" verify "$work/pack" --key testdata/demo/keys/cosign.pub >"$work/verify.out"
code=$?
set -e
test "$code" = 1 || { echo "verify exited $code, want 1"; cat "$work/verify.out"; exit 1; }
grep -q "summary.md" "$work/verify.out"

echo "bad usage exits 2 and leaves no output"
set +e
"$bin" run --config "$work/missing.yml" --sign none --out "$work/none" 2>"$work/err.out"
code=$?
set -e
test "$code" = 2 || { echo "run exited $code, want 2"; exit 1; }
test ! -e "$work/none"
echo "end-to-end checks passed"
