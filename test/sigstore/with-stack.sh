#!/usr/bin/env bash
# Run a command against a fresh loopback Sigstore stack, then stop the
# stack and exit with the command's status.
#
# Usage: test/sigstore/with-stack.sh COMMAND [ARG...]
#   for example: test/sigstore/with-stack.sh go test ./internal/attest/...
#
# The command runs with the exports of STATE/env, such as FULCIO_URL,
# REKOR_URL, TSA_URL, SIGSTORE_TRUSTED_ROOT and ACTIONS_ID_TOKEN_REQUEST_URL
# (start.sh lists them all).
#
# Where `unshare --net` works (root, or unprivileged user namespaces), the
# stack and the command run in a new network namespace that has only a
# loopback interface. Nothing inside can then reach another host, and the
# metrics ports that Fulcio and timestamp-server bind on all interfaces
# (2112 among them) do not collide with another stack. The Go module proxy
# is not reachable in there either, so the tools and the test helpers are
# built before entering it. A Go command run inside needs its modules in
# the module cache already, so build or test it once outside first.
#
# Environment:
#   AUDITPACK_SIGSTORE_STATE  state directory (default: a new temporary
#                             directory, removed after a successful run)
#   AUDITPACK_SIGSTORE_NETNS  set to 0 to run without a network namespace
#   AUDITPACK_OIDC_FLAGS      issuer flags passed to start.sh, split on
#                             spaces (for example "-ref refs/tags/v1.0.0")
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if (($# == 0)); then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

if [[ ${AUDITPACK_SIGSTORE_IN_NETNS:-} != 1 ]]; then
	"$script_dir/build-tools.sh" fulcio rekor-server-posix timestamp-server tesseract-posix
	(cd "$script_dir/../.." && go build ./test/oidc ./test/sigstore/trustroot)
	if [[ ${AUDITPACK_SIGSTORE_NETNS:-1} != 0 ]]; then
		for unshare_flags in "--net" "--user --map-root-user --net"; do
			# shellcheck disable=SC2086 # the flags are meant to split
			if unshare $unshare_flags true 2>/dev/null; then
				echo "with-stack.sh: running in a network namespace (unshare $unshare_flags)"
				# shellcheck disable=SC2086
				AUDITPACK_SIGSTORE_IN_NETNS=1 exec unshare $unshare_flags "$0" "$@"
			fi
		done
		echo "with-stack.sh: unshare --net is not permitted here; running in the host's network namespace"
	fi
else
	ip link set lo up
fi

state=${AUDITPACK_SIGSTORE_STATE:-}
remove_state=
if [[ -z $state ]]; then
	state=$(mktemp -d "${TMPDIR:-/tmp}/auditpack-sigstore.XXXXXX")
	remove_state=1
fi

# shellcheck disable=SC2086 # the flags are meant to split
"$script_dir/start.sh" "$state" ${AUDITPACK_OIDC_FLAGS:-}

finish() {
	local status=$?
	"$script_dir/stop.sh" "$state" >/dev/null || true
	if ((status == 0)) && [[ -n $remove_state ]]; then
		rm -rf "$state"
	else
		echo "with-stack.sh: state and logs kept in $state" >&2
	fi
	exit "$status"
}
trap finish EXIT

# shellcheck source=/dev/null
source "$state/env"
"$@"
