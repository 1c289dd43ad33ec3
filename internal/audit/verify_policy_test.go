package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/policy"
)

func TestVerifyPolicyLicencesAndFit(t *testing.T) {
	dir := signedDemoPack(t, nil)
	// The same pack with a model licence that is not an SPDX expression,
	// signed with the demo key.
	badLicence := copyPack(t, dir)
	resign(t, badLicence, AnchorPath, func(st *forgedStatement) {
		st.Predicate["model"].(map[string]any)["license"] = "Apache-2.0 AND ("
	})
	reindex(t, badLicence)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(name, content string) policy.File {
		f, err := policy.Parse(name, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return *f
	}
	deny := parse("deny.yaml", "licenses:\n  deny: [Apache-2.0]\n")
	allow := parse("allow.yaml", "licenses:\n  allow: [Apache-2.0]\n")
	typo := parse("typo.yaml", "rules:\n  - id: acc\n    metric: evaluations.holdout.metrics.acuracy\n    min: 0.5\n    severity: block\n")
	otherTask := parse("regression.yaml", "rules:\n  - id: r2\n    metric: evaluations.*.metrics.accuracy\n    tasks: [regression]\n    min: 0.5\n    severity: block\n")
	anchor := func(pack string) string { return filepath.Join(pack, filepath.FromSlash(AnchorPath)) }

	tests := []struct {
		name     string
		path     string
		policies []policy.File
		// wantErr is "" for success, "verification" for ErrVerification,
		// else the start of the *PolicyError's message.
		wantErr   string
		wantCause string
		wantText  string
	}{
		{"denied licence in a pack", dir, []policy.File{deny}, "verification", "policy-failed",
			"deny.yaml against the signed metrics and licences: fail (0 passed, 0 warned, 2 failed); failed: licenses at model.license: licence Apache-2.0: needs denied licence(s) Apache-2.0"},
		{"denied licence in the evaluation bundle", anchor(dir), []policy.File{deny}, "verification", "policy-failed",
			"licenses at datasets.demo-evaluation.license: licence Apache-2.0: needs denied licence(s) Apache-2.0"},
		{"allowed licence", dir, []policy.File{allow}, "", "", "allow.yaml against the signed metrics and licences: pass (2 passed, 0 warned, 0 failed)"},
		{"signed licence not SPDX", badLicence, []policy.File{deny}, "verification", "policy-failed",
			"the signed licences cannot be checked against deny.yaml: model.license: licence \"Apache-2.0 AND (\""},
		{"misspelt metric path", dir, []policy.File{typo}, `typo.yaml:3: metric: rule acc: metric path "evaluations.holdout.metrics.acuracy"`, "", ""},
		{"misspelt metric path, evaluation bundle", anchor(dir), []policy.File{typo}, "typo.yaml:3: metric: rule acc", "", ""},
		{"no rule applies", dir, []policy.File{otherTask}, "--policy regression.yaml has no rule that applies to " + AnchorPath +
			": none of its 1 rule(s) applies (rule r2: no evaluation has task regression, so the rule was not applied), so 0 rules were applied", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := VerifyPath(t.Context(), tt.path, VerifyOptions{PublicKey: pub, Policies: tt.policies})
			var policyErr *PolicyError
			switch tt.wantErr {
			case "":
				if err != nil {
					t.Fatalf("VerifyPath = %v\n%s", err, reportText(report))
				}
				if !strings.Contains(reportText(report), tt.wantText) {
					t.Errorf("report lacks %q:\n%s", tt.wantText, reportText(report))
				}
			case "verification":
				if !errors.Is(err, ErrVerification) {
					t.Fatalf("VerifyPath = %v, want ErrVerification\n%s", err, reportText(report))
				}
				assertFailed(t, report, tt.wantCause, tt.wantText)
			default:
				if !errors.As(err, &policyErr) || errors.Is(err, ErrVerification) {
					t.Fatalf("VerifyPath = %v, want a *PolicyError\n%s", err, reportText(report))
				}
				if !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("error = %q, want it to start with %q", err, tt.wantErr)
				}
				if report == nil || report.Lineage != nil {
					t.Errorf("report = %+v, want the checks without the lineage", report)
				}
			}
		})
	}
}

func TestVerifyBundleSizeLimit(t *testing.T) {
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file that starts like JSON, one byte over the limit.
	path := filepath.Join(t.TempDir(), "huge.sigstore.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"mediaType": "`); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()

	report, err := VerifyPath(t.Context(), path, VerifyOptions{PublicKey: pub})
	if !errors.Is(err, ErrVerification) {
		t.Fatalf("VerifyPath = %v, want ErrVerification", err)
	}
	assertFailed(t, report, "malformed-bundle", path+" is 67108865 bytes, more than the 67108864 bytes (64 MiB) that verify reads from a Sigstore bundle")
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain text, spaces and ü", "plain text, spaces and ü"},
		{"a\nb\r\tc", `a\nb\r\tc`},
		{"esc\x1b[2Jred", `esc\x1b[2Jred`},
		{"bad \xff\xfe bytes", `bad \xff\xfe bytes`},
		{"bidi \u202e and line \u2028 separators", `bidi \u202e and line \u2028 separators`},
		{`already \n escaped`, `already \n escaped`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Printable(Printable(tt.in)); got != tt.want {
			t.Errorf("Printable twice on %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
