#!/usr/bin/env bash
# Stop the Sigstore stack that start.sh started in STATE_DIR.
#
# Usage: test/sigstore/stop.sh STATE_DIR
#
# Sends SIGTERM to each pid listed in STATE_DIR/pids whose command is still
# the executable start.sh launched, waits up to 10 seconds, then sends
# SIGKILL to what remains. Logs and log data stay in STATE_DIR.
set -euo pipefail

if (($# != 1)); then
	echo "usage: $0 STATE_DIR" >&2
	exit 2
fi
state=$1
pids_file="$state/pids"
if [[ ! -f $pids_file ]]; then
	echo "stop.sh: $pids_file not found: nothing to stop"
	exit 0
fi

# owned PID EXECUTABLE reports whether PID is alive and runs EXECUTABLE, so
# that a pid reused by another process after the service exited is spared.
owned() {
	local pid=$1 executable=$2 argv0
	[[ -r /proc/$pid/cmdline ]] || return 1
	argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1)
	[[ $argv0 == "$executable" ]]
}

running=()
while read -r name pid executable; do
	[[ -n $name ]] || continue
	if owned "$pid" "$executable"; then
		kill -TERM "$pid" 2>/dev/null || true
		running+=("$name:$pid:$executable")
		echo "stopping $name (pid $pid)"
	else
		echo "$name (pid $pid) is not running"
	fi
done <"$pids_file"

deadline=$((SECONDS + 10))
for entry in "${running[@]}"; do
	IFS=: read -r name pid executable <<<"$entry"
	while owned "$pid" "$executable" && ((SECONDS < deadline)); do
		sleep 0.1
	done
	if owned "$pid" "$executable"; then
		echo "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
done

rm -f "$pids_file" "$state/fulcio-legacy.sock"
echo "stopped"
