package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/auditpack/auditpack/internal/cli"
)

// signalEnv makes the test binary, run again as a child process, send
// itself the signal it names instead of running the tests.
const signalEnv = "AUDITPACK_TEST_SIGNAL_CHILD"

func TestMain(m *testing.M) {
	if name := os.Getenv(signalEnv); name != "" {
		os.Exit(signalChild(name))
	}
	os.Exit(m.Run())
}

// signalChild sends the process the signal twice. The first must cancel
// the context of cancelOnSignal; the second must end the process, so any
// return from here is a failure.
func signalChild(name string) int {
	s := map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM}[name]
	ctx := cancelOnSignal()
	syscall.Kill(os.Getpid(), s)
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		return 3 // the first signal did not cancel the context
	}
	var interrupt *cli.Interrupt
	if !errors.As(context.Cause(ctx), &interrupt) || interrupt.Signal != s {
		return 4 // the cause does not name the signal
	}
	syscall.Kill(os.Getpid(), s)
	time.Sleep(10 * time.Second)
	return 5 // the second signal did not end the process
}

func TestSecondSignalEndsProcess(t *testing.T) {
	for _, tt := range []struct {
		name   string
		signal syscall.Signal
	}{
		{"SIGINT", syscall.SIGINT},
		{"SIGTERM", syscall.SIGTERM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), signalEnv+"="+tt.name)
			err := child.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child process: %v, want it killed by %s", err, tt.name)
			}
			status, ok := exit.Sys().(syscall.WaitStatus)
			if !ok || !status.Signaled() || status.Signal() != tt.signal {
				t.Errorf("child process ended with %v (exit code %d), want it killed by %s", err, exit.ExitCode(), tt.name)
			}
		})
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"source tree without VCS data", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"clean source tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}}, "devel+0123456789ab"},
		{"modified source tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "devel+0123456789ab-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(&tt.info); got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
		})
	}
}
