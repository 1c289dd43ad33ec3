package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/policy"
)

// demoPack builds the demo pack signed with the demo key and returns the
// archive path.
func demoPack(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "base")
	_, err := Run(t.Context(), testRunOptions(filepath.Join("..", "..", "testdata", "demo", ".auditpack.yml"), out, SignKey, filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.key")))
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

	short := filepath.Join(t.TempDir(), "notpack.txt")
	if err := os.WriteFile(short, []byte("hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		source      string
		from        string
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
		{name: "release outside GitHub", source: "latest-release", key: demoKey, wantStatus: policy.BaselineMissing, wantReason: "no GitHub API"},
		{name: "short file not gzip", source: "path:" + short, key: demoKey, wantStatus: policy.BaselineRefused, wantReason: "it is not an audit pack: not a gzip file"},
		{name: "text file not gzip", source: "path:" + notPack, key: demoKey, wantStatus: policy.BaselineRefused, wantReason: "it is not an audit pack: not a gzip file"},
		{name: "disabled", source: "none", wantStatus: policy.BaselineDisabled, wantReason: "disabled in the configuration"},
		{name: "disabled by the input", source: "none", from: "the baseline input", wantStatus: policy.BaselineDisabled, wantReason: "disabled by the baseline input"},
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
				SourceFrom:  tt.from,
			})
			if err != nil {
				t.Fatalf("ResolveBaseline: %v", err)
			}
			for _, bad := range []string{"unexpected EOF", "invalid pack", strings.TrimPrefix(tt.source, "path:") + ":"} {
				if strings.Contains(b.Info.Reason, bad) {
					t.Errorf("reason = %q contains %q", b.Info.Reason, bad)
				}
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

// fakeReleases answers FetchReleaseAsset with err.
type fakeReleases struct{ err error }

func (f fakeReleases) FetchReleaseAsset(context.Context, string, string, string) (string, error) {
	return "", f.err
}

// TestResolveBaselineErrors checks that only a missing release or asset
// means no baseline: any other failure to find the pack, and a path
// source that does not exist, stop the run rather than turn off the rules
// that compare with the baseline.
func TestResolveBaselineErrors(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "base.tar.gz")
	apiErr := errors.New("looking up the latest release failed: GET /repos/o/r/releases/latest: 502 Bad Gateway")
	tests := []struct {
		name        string
		source      string
		releases    ReleaseFetcher
		sourceError func(string) error
		wantErr     string
		wantStatus  policy.BaselineStatus
	}{
		{name: "server error", source: "latest-release", releases: fakeReleases{apiErr},
			wantErr: "finding the baseline pack (the latest release, asset base.tar.gz) failed, so the rules that compare with the baseline cannot be checked: looking up the latest release failed: GET /repos/o/r/releases/latest: 502 Bad Gateway"},
		{name: "tag lookup error", source: "tag:v1", releases: fakeReleases{errors.New("403 Resource not accessible by integration")},
			wantErr: "finding the baseline pack (release v1, asset base.tar.gz) failed"},
		{name: "no release is missing", source: "latest-release", releases: fakeReleases{fmt.Errorf("no release yet: %w", ErrBaselineNotFound)},
			wantStatus: policy.BaselineMissing},
		{name: "path that does not exist", source: "path:" + gone,
			wantErr: "baseline.source: the baseline pack " + gone + " cannot be read: file does not exist"},
		{name: "path located by the caller", source: "path:" + gone,
			sourceError: func(msg string) error { return errors.New("input baseline: " + msg) },
			wantErr:     "input baseline: the baseline pack " + gone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := config.ParseBaselineSource(tt.source)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ResolveBaseline(t.Context(), BaselineOptions{
				Source:      src,
				Resolve:     func(p string) string { return p },
				AssetName:   "base.tar.gz",
				Releases:    tt.releases,
				TempDir:     t.TempDir(),
				SourceError: tt.sourceError,
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q (baseline %+v)", err, tt.wantErr, b)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveBaseline: %v", err)
			}
			if b.Info.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q", b.Info.Status, tt.wantStatus)
			}
		})
	}
}
