#!/usr/bin/env bash
# Start a Sigstore stack on loopback for keyless signing tests: a local OIDC
# issuer that mints GitHub Actions-like tokens, Fulcio (ephemeral CA), a
# TesseraCT certificate transparency log, a Rekor v2 log (POSIX backend)
# and a timestamp authority (in-memory signer).
#
# Usage: test/sigstore/start.sh STATE_DIR [ISSUER_FLAG...]
#   ISSUER_FLAG  flags for the issuer (go run ./test/oidc -h), for example
#                -repository acme/model -ref refs/tags/v1.2.0
#
# Writes into STATE_DIR:
#   env                  shell exports to source: OIDC_ISSUER_URL,
#                        OIDC_TOKEN_URL (GET/POST /token),
#                        ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, FULCIO_URL,
#                        CTLOG_URL, REKOR_URL, REKOR_API_VERSION (2),
#                        TSA_BASE_URL, TSA_URL (its /api/v1/timestamp),
#                        SIGSTORE_TRUSTED_ROOT, SIGSTORE_SIGNING_CONFIG,
#                        CERTIFICATE_IDENTITY, CERTIFICATE_OIDC_ISSUER and
#                        SIGSTORE_STATE_DIR
#   trusted_root.json    trusted root describing exactly these services
#   signing_config.json  signing config v0.2 (Rekor with majorApiVersion 2)
#   pids                 "NAME PID EXECUTABLE" per service, read by stop.sh
#   logs/NAME.log        each service's output
#
# Every service listens on 127.0.0.1 only, except the Prometheus metrics
# listeners that Fulcio v1.8.8 (a free port) and timestamp-server v2.1.3
# (port 2112, fixed in its code) open on all interfaces. Because of that
# fixed port, only one stack can run in a network namespace at a time.
# with-stack.sh gives each stack a namespace of its own where permitted.
#
# Binaries come from $AUDITPACK_TOOLS/bin (default
# $HOME/.cache/auditpack-tools/bin); build-tools.sh is run first and only
# builds what is missing.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/../.." && pwd)
tools_bin="${AUDITPACK_TOOLS:-$HOME/.cache/auditpack-tools}/bin"

# tsa_metrics_port is where timestamp-server always serves its metrics.
readonly tsa_metrics_port=2112
# ready_timeout is how long each service may take to respond, in seconds.
readonly ready_timeout=60

