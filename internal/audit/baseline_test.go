package audit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

// demoPack builds the demo pack signed with the demo key and returns the
// archive path.
func demoPack(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "base")
	_, err := Run(t.Context(), RunOptions{
		ConfigPath:      filepath.Join("..", "..", "testdata", "demo", ".auditpack.yml"),
		OutDir:          out,
		Sign:            SignKey,
		KeyPath:         filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.key"),
		SourceDateEpoch: "1700000000",
		ToolVersion:     "test",
		Builtins:        policies.FS,
		Now:             func() time.Time { return time.Unix(1700000000, 0) },
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out + ".tar.gz"
}

func TestResolveBaselineFromPath(t *testing.T) {
	archive := demoPack(t)
	demoKey, err := attest.LoadPublicKey(filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notPack := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(notPack, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		source      string
		key         *ecdsa.PublicKey
		allow       bool
		wantStatus  policy.BaselineStatus
		wantReason  string
		wantMetrics bool
	}{
		{name: "signed by the key", source: "path:" + archive, key: demoKey, wantStatus: policy.BaselineVerified, wantMetrics: true},
		{name: "other key refused", source: "path:" + archive, key: &other.PublicKey, wantStatus: policy.BaselineRefused, wantReason: "it did not verify: "},
		{name: "other key allowed", source: "path:" + archive, key: &other.PublicKey, allow: true, wantStatus: policy.BaselineUnverified,
			wantReason: "baseline.allow_unverified is true, so it is used although it did not verify", wantMetrics: true},
		{name: "not a pack refused", source: "path:" + notPack, key: demoKey, wantStatus: policy.BaselineRefused, wantReason: "it is not an audit pack: "},
		{name: "not a pack refused when allowed", source: "path:" + notPack, key: demoKey, allow: true, wantStatus: policy.BaselineRefused, wantReason: "it is not an audit pack: "},
		{name: "not a pack without key", source: "path:" + notPack, wantStatus: policy.BaselineRefused, wantReason: "it is not an audit pack: "},
		{name: "no key refused", source: "path:" + archive, wantStatus: policy.BaselineRefused, wantReason: "no key to verify it with"},
		{name: "missing file", source: "path:" + archive + ".gone", key: demoKey, wantStatus: policy.BaselineMissing, wantReason: "no pack at"},
		{name: "release outside GitHub", source: "latest-release", key: demoKey, wantStatus: policy.BaselineMissing, wantReason: "no GitHub API"},
		{name: "disabled", source: "none", wantStatus: policy.BaselineDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := config.ParseBaselineSource(tt.source)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ResolveBaseline(t.Context(), BaselineOptions{
				Source:      src,
				Settings:    &config.Baseline{AllowUnverified: tt.allow},
				Resolve:     func(p string) string { return p },
				AssetName:   "base.tar.gz",
				FallbackKey: tt.key,
				TempDir:     t.TempDir(),
			})
			if err != nil {
				t.Fatalf("ResolveBaseline: %v", err)
			}
			if b.Info.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (%s)", b.Info.Status, tt.wantStatus, b.Info.Reason)
			}
			if !strings.Contains(b.Info.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", b.Info.Reason, tt.wantReason)
			}
			if strings.Contains(b.Info.Reason, "refused") {
				t.Errorf("reason = %q repeats the status", b.Info.Reason)
			}
			if strings.Contains(b.Info.Reason, "not an audit pack") && strings.Contains(b.Info.Reason, "signature") {
				t.Errorf("reason = %q blames a signature that was never checked", b.Info.Reason)
			}
			if got := b.metrics() != nil; got != tt.wantMetrics {
				t.Errorf("metrics present = %v, want %v", got, tt.wantMetrics)
			}
		})
	}
}
