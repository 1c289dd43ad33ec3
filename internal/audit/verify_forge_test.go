package audit

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
	"github.com/auditpack/auditpack/internal/pack/packtest"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

var (
	demoKeyPath   = filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.key")
	demoPubPath   = filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.pub")
	demoModelPath = filepath.Join("..", "..", "testdata", "demo", "models", "model.json")
)

// copyPack copies a pack directory into a new temporary directory.
func copyPack(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pack")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// reindex rewrites index.json to list the regular files present with
// their digests, as a forger who cannot sign would.
func reindex(t *testing.T, dir string) {
	t.Helper()
	if err := packtest.Reindex(dir); err != nil {
		t.Fatal(err)
	}
}

func writeForged(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeForged(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
}

// resign replaces a bundle of the pack with one for the same statement
// after change, signed with the demo key: what a holder of the key could
// make from an earlier pack, or with other content.
func resign(t *testing.T, dir, name string, change func(st *forgedStatement)) {
	t.Helper()
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), data, attest.VerifyOptions{PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	st := &forgedStatement{Subjects: v.Subjects, PredicateType: v.PredicateType}
	if err := json.Unmarshal(v.Predicate, &st.Predicate); err != nil {
		t.Fatal(err)
	}
	change(st)
	writeForged(t, dir, name, signForged(t, st))
}

type forgedStatement struct {
	Subjects      []attest.Subject
	PredicateType string
	Predicate     map[string]any
}

func signForged(t *testing.T, st *forgedStatement) []byte {
	t.Helper()
	key, err := attest.LoadPrivateKey(demoKeyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	keySigner, err := attest.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	var signer attest.Signer = keySigner
	if st.PredicateType == modelsign.PredicateType {
		signer = modelsign.Signer(keySigner)
	}
	raw, err := attest.NewStatement(st.Subjects, st.PredicateType, st.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := attest.Sign(t.Context(), raw, signer)
	if err != nil {
		t.Fatal(err)
	}
	return bundle
}

// otherModel writes a file named like the demo model with other content.
func otherModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "models", "model.json")
	writeForged(t, filepath.Dir(path), "model.json", []byte(`{"kind": "a different model"}`+"\n"))
	return path
}

// copyForged copies file name from the pack src into the pack dst.
func copyForged(t *testing.T, src, dst, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	writeForged(t, dst, name, data)
}

// reverseIndex rewrites index.json with its files in reverse order.
func reverseIndex(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, pack.IndexName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var index pack.Index
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(index.Files)
	out, err := pack.MarshalIndex(&index)
	if err != nil {
		t.Fatal(err)
	}
	writeForged(t, dir, pack.IndexName, out)
}

// failingDemoPack signs a copy of the demo whose own policy requires an
// accuracy of 0.99, which the model does not reach, so that the pack's
// signed verdict is fail. It returns the pack directory.
func failingDemoPack(t *testing.T) string {
	t.Helper()
	demo := filepath.Join(t.TempDir(), "demo")
	if err := os.CopyFS(demo, os.DirFS(filepath.Join("..", "..", "testdata", "demo"))); err != nil {
		t.Fatal(err)
	}
	policyPath := filepath.Join(demo, "policies", "demo.yaml")
	data, err := os.ReadFile(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	strict := strings.Replace(string(data), "min: 0.7\n", "min: 0.99\n", 1)
	if strict == string(data) {
		t.Fatal("the demo policy has no min: 0.7 to raise")
	}
	writeForged(t, demo, "policies/demo.yaml", []byte(strict))

	out := filepath.Join(t.TempDir(), "pack")
	outcome, err := Run(t.Context(), testRunOptions(filepath.Join(demo, ".auditpack.yml"), out, SignKey, demoKeyPath))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if outcome.Verdict.Result != policy.OutcomeFail {
		t.Fatalf("verdict = %s, want fail", outcome.Verdict.Result)
	}
	return out
}

func TestVerifyRejectsForgedPacks(t *testing.T) {
	original := signedDemoPack(t, nil)
	// Another run of the same model, signed with the same key: its
	// statements differ from the original's by the CI run they name.
	otherRun := signedDemoPack(t, &BuildContext{Repository: "org/repo", RunID: "7"})
	otherDigest := strings.Repeat("ab", 32)

	tests := []struct {
		name string
		// forge changes the pack directory and returns extra --artifact
		// paths.
		forge     func(t *testing.T, dir string) []string
		wantCause string
		wantText  string
	}{
		{
			name: "evaluation bundle deleted, documents changed, index recomputed",
			forge: func(t *testing.T, dir string) []string {
				removeForged(t, dir, AnchorPath)
				writeForged(t, dir, FileMetrics, []byte(`{"evaluations": {}}`+"\n"))
				writeForged(t, dir, FileSummary, []byte("# Everything passed\n"))
				reindex(t, dir)
				return nil
			},
			wantCause: "missing-anchor",
			wantText:  "has no attestations/evaluation.sigstore.json",
		},
		{
			name: "evaluation and aibom bundles stripped, other model given",
			forge: func(t *testing.T, dir string) []string {
				removeForged(t, dir, AnchorPath, DirAttestations+"/aibom.sigstore.json")
				reindex(t, dir)
				return []string{otherModel(t)}
			},
			wantCause: "missing-anchor",
		},
		{
			name: "other model given to an intact pack",
			forge: func(t *testing.T, dir string) []string {
				return []string{otherModel(t)}
			},
			wantCause: "subject-digest-mismatch",
			wantText:  "matches no subject",
		},
		{
			name: "unsigned statement added under attestations",
			forge: func(t *testing.T, dir string) []string {
				writeForged(t, dir, DirAttestations+"/override.intoto.json", []byte(`{"anything": true}`))
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "attestations/override.intoto.json is not named by the signed evaluation statement",
		},
		{
			name: "file added in a directory below attestations",
			forge: func(t *testing.T, dir string) []string {
				writeForged(t, dir, DirAttestations+"/extra/note.json", []byte(`{}`))
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "attestations/extra/note.json is not named",
		},
		{
			name: "signed bundle copied under a new name",
			forge: func(t *testing.T, dir string) []string {
				data, err := os.ReadFile(filepath.Join(dir, DirAttestations, "policy.sigstore.json"))
				if err != nil {
					t.Fatal(err)
				}
				writeForged(t, dir, DirAttestations+"/policy-2.sigstore.json", data)
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "policy-2.sigstore.json is not named",
		},
		{
			name: "named bundle removed",
			forge: func(t *testing.T, dir string) []string {
				removeForged(t, dir, DirAttestations+"/aibom.sigstore.json")
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "aibom.sigstore.json is named by the signed evaluation statement but missing",
		},
		{
			name: "bundle replaced by another signed statement",
			forge: func(t *testing.T, dir string) []string {
				data, err := os.ReadFile(filepath.Join(dir, DirAttestations, "provenance.sigstore.json"))
				if err != nil {
					t.Fatal(err)
				}
				writeForged(t, dir, DirAttestations+"/aibom.sigstore.json", data)
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "names the file with https://cyclonedx.org/bom",
		},
		{
			name: "statement signed about another model",
			forge: func(t *testing.T, dir string) []string {
				resign(t, dir, DirAttestations+"/policy.sigstore.json", func(st *forgedStatement) {
					st.Subjects = []attest.Subject{{Name: "models/model.json", Digest: map[string]string{"sha256": otherDigest}}}
				})
				reindex(t, dir)
				return nil
			},
			wantCause: "subject-digest-mismatch",
			wantText:  "the evaluation statement's are",
		},
		{
			name: "model signature of other files",
			forge: func(t *testing.T, dir string) []string {
				resign(t, dir, DirAttestations+"/model-signing.sigstore.json", func(st *forgedStatement) {
					resources := []modelsign.Resource{{Name: ".", Algorithm: "sha256", Digest: otherDigest}}
					root, err := modelsign.RootDigest(resources)
					if err != nil {
						t.Fatal(err)
					}
					st.Predicate["resources"] = []any{map[string]any{"name": ".", "algorithm": "sha256", "digest": otherDigest}}
					st.Subjects = []attest.Subject{{Name: "model.json", Digest: map[string]string{"sha256": root}}}
				})
				reindex(t, dir)
				return []string{demoModelPath}
			},
			wantCause: "subject-digest-mismatch",
			wantText:  "differs from artifact models/model.json of the signed lineage: model signature mismatch: models/model.json has sha256:",
		},
		{
			name: "test-result bundle from another run",
			forge: func(t *testing.T, dir string) []string {
				copyForged(t, otherRun, dir, DirAttestations+"/policy.sigstore.json")
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-digest-mismatch",
			wantText:  "attestations/policy.sigstore.json is not the statement the evaluation statement signed: payload sha256 ",
		},
		{
			name: "provenance bundle from another run",
			forge: func(t *testing.T, dir string) []string {
				copyForged(t, otherRun, dir, DirAttestations+"/provenance.sigstore.json")
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-digest-mismatch",
			wantText:  "attestations/provenance.sigstore.json is not the statement the evaluation statement signed",
		},
		{
			name: "passing test result signed for a failing pack",
			forge: func(t *testing.T, dir string) []string {
				resign(t, dir, DirAttestations+"/policy.sigstore.json", func(st *forgedStatement) {
					st.Predicate["result"] = "FAILED"
				})
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-digest-mismatch",
			wantText:  "it was signed for another pack",
		},
		{
			name: "evaluation statement without payload digests",
			forge: func(t *testing.T, dir string) []string {
				resign(t, dir, AnchorPath, func(st *forgedStatement) {
					for _, f := range st.Predicate["attestations"].([]any) {
						delete(f.(map[string]any), "payloadSha256")
					}
				})
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-digest-mismatch",
			wantText:  "without the SHA-256 of its statement (payloadSha256)",
		},
		{
			name: "index lists the files in reverse order",
			forge: func(t *testing.T, dir string) []string {
				reverseIndex(t, dir)
				return nil
			},
			wantCause: "invalid-pack",
			wantText:  "files must be sorted by path",
		},
		{
			name: "evaluation statement without the list of attestations",
			forge: func(t *testing.T, dir string) []string {
				resign(t, dir, AnchorPath, func(st *forgedStatement) { delete(st.Predicate, "attestations") })
				reindex(t, dir)
				return nil
			},
			wantCause: "attestation-set-mismatch",
			wantText:  "does not name the pack's attestation files",
		},
	}
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyPack(t, original)
			artifacts := tt.forge(t, dir)
			report, err := Verify(t.Context(), dir, VerifyOptions{PublicKey: pub, Artifacts: artifacts})
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("Verify = %v, want ErrVerification; report:\n%s", err, reportText(report))
			}
			assertFailed(t, report, tt.wantCause, tt.wantText)
		})
	}
}

// assertFailed checks that a check failed with cause and, when text is
// not empty, a detail containing it, and that no passed check reports a
// mismatch.
func assertFailed(t *testing.T, report *Report, cause, text string) {
	t.Helper()
	found := false
	for _, c := range report.Checks {
		if !c.OK && c.Cause == cause && strings.Contains(c.Detail, text) {
			found = true
		}
		if c.OK && strings.Contains(strings.ToLower(c.Detail), "mismatch") {
			t.Errorf("a passed check reports a mismatch: %s %s", c.Name, c.Detail)
		}
	}
	if !found {
		t.Errorf("no failed check with cause %q and detail containing %q:\n%s", cause, text, reportText(report))
	}
}

func reportText(r *Report) string {
	if r == nil {
		return "(no report)"
	}
	var b bytes.Buffer
	WriteReport(&b, r)
	return b.String()
}

func TestVerifyAcceptsIntactPack(t *testing.T) {
	dir := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	report, err := Verify(t.Context(), dir, VerifyOptions{PublicKey: pub, Artifacts: []string{demoModelPath}})
	if err != nil {
		t.Fatalf("Verify: %v\n%s", err, reportText(report))
	}
	counts := map[string]int{}
	for _, c := range report.Checks {
		counts[c.Name]++
	}
	want := map[string]int{"index": 1, "anchor": 1, "signature": 5, "signed files": 1, "attestations": 5, "subjects": 3, "model signing": 1, "artifact": 1}
	for name, n := range want {
		if counts[name] != n {
			t.Errorf("%d %q checks, want %d:\n%s", counts[name], name, n, reportText(report))
		}
	}
	if len(report.Lineage) == 0 {
		t.Error("the report carries no signed lineage")
	}
	if want := (Verdict{Result: "pass", Passed: 8, source: AnchorPath}); report.Verdict == nil || *report.Verdict != want {
		t.Errorf("verdict = %+v, want %+v", report.Verdict, want)
	}
}

func TestVerifyBundleSwappedFromPassingRun(t *testing.T) {
	failing := failingDemoPack(t)
	passing := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"policy", "provenance"} {
		t.Run(name, func(t *testing.T) {
			dir := copyPack(t, failing)
			bundle := DirAttestations + "/" + name + attest.BundleExtension
			copyForged(t, passing, dir, bundle)
			reindex(t, dir)

			report, err := Verify(t.Context(), dir, VerifyOptions{PublicKey: pub, Artifacts: []string{demoModelPath}, PredicateTypes: []string{attest.PredicateTestResult}})
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("Verify = %v, want ErrVerification; report:\n%s", err, reportText(report))
			}
			assertFailed(t, report, "attestation-digest-mismatch", bundle+" is not the statement the evaluation statement signed")
		})
	}
}

func TestVerifyVerdict(t *testing.T) {
	failing := failingDemoPack(t)
	passing := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		path        string
		requirePass bool
		wantErr     bool
		wantResult  string
		wantFailed  int
	}{
		{"failing pack verifies without --require-pass", failing, false, false, "fail", 1},
		{"failing pack fails with --require-pass", failing, true, true, "fail", 1},
		{"passing pack passes with --require-pass", passing, true, false, "pass", 0},
		{"failing evaluation bundle fails with --require-pass", filepath.Join(failing, filepath.FromSlash(AnchorPath)), true, true, "fail", 1},
		{"failing evaluation bundle verifies", filepath.Join(failing, filepath.FromSlash(AnchorPath)), false, false, "fail", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := VerifyPath(t.Context(), tt.path, VerifyOptions{PublicKey: pub, RequirePass: tt.requirePass})
			if tt.wantErr != (err != nil) {
				t.Fatalf("VerifyPath = %v, want an error: %v; report:\n%s", err, tt.wantErr, reportText(report))
			}
			if err != nil {
				if !errors.Is(err, ErrVerification) {
					t.Fatalf("VerifyPath = %v, want ErrVerification", err)
				}
				assertFailed(t, report, "verdict-not-pass", "the signed policy verdict is fail")
			}
			if report.Verdict == nil {
				t.Fatalf("no verdict in the report:\n%s", reportText(report))
			}
			if report.Verdict.Result != tt.wantResult || report.Verdict.Failed != tt.wantFailed || report.Verdict.Required != tt.requirePass {
				t.Errorf("verdict = %+v, want result %s with %d failed, required %v", report.Verdict, tt.wantResult, tt.wantFailed, tt.requirePass)
			}
			if text := reportText(report); !strings.Contains(text, "verdict") || !strings.Contains(text, "verdict is "+tt.wantResult) {
				t.Errorf("the text report does not show the verdict:\n%s", text)
			}
		})
	}
}

func TestVerifyBundleUsageErrors(t *testing.T) {
	dir := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	demoPolicy, err := policy.Load([]string{filepath.Join("..", "..", "testdata", "demo", "policies", "demo.yaml")}, func(p string) string { return p }, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	dropPolicy, err := policy.Parse("drop.yaml", []byte("rules:\n  - id: drop\n    metric: evaluations.holdout.metrics.accuracy\n    max_drop: 0.01\n    severity: block\n"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := func(name string) string { return filepath.Join(dir, DirAttestations, name+attest.BundleExtension) }

	tests := []struct {
		name string
		path string
		opts VerifyOptions
		want string
	}{
		{"--policy with the test-result bundle", bundle("policy"), VerifyOptions{PublicKey: pub, Policies: demoPolicy},
			"--policy needs the evaluation statement, which carries the signed metrics and verdict; " + bundle("policy") + " has predicate type https://in-toto.io/attestation/test-result/v0.1: pass the pack or its attestations/evaluation.sigstore.json"},
		{"--require-pass with the provenance bundle", bundle("provenance"), VerifyOptions{PublicKey: pub, RequirePass: true}, "--require-pass needs the evaluation statement"},
		{"baseline rule", dir, VerifyOptions{PublicKey: pub, Policies: []policy.File{*dropPolicy}}, "drop.yaml: rule drop uses max_drop, which compares with a baseline; verify has none"},
		{"log threshold with a key", dir, VerifyOptions{PublicKey: pub, TransparencyLogThreshold: 1}, "key-signed bundles have no log entries or timestamps to count"},
		{"timestamp threshold with a key", dir, VerifyOptions{PublicKey: pub, TimestampThreshold: 1}, "key-signed bundles have no log entries or timestamps to count"},
		{"negative threshold", dir, VerifyOptions{PublicKey: pub, TimestampThreshold: -1}, "must not be negative"},
		{"index.json", filepath.Join(dir, pack.IndexName), VerifyOptions{PublicKey: pub}, "pass the pack's directory, not its index.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := VerifyPath(t.Context(), tt.path, tt.opts)
			if err == nil || errors.Is(err, ErrVerification) {
				t.Fatalf("VerifyPath = %v, want a usage error; report:\n%s", err, reportText(report))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestVerifyPathDetectsContent(t *testing.T) {
	dir := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(dir + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, data []byte) string {
		path := filepath.Join(t.TempDir(), name)
		writeForged(t, filepath.Dir(path), name, data)
		return path
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		wantOK    bool
		wantCause string
		wantText  string
	}{
		{"archive without an extension", file("download", archive), true, "", ""},
		{"archive with an upper-case extension", file("P1.TAR.GZ", archive), true, "", ""},
		{"pack path that is a symbolic link", link, true, "", ""},
		{"binary file", file("model.bin", []byte{0, 1, 2, 0xff, 0xfe, 'x'}), false, "invalid-pack",
			"is neither a pack directory, a pack archive (.tar.gz) nor a Sigstore bundle"},
		{"empty bundle", file("empty.json", []byte("{}")), false, "malformed-bundle", "the bundle has no mediaType"},
		{"bundle with binary bytes", file("bin.json", []byte("{\x1b[31m\xff\xfe")), false, "malformed-bundle", "reading Sigstore bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := VerifyPath(t.Context(), tt.path, VerifyOptions{PublicKey: pub})
			if tt.wantOK {
				if err != nil {
					t.Fatalf("VerifyPath = %v\n%s", err, reportText(report))
				}
				return
			}
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("VerifyPath = %v, want ErrVerification", err)
			}
			assertFailed(t, report, tt.wantCause, tt.wantText)
			for _, c := range report.Checks {
				if strings.ContainsFunc(c.Detail, func(r rune) bool { return r == utf8.RuneError || r < ' ' }) {
					t.Errorf("check detail holds raw bytes: %q", c.Detail)
				}
			}
		})
	}
}

func TestVerifyModelSigningBundleAgainstArtifact(t *testing.T) {
	dir := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, DirAttestations, "model-signing"+attest.BundleExtension)
	other := otherModel(t)

	tests := []struct {
		name     string
		artifact string
		wantOK   bool
		wantText string
	}{
		{"the signed model", demoModelPath, true, "matches the signed model model.json"},
		{"another model", other, false, "model signature mismatch: " + other + " has sha256:"},
		{"a directory", filepath.Dir(demoModelPath), false, "is a directory, but the signed model model.json is a single file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := VerifyBundle(t.Context(), bundle, VerifyOptions{PublicKey: pub, Artifacts: []string{tt.artifact}})
			if tt.wantOK {
				if err != nil {
					t.Fatalf("VerifyBundle = %v\n%s", err, reportText(report))
				}
				if !strings.Contains(reportText(report), tt.wantText) {
					t.Errorf("report lacks %q:\n%s", tt.wantText, reportText(report))
				}
				return
			}
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("VerifyBundle = %v, want ErrVerification", err)
			}
			assertFailed(t, report, "subject-digest-mismatch", tt.wantText)
		})
	}
}

func TestVerifyMalformedPackIsVerificationFailure(t *testing.T) {
	original := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// make returns the path to verify.
		make func(t *testing.T) string
		want string
	}{
		{"symbolic link in the pack", func(t *testing.T) string {
			dir := copyPack(t, original)
			if err := os.Symlink(FileMetrics, filepath.Join(dir, "link.json")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "symbolic link"},
		{"index.json is a symbolic link", func(t *testing.T) string {
			dir := copyPack(t, original)
			if err := os.Rename(filepath.Join(dir, pack.IndexName), filepath.Join(dir, "real-index")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("real-index", filepath.Join(dir, pack.IndexName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "symbolic link"},
		{"named pipe in the pack", func(t *testing.T) string {
			dir := copyPack(t, original)
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return dir
		}, "named pipe"},
		{"pack path is a named pipe", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "pack.tar.gz")
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return path
		}, "named pipe"},
		{"data after the gzip stream", func(t *testing.T) string {
			return archiveWith(t, original, []byte("junk"))
		}, "data follows the end of the gzip stream"},
		{"second gzip stream", func(t *testing.T) string {
			var extra bytes.Buffer
			zw := gzip.NewWriter(&extra)
			zw.Write([]byte("more"))
			zw.Close()
			return archiveWith(t, original, extra.Bytes())
		}, "data follows the end of the gzip stream"},
		{"empty file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "pack.tar.gz")
			writeForged(t, filepath.Dir(path), filepath.Base(path), nil)
			return path
		}, "not a gzip stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := Verify(t.Context(), tt.make(t), VerifyOptions{PublicKey: pub})
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("Verify = %v, want ErrVerification", err)
			}
			assertFailed(t, report, "invalid-pack", tt.want)
		})
	}
}

// archiveWith returns the archive of the pack at dir with extra appended.
func archiveWith(t *testing.T, dir string, extra []byte) string {
	t.Helper()
	data, err := os.ReadFile(dir + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pack.tar.gz")
	writeForged(t, filepath.Dir(path), filepath.Base(path), append(data, extra...))
	return path
}

func TestVerifyMessages(t *testing.T) {
	dir := signedDemoPack(t, nil)
	pub, err := attest.LoadPublicKey(demoPubPath)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("missing artifact names the flag", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "no-model.bin")
		_, err := Verify(t.Context(), dir, VerifyOptions{PublicKey: pub, Artifacts: []string{missing}})
		if err == nil || errors.Is(err, ErrVerification) {
			t.Fatalf("Verify = %v, want a usage error", err)
		}
		if !strings.Contains(err.Error(), "--artifact "+missing) || strings.Contains(err.Error(), "configuration") {
			t.Errorf("error = %q, want it to name --artifact and not the configuration", err)
		}
	})

	t.Run("wrong key is named by one id", func(t *testing.T) {
		other := otherPublicKey(t)
		report, err := Verify(t.Context(), dir, VerifyOptions{PublicKey: other})
		if !errors.Is(err, ErrVerification) {
			t.Fatalf("Verify = %v, want ErrVerification", err)
		}
		otherID, err := attest.KeyID(other)
		if err != nil {
			t.Fatal(err)
		}
		signerID, err := attest.KeyID(pub)
		if err != nil {
			t.Fatal(err)
		}
		signerHint, err := modelsign.PublicKeyHint(pub)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, c := range report.Checks {
			if c.Name != "signature" {
				continue
			}
			failed++
			if c.OK || c.Cause != "bad-signature" || !strings.Contains(c.Detail, "given public key "+otherID) {
				t.Errorf("signature check = %+v, want bad-signature naming the given key %s", c, otherID)
			}
			if strings.Contains(c.Detail, "model-signing") {
				if strings.Contains(c.Detail, `names key "`+signerHint) || !strings.Contains(c.Detail, "is model_signing's") {
					t.Errorf("the model signing check quotes its hint as a key id: %s", c.Detail)
				}
			} else if !strings.Contains(c.Detail, signerID) {
				t.Errorf("check does not name the signer's key %s: %s", signerID, c.Detail)
			}
		}
		if failed != 5 {
			t.Errorf("%d signature checks, want 5:\n%s", failed, reportText(report))
		}
	})
}

func otherPublicKey(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &key.PublicKey
}
