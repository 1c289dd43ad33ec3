package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBaselineSource(t *testing.T) {
	tests := []struct {
		in      string
		want    BaselineSource
		wantErr string
	}{
		{in: "", want: BaselineSource{Kind: BaselineLatestRelease}},
		{in: "latest-release", want: BaselineSource{Kind: BaselineLatestRelease}},
		{in: "none", want: BaselineSource{Kind: BaselineNone}},
		{in: "tag:v1.2.0", want: BaselineSource{Kind: BaselineTag, Value: "v1.2.0"}},
		{in: "path:packs/base.tar.gz", want: BaselineSource{Kind: BaselinePath, Value: "packs/base.tar.gz"}},
		{in: "tag:", wantErr: "names no tag"},
		{in: "latest", wantErr: "is not one of latest-release"},
		{in: "url:https://x", wantErr: "is not one of latest-release"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBaselineSource(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBaselineSource: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBaselineSection(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    *Baseline
		wantErr string
	}{
		{name: "absent", section: "", want: nil},
		{
			name:    "full",
			section: "baseline:\n  source: tag:v1.0.0\n  asset: pack.tar.gz\n  public_key: keys/cosign.pub\n  allow_unverified: true\n",
			want:    &Baseline{Source: "tag:v1.0.0", Asset: "pack.tar.gz", PublicKey: "keys/cosign.pub", AllowUnverified: true},
		},
		{name: "bad source", section: "baseline:\n  source: yesterday\n", wantErr: "baseline.source: baseline source \"yesterday\""},
		{name: "asset path", section: "baseline:\n  asset: dir/pack.tar.gz\n", wantErr: "baseline.asset: \"dir/pack.tar.gz\" is a path"},
		{name: "issuer alone", section: "baseline:\n  issuer: https://token.actions.githubusercontent.com\n", wantErr: "baseline.issuer: set identity too"},
		{name: "unknown key", section: "baseline:\n  sauce: x\n", wantErr: "sauce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("a.yml", []byte(valid+tt.section))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, cfg.Baseline); diff != "" {
				t.Errorf("baseline (-want +got):\n%s", diff)
			}
		})
	}
}
