package modelsign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
)

// fixture is a model signed by model_signing v1.1.0 itself (see
// testdata/model-transparency-v1.1.0/SOURCE.md).
var fixture = filepath.Join("testdata", "model-transparency-v1.1.0")

func readPublicKey(t *testing.T, path string) *ecdsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(*ecdsa.PublicKey)
}

func TestPublicKeyHintMatchesModelSigning(t *testing.T) {
	key := readPublicKey(t, filepath.Join(fixture, "signing-key-pub.pem"))
	got, err := PublicKeyHint(key)
	if err != nil {
		t.Fatal(err)
	}
	// The hint model_signing wrote into the fixture's bundle.
	if want := "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"; got != want {
		t.Errorf("PublicKeyHint = %s, want %s", got, want)
	}
}

func TestVerifyModelSigningBundle(t *testing.T) {
	key := readPublicKey(t, filepath.Join(fixture, "signing-key-pub.pem"))
	bundle, err := os.ReadFile(filepath.Join(fixture, "model.sig"))
	if err != nil {
		t.Fatal(err)
	}

	signed, err := Verify(bundle, key)
	if err != nil {
		t.Fatalf("Verify of a real model_signing bundle: %v", err)
	}
	if signed.ModelName != "v1.1.0-elliptic-key" || len(signed.Resources) != 2 {
		t.Errorf("signed manifest = %+v, want 2 resources of v1.1.0-elliptic-key", signed)
	}

	// The manifest this package builds for the same files must equal the
	// signed one, and give the same subject digest, also with the git files
	// that model_signing ignores added to the model directory.
	tests := []struct {
		name     string
		gitFiles map[string]string
	}{
		{"as signed", nil},
		{"with git files", map[string]string{
			".gitattributes":           "*.bin filter=lfs diff=lfs merge=lfs -text\n",
			".gitignore":               "*.tmp\n",
			".github/workflows/ci.yml": "on: push\n",
			".git/HEAD":                "ref: refs/heads/main\n",
			".github/dependabot.yml":   "version: 2\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			if err := os.CopyFS(filepath.Join(base, "model"), os.DirFS(filepath.Join(fixture, "model"))); err != nil {
				t.Fatal(err)
			}
			writeModel(t, filepath.Join(base, "model"), tt.gitFiles)
			entry, err := lineage.HashPath(t.Context(), base, "model")
			if err != nil {
				t.Fatal(err)
			}
			local, err := FromEntry(filepath.Join(base, "model"), entry)
			if err != nil {
				t.Fatal(err)
			}
			if err := Compare(signed, local); err != nil {
				t.Errorf("Compare: %v", err)
			}
			subject, err := local.Subject()
			if err != nil {
				t.Fatal(err)
			}
			if want := "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"; subject.Digest["sha256"] != want {
				t.Errorf("subject digest = %s, model_signing's is %s", subject.Digest["sha256"], want)
			}

			// A changed file is reported by name.
			local.Resources[0].Digest = local.Resources[1].Digest
			err = Compare(signed, local)
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("Compare after a change = %v, want ErrManifest", err)
			}
			if !strings.Contains(err.Error(), "signme-1 has sha256:") {
				t.Errorf("Compare after a change does not name signme-1: %v", err)
			}
		})
	}
}

