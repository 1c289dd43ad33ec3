#!/usr/bin/env bash
# Check that cosign and auditpack agree on each other's attestations, against
# the loopback Sigstore stack:
#
#   1. cosign v2.6.5 verifies the keyless bundles of a pack auditpack signed
#      (Fulcio certificate, Rekor v2 entry, RFC 3161 timestamp), and rejects
#      them for another identity;
#   2. cosign v2.6.5 verifies the key-signed bundles of a pack auditpack
#      signed with a key cosign generated (cosign's encrypted key format);
#   3. auditpack verifies an attestation cosign v2.6.5 signed with that key
#      (attest-blob --tlog-upload=false), and rejects it for another type;
#   4. when cosign v3 is built (build-tools.sh cosign3), auditpack verifies a
#      keyless attestation cosign v3.1.3 logged in Rekor v2.
#
# Usage: test/sigstore/with-stack.sh test/sigstore/interop.sh AUDITPACK_BINARY
#   The binary is built beforehand, because the stack may run in a network
#   namespace without the Go module proxy.
set -euo pipefail

if [[ -z ${SIGSTORE_STATE_DIR:-} ]] || (($# != 1)); then
	echo "usage: test/sigstore/with-stack.sh $0 AUDITPACK_BINARY" >&2
	exit 2
fi
auditpack=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools_bin="${AUDITPACK_TOOLS:-$HOME/.cache/auditpack-tools}/bin"
cosign="$tools_bin/cosign"
cosign3="$tools_bin/cosign3"
work="$SIGSTORE_STATE_DIR/interop"
mkdir -p "$work"
# shellcheck source=expect.sh
source "$repo_dir/test/sigstore/expect.sh"

demo="$repo_dir/testdata/demo"
model="$demo/models/model.json"
evaluation=https://auditpack.dev/attestation/evaluation/v1
test_result=https://in-toto.io/attestation/test-result/v0.1
provenance=https://slsa.dev/provenance/v1

# 1. auditpack signs keylessly, as inside a GitHub Actions job.
expect_success "auditpack run signs keylessly through the Actions token service" \
	env GITHUB_ACTIONS=true GITHUB_REPOSITORY=org/repo \
	"$auditpack" run --config "$demo/.auditpack.yml" --out "$work/keyless" \
	--fulcio-url "$FULCIO_URL" --rekor-url "$REKOR_URL" --rekor-version 2 --tsa-url "$TSA_URL" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT"
for entry in "evaluation|$evaluation" "policy|$test_result" "provenance|$provenance"; do
	IFS='|' read -r name type <<<"$entry"
	expect_success "cosign v2.6.5 verifies auditpack's keyless $name bundle" \
		"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/keyless/attestations/$name.sigstore.json" \
		--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
		--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
		--type "$type" "$model"
done
expect_failure "cosign v2.6.5 rejects auditpack's keyless bundle for another repository's identity" "expected SAN value" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/keyless/attestations/evaluation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "${CERTIFICATE_IDENTITY/org\/repo/org/repo-evil}" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--type "$evaluation" "$model"
expect_success "auditpack verifies its keyless pack" \
	"$auditpack" verify "$work/keyless" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--timestamp-threshold 1 --artifact "$model"

# 2. A key cosign generated, in cosign's encrypted format, signs a pack.
export COSIGN_PASSWORD=interop-password
(cd "$work" && "$cosign" generate-key-pair >/dev/null 2>&1)
expect_success "auditpack run signs with cosign's encrypted key" \
	"$auditpack" run --config "$demo/.auditpack.yml" --out "$work/keyed" --key "$work/cosign.key"
for entry in "evaluation|$evaluation" "policy|$test_result" "provenance|$provenance"; do
	IFS='|' read -r name type <<<"$entry"
	expect_success "cosign v2.6.5 verifies auditpack's key-signed $name bundle" \
		"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/keyed/attestations/$name.sigstore.json" \
		--key "$work/cosign.pub" --insecure-ignore-tlog --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
		--type "$type" "$model"
done

# 3. cosign signs an attestation with the same key; auditpack verifies it.
printf '{"result": "PASSED", "configuration": [], "passedTests": ["interop"], "warnedTests": [], "failedTests": []}\n' >"$work/predicate.json"
expect_success "cosign v2.6.5 attest-blob with a key, no log upload" \
	"$cosign" attest-blob --yes --new-bundle-format --tlog-upload=false --key "$work/cosign.key" \
	--predicate "$work/predicate.json" --type "$test_result" --bundle "$work/cosign-key.sigstore.json" "$model"
expect_success "auditpack verifies cosign's key-signed bundle" \
	"$auditpack" verify "$work/cosign-key.sigstore.json" --key "$work/cosign.pub" --type test-result --artifact "$model"
expect_failure "auditpack rejects cosign's bundle for another predicate type" "predicate-type-not-found" \
	"$auditpack" verify "$work/cosign-key.sigstore.json" --key "$work/cosign.pub" --type slsaprovenance --output json

# 4. Keyless in the other direction needs cosign v3 (v2.6.5 cannot log
# attestations in Rekor v2).
if [[ -x $cosign3 ]]; then
	token=$(curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
		"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" | jq -er .value)
	expect_success "cosign v3.1.3 attest-blob keyless with Rekor v2" \
		"$cosign3" attest-blob --yes --signing-config "$SIGSTORE_SIGNING_CONFIG" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
		--identity-token "$token" --predicate "$work/predicate.json" --type "$test_result" \
		--bundle "$work/cosign-keyless.sigstore.json" "$model"
	expect_success "auditpack verifies cosign's keyless bundle" \
		"$auditpack" verify "$work/cosign-keyless.sigstore.json" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
		--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
		--timestamp-threshold 1 --type test-result --artifact "$model"
	expect_failure "auditpack rejects cosign's keyless bundle for another issuer" "issuer-mismatch" \
		"$auditpack" verify "$work/cosign-keyless.sigstore.json" --trusted-root "$SIGSTORE_TRUSTED_ROOT" --output json \
		--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer https://token.actions.githubusercontent.com
else
	echo "SKIP: $cosign3 is not built; the cosign-made keyless bundle is not checked"
fi

echo "interop: $passed passed, $failed failed"
((failed == 0))
