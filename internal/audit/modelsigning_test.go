package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/modelsign"
)

// gitModelPack signs a copy of the demo whose model artifact is the
// directory models/hf, which holds files in the git paths model_signing
// ignores. It returns the copied demo directory and the pack directory.
func gitModelPack(t *testing.T) (demo, out string) {
	t.Helper()
	demo = filepath.Join(t.TempDir(), "demo")
	if err := os.CopyFS(demo, os.DirFS(filepath.Join("..", "..", "testdata", "demo"))); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"models/hf/rule.json":            `{"threshold": 0.5}` + "\n",
		"models/hf/sub/.gitattributes":   "* -text\n",
		"models/hf/.gitattributes":       "*.bin filter=lfs diff=lfs merge=lfs -text\n",
		"models/hf/.gitignore":           "*.tmp\n",
		"models/hf/.github/x.yml":        "on: push\n",
		"models/hf/.git/HEAD":            "ref: refs/heads/main\n",
		"models/hf/.git/refs/heads/main": "0000000000000000000000000000000000000000\n",
	} {
		writeForged(t, demo, name, []byte(content))
	}
	cfgPath := filepath.Join(demo, ".auditpack.yml")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "    - models/model.json\n", "    - models/hf\n", 1)
	if cfg == string(data) {
		t.Fatal("the demo configuration lists no models/model.json to replace")
	}
	writeForged(t, demo, ".auditpack.yml", []byte(cfg))

	out = filepath.Join(t.TempDir(), "pack")
	_, err = Run(t.Context(), testRunOptions(cfgPath, out, SignKey, demoKeyPath))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return demo, out
}

func TestModelSigningLeavesOutGitPaths(t *testing.T) {
	demo, out := gitModelPack(t)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(demo, "models", "hf")

	predicateType, predicate := verifiedPredicate(t, out, "model-signing")
	if predicateType != modelsign.PredicateType {
		t.Fatalf("predicate type = %s", predicateType)
	}
	var p modelsign.Predicate
	if err := json.Unmarshal(predicate, &p); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range p.Resources {
		names = append(names, r.Name)
	}
	if want := []string{"rule.json", "sub/.gitattributes"}; !slices.Equal(names, want) {
		t.Errorf("signed resources = %q, want %q", names, want)
	}
	if want := []string{".git", ".gitattributes", ".github", ".gitignore"}; !slices.Equal(p.Serialization.IgnorePaths, want) {
		t.Errorf("ignore_paths = %q, want %q", p.Serialization.IgnorePaths, want)
	}

	report, err := Verify(t.Context(), out, VerifyOptions{PublicKey: pub, Artifacts: []string{model}})
	if err != nil {
		t.Fatalf("Verify: %v\n%s", err, reportText(report))
	}
	if text := reportText(report); !strings.Contains(text, "model_signing ignores the artifact's 3 file(s) under .git, .gitattributes, .github, .gitignore") {
		t.Errorf("the model signing check does not name the ignored files:\n%s", text)
	}

	bundle := filepath.Join(out, DirAttestations, "model-signing"+attest.BundleExtension)
	report, err = VerifyBundle(t.Context(), bundle, VerifyOptions{PublicKey: pub, Artifacts: []string{model}})
	if err != nil {
		t.Fatalf("VerifyBundle: %v\n%s", err, reportText(report))
	}
	if text := reportText(report); !strings.Contains(text, "matches the signed model hf: the same 2 file(s)") {
		t.Errorf("VerifyBundle report lacks the match:\n%s", text)
	}
}

func TestModelSigningIgnoresChangedGitFile(t *testing.T) {
	demo, out := gitModelPack(t)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(demo, "models", "hf")
	bundle := filepath.Join(out, DirAttestations, "model-signing"+attest.BundleExtension)

	tests := []struct {
		name   string
		file   string
		signed bool // whether model_signing hashes the file
	}{
		{"top-level .gitattributes", ".gitattributes", false},
		{"file under .github", ".github/x.yml", false},
		{"nested .gitattributes", "sub/.gitattributes", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(model, filepath.FromSlash(tt.file))
			original, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { writeForged(t, model, tt.file, original) })
			writeForged(t, model, tt.file, []byte("changed\n"))

			// The model signing bundle alone: model_signing's view.
			report, err := VerifyBundle(t.Context(), bundle, VerifyOptions{PublicKey: pub, Artifacts: []string{model}})
			if tt.signed {
				if !errors.Is(err, ErrVerification) {
					t.Fatalf("VerifyBundle = %v, want ErrVerification\n%s", err, reportText(report))
				}
				assertFailed(t, report, "subject-digest-mismatch", tt.file+" has sha256:")
				return
			}
			if err != nil {
				t.Fatalf("VerifyBundle: %v\n%s", err, reportText(report))
			}

			// The whole pack: the model signing check passes, but the
			// lineage digest of the artifact covers the changed file.
			report, err = Verify(t.Context(), out, VerifyOptions{PublicKey: pub, Artifacts: []string{model}})
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("Verify = %v, want ErrVerification\n%s", err, reportText(report))
			}
			for _, c := range report.Checks {
				if c.Name == "model signing" && !c.OK {
					t.Errorf("the model signing check failed on a change to %s: %s", tt.file, c.Detail)
				}
			}
			if !slices.ContainsFunc(report.Checks, func(c Check) bool { return !c.OK && c.Cause == "subject-digest-mismatch" }) {
				t.Errorf("no subject check failed on a change to %s:\n%s", tt.file, reportText(report))
			}
		})
	}
}
