package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBaselineKeylessSigner(t *testing.T) {
	const issuer = "  issuer: https://token.actions.githubusercontent.com\n"
	tests := []struct {
		name        string
		section     string
		want        *Baseline
		wantKeyless bool
		wantErr     []string
	}{
		{
			name:        "exact identity",
			section:     "baseline:\n  identity: https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0\n" + issuer,
			want:        &Baseline{Identity: "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0", Issuer: "https://token.actions.githubusercontent.com"},
			wantKeyless: true,
		},
		{
			name:        "identity regexp",
			section:     "baseline:\n  identity_regexp: ^https://github\\.com/org/repo/.*$\n" + issuer,
			want:        &Baseline{IdentityRegexp: `^https://github\.com/org/repo/.*$`, Issuer: "https://token.actions.githubusercontent.com"},
			wantKeyless: true,
		},
		{
			name:    "identity without issuer",
			section: "baseline:\n  identity: https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0\n",
			wantErr: []string{"a.yml:", "baseline.identity: set issuer too"},
		},
		{
			name:    "regexp without issuer",
			section: "baseline:\n  identity_regexp: ^x$\n",
			wantErr: []string{"baseline.identity_regexp: set issuer too"},
		},
		{
			name:    "identity and regexp",
			section: "baseline:\n  identity: x\n  identity_regexp: ^x$\n" + issuer,
			wantErr: []string{"baseline.identity_regexp: identity is set too"},
		},
		{
			name:    "invalid regexp",
			section: "baseline:\n  identity_regexp: \"(\"\n" + issuer,
			wantErr: []string{"baseline.identity_regexp: \"(\" is not a valid Go regular expression"},
		},
		{
			name:    "key and identity",
			section: "baseline:\n  public_key: keys/cosign.pub\n  identity: x\n" + issuer,
			wantErr: []string{"baseline.public_key: a keyless signer"},
		},
		{
			name:    "issuer alone",
			section: "baseline:\n" + issuer,
			wantErr: []string{"baseline.issuer: set identity too (or identity_regexp)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("a.yml", []byte(valid+tt.section))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Parse succeeded, want an error containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Parse error = %v, want it to contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, cfg.Baseline); diff != "" {
				t.Errorf("baseline (-want +got):\n%s", diff)
			}
			if got := cfg.Baseline.Keyless(); got != tt.wantKeyless {
				t.Errorf("Keyless() = %v, want %v", got, tt.wantKeyless)
			}
		})
	}

	var none *Baseline
	if none.Keyless() {
		t.Errorf("a nil baseline reports Keyless")
	}
}