if (($# < 1)) || [[ $1 == -* ]]; then
	echo "usage: $0 STATE_DIR [ISSUER_FLAG...]" >&2
	exit 2
fi
state=$1
shift
issuer_flags=("$@")

for command in curl jq openssl ss go; do
	if ! command -v "$command" >/dev/null; then
		echo "start.sh: $command is not on PATH" >&2
		exit 1
	fi
done

mkdir -p "$state"
state=$(cd "$state" && pwd)
if [[ $state == *"'"* ]]; then
	echo "start.sh: the state directory $state contains a single quote, which env cannot quote; choose another" >&2
	exit 2
fi
if [[ -s $state/pids ]]; then
	echo "start.sh: $state/pids exists: a stack may still run there; run test/sigstore/stop.sh $state first" >&2
	exit 1
fi
if ss -Htln "sport = :$tsa_metrics_port" | grep -q .; then
	echo "start.sh: port $tsa_metrics_port is in use; timestamp-server always binds its metrics there, so stop the other stack (or process) first" >&2
	exit 1
fi

mkdir -p "$state/logs" "$state/bin"
rm -rf "$state/rekor" "$state/ctlog"
rm -f "$state/env" "$state/trusted_root.json" "$state/signing_config.json" "$state/fulcio-legacy.sock"
mkdir -p "$state/rekor" "$state/ctlog"

stop_on_error() {
	local status=$?
	if ((status != 0)) && [[ -s $state/pids ]]; then
		echo "start.sh: stopping the services started so far" >&2
		"$script_dir/stop.sh" "$state" >&2 || true
	fi
}
trap stop_on_error EXIT

"$script_dir/build-tools.sh" fulcio rekor-server-posix timestamp-server tesseract-posix

echo "building test/oidc and test/sigstore/trustroot"
(cd "$repo_dir" && go build -o "$state/bin/oidc" ./test/oidc && go build -o "$state/bin/trustroot" ./test/sigstore/trustroot)

# pick_ports N prints N distinct TCP ports that nothing listens on.
# Another process may still take one before its service binds it; the
# readiness check then fails and names the service.
pick_ports() {
	local count=$1 picked=" " port
	for _ in $(seq 1000); do
		port=$((20000 + RANDOM % 40000))
		if [[ $picked != *" $port "* ]] && ! ss -Htln "sport = :$port" | grep -q .; then
			picked+="$port "
			count=$((count - 1))
			if ((count == 0)); then
				echo "$picked"
				return 0
			fi
		fi
	done
	echo "start.sh: found no free ports" >&2
	return 1
}

# launch NAME COMMAND... starts COMMAND in the background with its output
# in logs/NAME.log and records "NAME PID EXECUTABLE" in pids, so that
# stop.sh can check that the pid still belongs to the service.
launch() {
	local name=$1
	shift
	"$@" >"$state/logs/$name.log" 2>&1 </dev/null &
	echo "$name $! $1" >>"$state/pids"
	echo "started $name (pid $!)"
}

# wait_ready NAME URL [PATTERN] polls URL until it returns status 200 (and a
# body containing PATTERN), failing early when the service's process exits.
wait_ready() {
	local name=$1 url=$2 pattern=${3:-}
	local pid
	pid=$(awk -v n="$name" '$1 == n { print $2 }' "$state/pids")
	local deadline=$((SECONDS + ready_timeout))
	local body
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "start.sh: $name exited before it responded at $url; last lines of $state/logs/$name.log:" >&2
			tail -n 20 "$state/logs/$name.log" >&2
			return 1
		fi
		if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ -z $pattern || $body == *$pattern* ]]; then
			echo "$name is ready at $url"
			return 0
		fi
		sleep 0.2
	done
	echo "start.sh: $name did not respond at $url within ${ready_timeout}s; last lines of $state/logs/$name.log:" >&2
	tail -n 20 "$state/logs/$name.log" >&2
	return 1
}

ports=$(pick_ports 9)
read -r oidc_port fulcio_port fulcio_grpc_port fulcio_metrics_port ctlog_port \
	rekor_port rekor_grpc_port rekor_metrics_port tsa_port <<<"$ports"

oidc_url="http://127.0.0.1:$oidc_port"
fulcio_url="http://127.0.0.1:$fulcio_port"
ctlog_url="http://127.0.0.1:$ctlog_port"
rekor_url="http://127.0.0.1:$rekor_port"
tsa_base_url="http://127.0.0.1:$tsa_port"

started=$SECONDS

# 1. The OIDC issuer. Fulcio fetches its discovery document at start.
request_token=$(openssl rand -hex 24)
launch oidc "$state/bin/oidc" -listen "127.0.0.1:$oidc_port" -request-token "$request_token" "${issuer_flags[@]}"
wait_ready oidc "$oidc_url/.well-known/openid-configuration"

# 2. Fulcio, trusting the issuer as a GitHub Actions issuer, so that its
# certificates carry the GitHub extensions (OIDs 1.3.6.1.4.1.57264.1.8 to
# .22 and .24). The map key and IssuerURL must equal the tokens' iss.
# Fulcio only contacts the CT log when it issues a certificate, so the log
# can start after it, once Fulcio's ephemeral root is known.
jq -n --arg issuer "$oidc_url" \
	'{OIDCIssuers: {($issuer): {IssuerURL: $issuer, ClientID: "sigstore", Type: "github-workflow"}}}' \
	>"$state/fulcio-config.json"
launch fulcio "$tools_bin/fulcio" serve \
	--ca ephemeralca \
	--config-path "$state/fulcio-config.json" \
	--host 127.0.0.1 --port "$fulcio_port" \
	--grpc-host 127.0.0.1 --grpc-port "$fulcio_grpc_port" \
	--metrics-port "$fulcio_metrics_port" \
	--legacy-unix-domain-socket "$state/fulcio-legacy.sock" \
	--ct-log-url "$ctlog_url"
