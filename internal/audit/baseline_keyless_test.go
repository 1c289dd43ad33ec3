package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/config"
)

// Keyless baselines verified against a real trusted root are tested end
// to end in internal/cli against the local Sigstore stack.
func TestResolveBaselineKeylessTrustedRootErrors(t *testing.T) {
	archive := demoPack(t)
	src, err := config.ParseBaselineSource("path:" + archive)
	if err != nil {
		t.Fatal(err)
	}
	garbled := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(garbled, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		trustedRoot string
		want        []string
	}{
		{name: "missing file", trustedRoot: filepath.Join(t.TempDir(), "absent.json"), want: []string{"(baseline.identity_regexp)", "reading trusted root", "absent.json"}},
		{name: "invalid file", trustedRoot: garbled, want: []string{"(baseline.identity_regexp)", "reading trusted root", garbled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveBaseline(t.Context(), BaselineOptions{
				Source: src,
				Settings: &config.Baseline{
					IdentityRegexp: `^https://github\.com/org/repo/.*$`,
					Issuer:         "https://token.actions.githubusercontent.com",
				},
				Resolve:         func(p string) string { return p },
				TrustedRootPath: tt.trustedRoot,
				TempDir:         t.TempDir(),
			})
			if err == nil {
				t.Fatal("ResolveBaseline succeeded, want an error about the trusted root")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
		})
	}
}
