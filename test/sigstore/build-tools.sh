#!/usr/bin/env bash
# Build the Sigstore services and clients that the loopback test stack runs,
# from the Go module proxy, at pinned versions, into a tools directory
# outside the repository.
#
# Usage: test/sigstore/build-tools.sh [TOOL...]
#   TOOL is one of: fulcio rekor-server-posix timestamp-server
#   tesseract-posix cosign cosign3 (default: all).
#
# Environment:
#   AUDITPACK_TOOLS  tools directory (default $HOME/.cache/auditpack-tools);
#                    binaries go to $AUDITPACK_TOOLS/bin.
#
# A binary that is present and was built from the pinned module version
# (read back with `go version -m`) is skipped, so a second run only checks.
# Measured on a 2-core machine shared with other builds, with a cold module
# cache: about 24 minutes for all six, of which the two cosigns took 16;
# the four servers alone took about 7 minutes. Relinking from a warm build
# cache took about 100 seconds.
set -euo pipefail

tools_dir="${AUDITPACK_TOOLS:-$HOME/.cache/auditpack-tools}"
bin_dir="$tools_dir/bin"

# name|package|module|version. Each package is installed on its own and
# renamed, because Rekor's and TesseraCT's commands are both called posix.
#
# Versions: the newest that build with go1.26.8 (GOTOOLCHAIN=local).
# timestamp-authority v2.1.4 and later declare go 1.27; rekor-tiles v2.3.0
# is also the version the repository's go.mod uses (test/sigstore/trustroot).
# cosign v2.6.5 cannot write attestations to Rekor v2 (its sigstore-go
# v1.1.4 uploads a dsse entry, which rekor-tiles v2.3.0 rejects with "invalid
# type, must be hashedrekord"), so cosign v3.1.3 is built too, as cosign3.
readonly tools=(
	"fulcio|github.com/sigstore/fulcio|github.com/sigstore/fulcio|v1.8.8"
	"rekor-server-posix|github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix|github.com/sigstore/rekor-tiles/v2|v2.3.0"
	"timestamp-server|github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server|github.com/sigstore/timestamp-authority/v2|v2.1.3"
	"tesseract-posix|github.com/transparency-dev/tesseract/cmd/tesseract/posix|github.com/transparency-dev/tesseract|v0.1.1"
	"cosign|github.com/sigstore/cosign/v2/cmd/cosign|github.com/sigstore/cosign/v2|v2.6.5"
	"cosign3|github.com/sigstore/cosign/v3/cmd/cosign|github.com/sigstore/cosign/v3|v3.1.3"
)

# installed_version BINARY MODULE prints the version of MODULE that BINARY
# was built from, or nothing.
installed_version() {
	local binary=$1 module=$2
	[[ -x $binary ]] || return 0
	go version -m "$binary" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }'
}

build() {
	local name=$1 package=$2 module=$3 version=$4
	local target="$bin_dir/$name"

	local have
	have=$(installed_version "$target" "$module")
	if [[ $have == "$version" ]]; then
		echo "$name $version: present at $target"
		return 0
	fi
	if [[ -n $have ]]; then
		echo "$name: $target was built from $module $have; rebuilding at $version"
	fi

	local scratch
	scratch=$(mktemp -d "$tools_dir/build.XXXXXX")
	echo "$name $version: go install $package@$version"
	local start=$SECONDS
	if ! GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$scratch" GOFLAGS=-buildvcs=false \
		go install -trimpath "$package@$version"; then
		rm -rf "$scratch"
		echo "$name: go install $package@$version failed" >&2
		return 1
	fi
	mv "$scratch/${package##*/}" "$target"
	rm -rf "$scratch"
	echo "$name $version: built in $((SECONDS - start))s"
}

main() {
	if ! command -v go >/dev/null; then
		echo "build-tools.sh: go is not on PATH" >&2
		exit 1
	fi
	mkdir -p "$bin_dir"
	echo "tools directory: $bin_dir"

	local wanted=("$@")
	local entry name package module version
	if ((${#wanted[@]} == 0)); then
		for entry in "${tools[@]}"; do
			IFS='|' read -r name package module version <<<"$entry"
			build "$name" "$package" "$module" "$version"
		done
		return
	fi

	local tool found
	for tool in "${wanted[@]}"; do
		found=
		for entry in "${tools[@]}"; do
			IFS='|' read -r name package module version <<<"$entry"
			if [[ $name == "$tool" ]]; then
				build "$name" "$package" "$module" "$version"
				found=1
			fi
		done
		if [[ -z $found ]]; then
			echo "build-tools.sh: unknown tool $tool; known: fulcio rekor-server-posix timestamp-server tesseract-posix cosign cosign3" >&2
			exit 2
		fi
	done
}

main "$@"