wait_ready fulcio "$fulcio_url/healthz" SERVING
curl -fsS "$fulcio_url/api/v2/trustBundle" | jq -r '.chains[0].certificates[]' >"$state/fulcio-root.pem"

# 3. The CT log, accepting precertificates chained to Fulcio's root.
openssl ecparam -name prime256v1 -genkey -noout -out "$state/ctlog-key.pem"
launch ctlog "$tools_bin/tesseract-posix" \
	--http_endpoint "127.0.0.1:$ctlog_port" \
	--origin 127.0.0.1 \
	--storage_dir "$state/ctlog" \
	--private_key "$state/ctlog-key.pem" \
	--roots_pem_file "$state/fulcio-root.pem" \
	--ext_key_usages CodeSigning \
	--checkpoint_interval 500ms
wait_ready ctlog "$ctlog_url/ct/v1/get-roots" certificates

# 4. Rekor v2. sigstore-go checks checkpoints against the host name of the
# log's URL, so --hostname (the checkpoint origin) must be 127.0.0.1.
openssl genpkey -algorithm ed25519 -out "$state/rekor-key.pem"
launch rekor "$tools_bin/rekor-server-posix" serve \
	--http-address 127.0.0.1 --http-port "$rekor_port" \
	--grpc-address 127.0.0.1 --grpc-port "$rekor_grpc_port" \
	--http-metrics-port "$rekor_metrics_port" \
	--hostname 127.0.0.1 \
	--storage-dir "$state/rekor" \
	--signer-filepath "$state/rekor-key.pem" \
	--checkpoint-interval 1s
wait_ready rekor "$rekor_url/healthz" SERVING

# 5. The timestamp authority, with a fresh in-memory certificate chain.
# NTP monitoring is off because it queries public NTP servers.
launch tsa "$tools_bin/timestamp-server" serve \
	--host 127.0.0.1 --port "$tsa_port" \
	--timestamp-signer memory \
	--disable-ntp-monitoring
wait_ready tsa "$tsa_base_url/api/v1/timestamp/certchain" "BEGIN CERTIFICATE"

# 6. The trust material that describes exactly these services.
"$state/bin/trustroot" \
	-fulcio-url "$fulcio_url" \
	-rekor-url "$rekor_url" -rekor-key "$state/rekor-key.pem" \
	-tsa-url "$tsa_base_url" \
	-ctlog-url "$ctlog_url" -ctlog-key "$state/ctlog-key.pem" \
	-oidc-url "$oidc_url" \
	-trusted-root "$state/trusted_root.json" \
	-signing-config "$state/signing_config.json"

# The certificate identity is the job_workflow_ref claim as a URL, which
# depends on the issuer flags; read it from a freshly minted token.
payload=$(curl -fsS "$oidc_url/token?audience=sigstore" | cut -d. -f2 | tr '_-' '/+')
while ((${#payload} % 4)); do payload+="="; done
job_workflow_ref=$(printf '%s' "$payload" | base64 -d | jq -r .job_workflow_ref)

{
	echo "# Written by test/sigstore/start.sh; source this file."
	printf "export %s='%s'\n" \
		SIGSTORE_STATE_DIR "$state" \
		OIDC_ISSUER_URL "$oidc_url" \
		OIDC_TOKEN_URL "$oidc_url/token" \
		ACTIONS_ID_TOKEN_REQUEST_URL "$oidc_url/actions/idtoken?api-version=2.0" \
		ACTIONS_ID_TOKEN_REQUEST_TOKEN "$request_token" \
		FULCIO_URL "$fulcio_url" \
		CTLOG_URL "$ctlog_url" \
		REKOR_URL "$rekor_url" \
		REKOR_API_VERSION 2 \
		TSA_BASE_URL "$tsa_base_url" \
		TSA_URL "$tsa_base_url/api/v1/timestamp" \
		SIGSTORE_TRUSTED_ROOT "$state/trusted_root.json" \
		SIGSTORE_SIGNING_CONFIG "$state/signing_config.json" \
		CERTIFICATE_IDENTITY "https://github.com/$job_workflow_ref" \
		CERTIFICATE_OIDC_ISSUER "$oidc_url"
} >"$state/env"

trap - EXIT
echo "stack ready in $((SECONDS - started))s; source $state/env"
