#!/bin/sh
# Compares auditpack with pandas plus scikit-learn on the same generated
# predictions file, and prints wall time and peak memory of each and their
# ratios. Usage, from the repository root:
#   bench/evaluate/run.sh [ROWS]        (default 10000000)
# Needs Go, GNU time (/usr/bin/time) and Debian's python3-pandas and
# python3-sklearn. The generated file (about 299 MB for 10 million rows) is
# kept in bench/evaluate/ for reruns and ignored by git.
set -eu
rows=${1:-10000000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
go build -o "$work/auditpack" ./cmd/auditpack
if [ ! -f "$here/predictions.csv" ] || [ "$(cat "$here/predictions.rows" 2>/dev/null)" != "$rows" ]; then
  go run ./bench/evaluate/generate -rows "$rows" -out "$here/predictions.csv"
  echo "$rows" > "$here/predictions.rows"
fi
# Read the file once so that neither side pays for a cold page cache.
cat "$here/predictions.csv" > /dev/null

measure() { # name, command...
  name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || {
    cat "$work/$name.err" >&2; exit 1; }
  read -r seconds kilobytes user system < "$work/$name.time"
  echo "$name: ${seconds} s wall, ${user} s user + ${system} s system CPU, peak RSS $((kilobytes / 1024)) MiB"
}

measure auditpack "$work/auditpack" run --config "$here/auditpack.yml" --sign none --out "$work/pack"
read -r a_s a_kb a_u a_y < "$work/auditpack.time"
measure python /usr/bin/python3 "$here/baseline.py" "$here/predictions.csv"
read -r p_s p_kb p_u p_y < "$work/python.time"

awk -v as="$a_s" -v ak="$a_kb" -v ps="$p_s" -v pk="$p_kb" -v rows="$rows" \
    -v ac="$a_u" -v ay="$a_y" -v pc="$p_u" -v py="$p_y" 'BEGIN {
  printf "rows: %d\n", rows
  printf "speed-up in wall time (python / auditpack): %.1fx\n", ps / as
  printf "speed-up in CPU time (python / auditpack): %.1fx\n", (pc + py) / (ac + ay)
  printf "memory (auditpack peak / python peak): %.2f\n", ak / pk
}'
# Both sides must agree on the headline numbers.
/usr/bin/python3 - "$work/pack/metrics.json" "$work/python.out" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["evaluations"]["bench"]["metrics"]
theirs = json.load(open(sys.argv[2]))["metrics"]
worst = max(abs(ours[k] - v) for k, v in theirs.items())
print(f"largest difference over {len(theirs)} metrics: {worst:.3g}")
PY
