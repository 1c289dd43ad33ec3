# Check helpers shared by interop.sh and smoke.sh, which source this file
# after setting work, the directory for the last command's output. They
# count passes and failures in passed and failed.
passed=0
failed=0

# expect_success DESCRIPTION COMMAND... runs COMMAND and counts a pass when
# it exits 0.
expect_success() {
	local description=$1
	shift
	if "$@" >"$work/last.log" 2>&1; then
		echo "PASS: $description"
		passed=$((passed + 1))
	else
		echo "FAIL: $description; command: $*"
		sed 's/^/    /' "$work/last.log" | tail -n 20
		failed=$((failed + 1))
	fi
}

# expect_failure DESCRIPTION PATTERN COMMAND... counts a pass when COMMAND
# exits non-zero and its output contains PATTERN, so that a failure for
# another reason (a wrong flag, a dead service) is not taken for the one
# under test.
expect_failure() {
	local description=$1 pattern=$2
	shift 2
	if "$@" >"$work/last.log" 2>&1; then
		echo "FAIL: $description (the command succeeded); command: $*"
		failed=$((failed + 1))
	elif grep -qF -- "$pattern" "$work/last.log"; then
		echo "PASS: $description"
		passed=$((passed + 1))
	else
		echo "FAIL: $description (failed without \"$pattern\"); command: $*"
		sed 's/^/    /' "$work/last.log" | tail -n 20
		failed=$((failed + 1))
	fi
}