// writeModel writes files, named by "/"-separated paths, below base.
func writeModel(t *testing.T, base string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFromEntryLeavesOutGitPaths checks the manifest of directories that
// contain the git paths model_signing ignores. The expected subject digest
// is computed here from the file contents, as model_signing defines it: the
// SHA-256 over the concatenated raw SHA-256 digests of the hashed files in
// pathlib order.
func TestFromEntryLeavesOutGitPaths(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // hashed files, in pathlib order
	}{
		{
			name: "hugging face layout",
			files: map[string]string{
				"model/config.json":       `{"model_type": "bert"}`,
				"model/model.safetensors": "weights",
				"model/.gitattributes":    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
				"model/.gitignore":        "*.tmp\n",
			},
			want: []string{"config.json", "model.safetensors"},
		},
		{
			name: "github and git directories",
			files: map[string]string{
				"model/rule.json":                "{}",
				"model/.github/x.yml":            "on: push\n",
				"model/.github/workflows/ci.yml": "jobs: {}\n",
				"model/.git/HEAD":                "ref: refs/heads/main\n",
				"model/.git/objects/ab/cdef":     "object",
			},
			want: []string{"rule.json"},
		},
		{
			name: "git names in subdirectories are hashed",
			files: map[string]string{
				"model/w.bin":               "w",
				"model/.gitignore":          "*.tmp\n",
				"model/sub/.gitattributes":  "* -text\n",
				"model/sub/.github/x.yml":   "x: 1\n",
				"model/sub/.gitignore/keep": "a directory named .gitignore",
			},
			want: []string{"sub/.gitattributes", "sub/.github/x.yml", "sub/.gitignore/keep", "w.bin"},
		},
		{
			name: "names that only start like git paths are hashed",
			files: map[string]string{
				"model/.gitattributes.bak": "old",
				"model/.github-notes.md":   "notes",
				"model/.gitkeep":           "",
				"model/.gitattributes":     "* -text\n",
			},
			want: []string{".gitattributes.bak", ".github-notes.md", ".gitkeep"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			writeModel(t, base, tt.files)
			entry, err := lineage.HashPath(t.Context(), base, "model")
			if err != nil {
				t.Fatal(err)
			}
			m, err := FromEntry(filepath.Join(base, "model"), entry)
			if err != nil {
				t.Fatal(err)
			}

			var names []string
			for _, r := range m.Resources {
				names = append(names, r.Name)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{".git", ".gitattributes", ".github", ".gitignore"}, m.Serialization.IgnorePaths); diff != "" {
				t.Errorf("ignore_paths (-want +got):\n%s", diff)
			}

			h := sha256.New()
			for _, name := range tt.want {
				sum := sha256.Sum256([]byte(tt.files["model/"+name]))
				h.Write(sum[:])
			}
			subject, err := m.Subject()
			if err != nil {
				t.Fatal(err)
			}
			if want := hex.EncodeToString(h.Sum(nil)); subject.Digest["sha256"] != want {
				t.Errorf("subject digest = %s, want %s", subject.Digest["sha256"], want)
			}

			// The signed manifest still matches the model after a change to
			// an ignored file, also when the local manifest lists every file
			// of the lineage, ignored ones included.
			writeModel(t, base, map[string]string{"model/.gitattributes": "changed\n", "model/.github/x.yml": "changed\n"})
			changed, err := lineage.HashPath(t.Context(), base, "model")
			if err != nil {
				t.Fatal(err)
			}
			if changed.SHA256 == entry.SHA256 {
				t.Fatal("the lineage digest did not change with the git files")
			}
			local, err := FromEntry(filepath.Join(base, "model"), changed)
			if err != nil {
				t.Fatal(err)
			}
			if err := Compare(m, local); err != nil {
				t.Errorf("Compare after a change to ignored files: %v", err)
			}
			var all Manifest
			for _, f := range changed.Files {
				all.Resources = append(all.Resources, Resource{Name: f.Path, Algorithm: HashSHA256, Digest: f.SHA256})
			}
			if err := Compare(m, all); err != nil {
				t.Errorf("Compare with the ignored files listed: %v", err)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	for name, content := range map[string]string{"model/b/w.bin": "weights", "model/a-c.json": "{}", "model/a/z.bin": "z"} {
		path := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entry, err := lineage.HashPath(t.Context(), base, "model")
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := FromEntry(filepath.Join(base, "model"), entry)
	if err != nil {
		t.Fatal(err)
	}
	// pathlib order: "a/z.bin" before "a-c.json", unlike byte order.
	var names []string
	for _, r := range manifest.Resources {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff([]string{"a/z.bin", "a-c.json", "b/w.bin"}, names); diff != "" {
		t.Errorf("resource order (-want +got):\n%s", diff)
	}

	subject, err := manifest.Subject()
	if err != nil {
		t.Fatal(err)
	}
	statement, err := attest.NewStatement([]attest.Subject{subject}, PredicateType, manifest.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := attest.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := attest.Sign(t.Context(), statement, Signer(signer))
	if err != nil {
		t.Fatal(err)
	}

	got, err := Verify(bundle, &key.PublicKey)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Compare(got, manifest); err != nil {
		t.Errorf("Compare: %v", err)
	}
	if got.Serialization.Method != "files" || got.Serialization.HashType != "sha256" || got.Serialization.AllowSymlinks {
		t.Errorf("serialization = %+v", got.Serialization)
	}
	// The generic verifier accepts the bundle too.
	if _, err := attest.Verify(t.Context(), bundle, attest.VerifyOptions{PublicKey: &key.PublicKey}); err != nil {
		t.Errorf("attest.Verify: %v", err)
	}

	t.Run("other key", func(t *testing.T) {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if _, err := Verify(bundle, &other.PublicKey); !errors.Is(err, ErrSignature) {
			t.Errorf("Verify with another key = %v, want ErrSignature", err)
		}
	})
	t.Run("inconsistent subject", func(t *testing.T) {
		var b map[string]any
		if err := json.Unmarshal(bundle, &b); err != nil {
			t.Fatal(err)
		}
		env := b["dsseEnvelope"].(map[string]any)
		payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
		var st map[string]any
		_ = json.Unmarshal(payload, &st)
		st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": subject.Digest["sha256"][:63] + "0"}
		tampered, _ := json.Marshal(st)
		if _, err := ParseStatement(tampered); !errors.Is(err, ErrManifest) {
			t.Errorf("ParseStatement with a wrong subject = %v, want ErrManifest", err)
		}
	})
}

func TestFromEntrySingleFile(t *testing.T) {
	entry := lineage.Entry{Path: "models/model.onnx", Type: lineage.TypeFile, SHA256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", Size: 6}
	m, err := FromEntry("models/model.onnx", entry)
	if err != nil {
		t.Fatal(err)
	}
	want := Manifest{ModelName: "model.onnx", Predicate: Predicate{
		Serialization: Serialization{Method: "files", HashType: "sha256"},
		Resources:     []Resource{{Name: ".", Algorithm: "sha256", Digest: entry.SHA256}},
	}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("FromEntry (-want +got):\n%s", diff)
	}

	entry.LFS = &lineage.LFSInfo{PointerSHA256: entry.SHA256, PointerSize: 130}
	if _, err := FromEntry("models/model.onnx", entry); err == nil {
		t.Error("FromEntry accepted a Git LFS pointer as the model")
	}
}

func TestCompareRejectsSignedGitPaths(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	signed := Manifest{Predicate: Predicate{Resources: []Resource{
		{Name: ".gitattributes", Algorithm: HashSHA256, Digest: digest},
		{Name: "rule.json", Algorithm: HashSHA256, Digest: digest},
	}}}
	local := Manifest{Predicate: Predicate{Resources: []Resource{
		{Name: ".gitattributes", Algorithm: HashSHA256, Digest: digest},
		{Name: "rule.json", Algorithm: HashSHA256, Digest: digest},
	}}}
	// model_signing would report a signature mismatch, because it hashes
	// rule.json alone.
	err := Compare(signed, local)
	if !errors.Is(err, ErrManifest) {
		t.Fatalf("Compare = %v, want ErrManifest", err)
	}
	if !strings.Contains(err.Error(), ".gitattributes is signed, but model_signing leaves it out") {
		t.Errorf("Compare error does not explain the ignored file: %v", err)
	}
}

func TestCompareHonoursSignedIgnorePaths(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	signed := Manifest{Predicate: Predicate{
		Serialization: Serialization{Method: MethodFiles, HashType: HashSHA256, IgnorePaths: []string{"./README.md", "docs/"}},
		Resources:     []Resource{{Name: "rule.json", Algorithm: HashSHA256, Digest: digest}},
	}}
	local := Manifest{Predicate: Predicate{Resources: []Resource{
		{Name: "README.md", Algorithm: HashSHA256, Digest: digest},
		{Name: "docs/a.md", Algorithm: HashSHA256, Digest: digest},
		{Name: "rule.json", Algorithm: HashSHA256, Digest: digest},
	}}}
	if err := Compare(signed, local); err != nil {
		t.Errorf("Compare: %v", err)
	}
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  bool
	}{
		{".git/HEAD", GitPaths, true},
		{".git", GitPaths, true},
		{".gitattributes", GitPaths, true},
		{".github/workflows/ci.yml", GitPaths, true},
		{".gitignore", GitPaths, true},
		{"sub/.gitattributes", GitPaths, false},
		{"sub/.git/HEAD", GitPaths, false},
		{".gitattributes.bak", GitPaths, false},
		{".githubx/a", GitPaths, false},
		{"model.bin", GitPaths, false},
		{"docs/a.md", []string{"./docs/"}, true},
		{"docs", []string{"docs//"}, true},
		{"docsx", []string{"docs"}, false},
		{"a.bin", []string{"."}, true},
		{"a.bin", []string{"../a.bin", "/a.bin"}, false},
		{"a.bin", nil, false},
	}
	for _, tt := range tests {
		if got := Ignored(tt.name, tt.paths); got != tt.want {
			t.Errorf("Ignored(%q, %q) = %v, want %v", tt.name, tt.paths, got, tt.want)
		}
	}
}

func TestCompareSingleFileNamedLikeGitPath(t *testing.T) {
	digest := strings.Repeat("cd", 32)
	m := Manifest{Predicate: Predicate{Resources: []Resource{{Name: ".", Algorithm: HashSHA256, Digest: digest}}}}
	if err := CompareModel(m, m, ".github/model.bin"); err != nil {
		t.Errorf("CompareModel of a single file under .github: %v", err)
	}
	other := Manifest{Predicate: Predicate{Resources: []Resource{{Name: ".", Algorithm: HashSHA256, Digest: strings.Repeat("ef", 32)}}}}
	if err := CompareModel(m, other, ".github/model.bin"); err == nil || !strings.Contains(err.Error(), ".github/model.bin has sha256:") {
		t.Errorf("CompareModel of a changed single file = %v, want the file named", err)
	}
}
