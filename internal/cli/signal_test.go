package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunInterruptedExitCode(t *testing.T) {
	tests := []struct {
		name       string
		cause      error
		wantCode   int
		wantStderr string
	}{
		{"SIGINT", &Interrupt{Signal: os.Interrupt}, 130, "auditpack: interrupted by SIGINT; no output was written"},
		{"SIGTERM", &Interrupt{Signal: syscall.SIGTERM}, 143, "auditpack: interrupted by SIGTERM; no output was written"},
		{"no cause", nil, 130, "auditpack: interrupted; no output was written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := demo(t)
			out := filepath.Join(t.TempDir(), "pack")
			ctx, cancel := context.WithCancelCause(t.Context())
			cancel(tt.cause)
			var stdout, stderr bytes.Buffer
			cmd := &Command{
				Stdout: &stdout, Stderr: &stderr,
				Getenv:  func(string) string { return "" },
				Now:     func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) },
				Version: "v0.0.0-test",
			}
			code := cmd.Main(ctx, []string{"run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", out})
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the pack directory exists after an interrupt (stat: %v)", err)
			}
		})
	}
}
