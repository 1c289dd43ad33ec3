package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOutputDir(t *testing.T) {
	ws := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(ws, "away")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ws, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ws, "real"), filepath.Join(ws, "inside")); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(ws, ".auditpack.yml")

	tests := []struct {
		name   string
		outDir string
		config string
		// want is a part of the error; empty means the directory is
		// accepted.
		want string
	}{
		{name: "relative", outDir: filepath.Join(ws, "auditpack-out")},
		{name: "nested and missing", outDir: filepath.Join(ws, "a", "b", "out")},
		{name: "link inside the workspace", outDir: filepath.Join(ws, "inside", "out")},
		{name: "parent", outDir: filepath.Join(ws, "..", "escape"), want: "is outside the workspace"},
		{name: "absolute elsewhere", outDir: filepath.Join(elsewhere, "out"), want: "is outside the workspace"},
		{name: "workspace itself", outDir: ws, want: "names the workspace"},
		{name: "link leading out", outDir: filepath.Join(ws, "away", "out"), want: "through a symbolic link"},
		{name: "link leading out, missing below", outDir: filepath.Join(ws, "away", "a", "b"), want: "through a symbolic link"},
		{name: "contains the configuration", outDir: filepath.Join(ws, "cfg"), config: filepath.Join(ws, "cfg", "x.yml"), want: "contains the configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config
			if tt.config != "" {
				cfg = tt.config
			}
			err := checkOutputDir(ws, tt.outDir, cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkOutputDir(%s) = %v, want accepted", tt.outDir, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkOutputDir(%s) = %v, want an error containing %q", tt.outDir, err, tt.want)
			}
		})
	}
}
