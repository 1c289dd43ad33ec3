package modelsign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
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
	// signed one, and give the same subject digest.
	entry, err := lineage.HashPath(t.Context(), fixture, "model")
	if err != nil {
		t.Fatal(err)
	}
	local, err := FromEntry(filepath.Join(fixture, "model"), entry)
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
	if err := Compare(signed, local); !errors.Is(err, ErrManifest) {
		t.Errorf("Compare after a change = %v, want ErrManifest", err)
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
