#!/usr/bin/env bash
# Keyless signing and cosign interoperability against a real Sigstore stack
# on loopback: builds the services, cosign v2.6.5 and cosign v3.1.3 from the
# Go module proxy (test/sigstore/build-tools.sh skips binaries already built
# at the pinned versions), then, against one fresh stack
# (test/sigstore/with-stack.sh), runs the keyless end-to-end Go tests with
# AUDITPACK_REQUIRE_SIGSTORE=1, so that they fail instead of skipping, and
# test/sigstore/interop.sh. cosign v3.1.3 makes the keyless bundle that
# auditpack verifies, because v2.6.5 cannot write attestations to Rekor v2.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

start=$SECONDS
test/sigstore/build-tools.sh fulcio rekor-server-posix timestamp-server tesseract-posix cosign cosign3
echo "sigstore tools ready in $((SECONDS - start))s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Built outside the stack, which may run without network access.
go build -o "$work/auditpack" ./cmd/auditpack
go test -c -o "$work/cli.test" ./internal/cli
cat >"$work/run.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
(cd internal/cli && AUDITPACK_REQUIRE_SIGSTORE=1 "$work/cli.test" -test.run 'Keyless' -test.v)
bash test/sigstore/interop.sh "$work/auditpack"
SCRIPT
chmod +x "$work/run.sh"
test/sigstore/with-stack.sh "$work/run.sh"
