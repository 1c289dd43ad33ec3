#!/usr/bin/env bash
# Prove the loopback Sigstore stack end to end with cosign. The script
# starts the stack and gets a token through the GitHub Actions token
# protocol. It signs keylessly (a Fulcio certificate with an SCT from the CT
# log, a Rekor v2 entry, an RFC 3161 timestamp) and verifies against
# STATE/trusted_root.json. Then it checks that wrong identities and changed
# artifacts fail to verify, and stops the stack.
#
# Usage: test/sigstore/smoke.sh
#   Runs through with-stack.sh, so in a network namespace where permitted;
#   AUDITPACK_SIGSTORE_STATE keeps the state directory and logs.
#
# Clients: cosign v2.6.5 signs a blob and verifies everything; cosign v3.1.3
# signs the attestation, because cosign v2.6.5 cannot log a DSSE envelope in
# Rekor v2 (checked below as a known incompatibility).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools_bin="${AUDITPACK_TOOLS:-$HOME/.cache/auditpack-tools}/bin"

# Outside a stack: build every tool (cosign too) while the module proxy is
# reachable, then run this script again against a fresh stack.
if [[ -z ${SIGSTORE_STATE_DIR:-} ]]; then
	"$script_dir/build-tools.sh"
	exec "$script_dir/with-stack.sh" "$0"
fi

cosign="$tools_bin/cosign"
cosign3="$tools_bin/cosign3"
work="$SIGSTORE_STATE_DIR/smoke"
mkdir -p "$work"
# shellcheck source=expect.sh
source "$script_dir/expect.sh"

artifact="$work/model.bin"
printf 'weights of a model that does not exist\n' >"$artifact"
predicate="$work/predicate.json"
printf '{"result": "PASSED", "configuration": [], "passedTests": ["smoke"]}\n' >"$predicate"
predicate_type=https://in-toto.io/attestation/test-result/v0.1

# The token, fetched the way a GitHub Actions job fetches it.
actions_token() {
	curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
		"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" | jq -er .value
}
expect_success "Actions token request returns a token" actions_token
token=$(actions_token)
expect_failure "Actions token request with a wrong bearer token is rejected" "401" \
	curl -fsS -H "Authorization: bearer wrong" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore"

# 1. A blob signature, signed and verified by cosign v2.6.5.
expect_success "cosign v2.6.5 sign-blob keyless with Rekor v2" \
	"$cosign" sign-blob --yes --new-bundle-format \
	--signing-config "$SIGSTORE_SIGNING_CONFIG" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--identity-token "$token" --bundle "$work/blob.sigstore.json" "$artifact"
expect_success "cosign v2.6.5 verify-blob" \
	"$cosign" verify-blob --new-bundle-format --bundle "$work/blob.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	"$artifact"

# 2. An in-toto attestation in a DSSE envelope, signed by cosign v3.1.3
# and verified by both cosign versions.
expect_success "cosign v3.1.3 attest-blob keyless with Rekor v2" \
	"$cosign3" attest-blob --yes \
	--signing-config "$SIGSTORE_SIGNING_CONFIG" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--identity-token "$token" --predicate "$predicate" --type "$predicate_type" \
	--bundle "$work/attestation.sigstore.json" "$artifact"
expect_success "cosign v2.6.5 verify-blob-attestation" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--type "$predicate_type" "$artifact"
expect_success "cosign v3.1.3 verify-blob-attestation" \
	"$cosign3" verify-blob-attestation --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--type "$predicate_type" "$artifact"

# 3. What must not verify.
expect_failure "verification with another repository's identity fails" "expected SAN value" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "${CERTIFICATE_IDENTITY/org\/repo/org/repo-evil}" \
	--certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" --type "$predicate_type" "$artifact"
expect_failure "verification with another issuer fails" "expected issuer value" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "$CERTIFICATE_IDENTITY" \
	--certificate-oidc-issuer https://token.actions.githubusercontent.com --type "$predicate_type" "$artifact"
expect_failure "cosign v2.6.5 needs --use-signed-timestamps for Rekor v2 entries" "integrated timestamps" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--type "$predicate_type" "$artifact"
printf 'changed\n' >"$work/changed.bin"
expect_failure "verification of a changed artifact fails" "does not match any digest" \
	"$cosign" verify-blob-attestation --new-bundle-format --bundle "$work/attestation.sigstore.json" \
	--trusted-root "$SIGSTORE_TRUSTED_ROOT" --use-signed-timestamps \
	--certificate-identity "$CERTIFICATE_IDENTITY" --certificate-oidc-issuer "$CERTIFICATE_OIDC_ISSUER" \
	--type "$predicate_type" "$work/changed.bin"

# 4. The certificate carries the GitHub extensions. Fulcio v1.8.8 sets
# 1.3.6.1.4.1.57264.1.8 to .22 and .24 for a github-workflow issuer, but not
# .23 (deployment environment).
certificate_text() {
	jq -r .verificationMaterial.certificate.rawBytes "$work/attestation.sigstore.json" |
		base64 -d | openssl x509 -inform DER -noout -text
}
certificate_text >"$work/certificate.txt"
check_extensions() {
	local oid
	for oid in $(seq 8 22) 24; do
		if ! grep -q "1\.3\.6\.1\.4\.1\.57264\.1\.$oid:" "$work/certificate.txt"; then
			echo "extension 1.3.6.1.4.1.57264.1.$oid is missing"
			return 1
		fi
	done
	grep -q "URI:$CERTIFICATE_IDENTITY" "$work/certificate.txt" &&
		grep -A1 '1\.3\.6\.1\.4\.1\.57264\.1\.8:' "$work/certificate.txt" | grep -qF "$CERTIFICATE_OIDC_ISSUER"
}
expect_success "certificate has the GitHub workflow extensions, SAN and issuer" check_extensions
expect_success "certificate has an embedded SCT" grep -q 'CT Precertificate SCTs' "$work/certificate.txt"

# 5. Known incompatibility: cosign v2.6.5 (sigstore-go v1.1.4) uploads a
# dsse entry, and rekor-tiles v2.3.0 accepts hashedrekord only.
if "$cosign" attest-blob --yes --new-bundle-format \
	--signing-config "$SIGSTORE_SIGNING_CONFIG" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
	--identity-token "$token" --predicate "$predicate" --type "$predicate_type" \
	--bundle "$work/attestation-v2.sigstore.json" "$artifact" >"$work/last.log" 2>&1; then
	echo "NOTE: cosign v2.6.5 attest-blob now succeeds with Rekor v2; the known incompatibility is gone"
elif grep -q 'must be hashedrekord' "$work/last.log"; then
	echo "KNOWN: cosign v2.6.5 attest-blob cannot log to Rekor v2 (invalid type, must be hashedrekord)"
else
	echo "FAIL: cosign v2.6.5 attest-blob failed in an unexpected way"
	sed 's/^/    /' "$work/last.log" | tail -n 15
	failed=$((failed + 1))
fi

echo "smoke: $passed passed, $failed failed"
((failed == 0))
