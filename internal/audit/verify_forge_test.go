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
	"strings"
	"syscall"
	"testing"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
	"github.com/auditpack/auditpack/internal/pack/packtest"
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

func TestVerifyRejectsForgedPacks(t *testing.T) {
	original := signedDemoPack(t, nil)
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
			wantText:  "differs from artifact models/model.json of the signed lineage",
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
	want := map[string]int{"index": 1, "anchor": 1, "signature": 5, "signed files": 1, "attestations": 1, "subjects": 3, "model signing": 1, "artifact": 1}
	for name, n := range want {
		if counts[name] != n {
			t.Errorf("%d %q checks, want %d:\n%s", counts[name], name, n, reportText(report))
		}
	}
	if len(report.Lineage) == 0 {
		t.Error("the report carries no signed lineage")
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
