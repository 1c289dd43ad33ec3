package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// signFixture returns a statement about two artifacts and its bundle signed
// with key.
func signFixture(t *testing.T, key *ecdsa.PrivateKey) (statement, bundleJSON []byte) {
	t.Helper()
	subjects, predicate := fixedInput()
	statement, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}
	signer, err := NewKeySigner(key)
	if err != nil {
		t.Fatalf("NewKeySigner: %v", err)
	}
	bundleJSON, err = Sign(t.Context(), statement, signer)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return statement, bundleJSON
}

// editBundle decodes bundleJSON, applies edit and encodes it again.
func editBundle(t *testing.T, bundleJSON []byte, edit func(*protobundle.Bundle)) []byte {
	t.Helper()
	var b protobundle.Bundle
	if err := protojson.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatalf("decoding bundle: %v", err)
	}
	edit(&b)
	out, err := protojson.Marshal(&b)
	if err != nil {
		t.Fatalf("encoding bundle: %v", err)
	}
	return out
}

func TestSignVerifyRoundTrip(t *testing.T) {
	demoDir := filepath.Join("..", "..", "testdata", "demo", "keys")
	demoKey, err := LoadPrivateKey(filepath.Join(demoDir, "cosign.key"), nil)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	demoPublic, err := LoadPublicKey(filepath.Join(demoDir, "cosign.pub"))
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	generated := mustGenerateP256(t)

	tests := []struct {
		name    string
		private *ecdsa.PrivateKey
		public  *ecdsa.PublicKey
	}{
		{"generated key", generated, &generated.PublicKey},
		{"PEM files", demoKey, demoPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statement, bundleJSON := signFixture(t, tt.private)
			subjects, _ := fixedInput()
			wantID, err := KeyID(tt.public)
			if err != nil {
				t.Fatal(err)
			}

			got, err := Verify(t.Context(), bundleJSON, VerifyOptions{
				PublicKey:     tt.public,
				PredicateType: PredicateEvaluation,
				Artifacts:     []Artifact{{Name: "models/model.onnx", SHA256: digestA}, {Name: "tokenizer", SHA256: strings.ToUpper(digestB)}},
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !bytes.Equal(got.Raw, statement) {
				t.Errorf("verified bytes differ from the signed statement:\n%s\n%s", got.Raw, statement)
			}
			if got.PredicateType != PredicateEvaluation {
				t.Errorf("PredicateType = %q", got.PredicateType)
			}
			if diff := cmp.Diff(subjects, got.Subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
			if !bytes.Contains(statement, got.Predicate) || !bytes.HasPrefix(got.Predicate, []byte(`{"alpha":1,`)) {
				t.Errorf("Predicate is not the raw predicate of the statement: %s", got.Predicate)
			}
			if got.KeyID != wantID {
				t.Errorf("KeyID = %q, want %q", got.KeyID, wantID)
			}
		})
	}
}

func TestSignBundleShape(t *testing.T) {
	key := mustGenerateP256(t)
	statement, bundleJSON := signFixture(t, key)

	var b protobundle.Bundle
	if err := protojson.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatalf("bundle is not protojson: %v", err)
	}
	if b.GetMediaType() != BundleMediaType {
		t.Errorf("media type = %q, want %q", b.GetMediaType(), BundleMediaType)
	}
	envelope := b.GetDsseEnvelope()
	if envelope.GetPayloadType() != PayloadType {
		t.Errorf("payload type = %q, want %q", envelope.GetPayloadType(), PayloadType)
	}
	if !bytes.Equal(envelope.GetPayload(), statement) {
		t.Errorf("payload differs from the statement")
	}
	if n := len(envelope.GetSignatures()); n != 1 {
		t.Errorf("%d signatures, want 1", n)
	}
	wantID, err := KeyID(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if hint := b.GetVerificationMaterial().GetPublicKey().GetHint(); hint != wantID {
		t.Errorf("public key hint = %q, want %q", hint, wantID)
	}
	if b.GetVerificationMaterial().GetTlogEntries() != nil || b.GetVerificationMaterial().GetTimestampVerificationData() != nil {
		t.Errorf("key-signed bundle has log entries or timestamps")
	}
	canonical, err := canonicalJSON(bundleJSON)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, bundleJSON) {
		t.Errorf("bundle JSON is not in canonical form")
	}
}

func TestSignRejectsInvalidStatement(t *testing.T) {
	signer, err := NewKeySigner(mustGenerateP256(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sign(t.Context(), []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), signer)
	if !errors.Is(err, ErrStatement) {
		t.Errorf("Sign error %v, want ErrStatement", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	key := mustGenerateP256(t)
	_, bundleJSON := signFixture(t, key)
	other := mustGenerateP256(t)

	otherType, err := NewStatement([]Subject{{Name: "m", Digest: map[string]string{"sha256": digestA}}}, PredicateTestResult, map[string]any{"result": "PASSED"})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	otherTypeBundle, err := Sign(t.Context(), otherType, signer)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		bundle      []byte
		opts        VerifyOptions
		wantErr     error
		wantMessage string
	}{
		{
			name:        "wrong key",
			bundle:      bundleJSON,
			opts:        VerifyOptions{PublicKey: &other.PublicKey},
			wantErr:     ErrSignature,
			wantMessage: "signature does not verify with the given public key",
		},
		{
			name: "payload byte changed",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.GetDsseEnvelope().Payload = bytes.Replace(b.GetDsseEnvelope().Payload, []byte(`"alpha":1`), []byte(`"alpha":2`), 1)
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrSignature,
			wantMessage: "signature does not verify",
		},
		{
			name: "signature byte changed",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.GetDsseEnvelope().Signatures[0].Sig[10] ^= 0x01
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrSignature,
			wantMessage: "signature does not verify",
		},
		{
			name: "payload type changed",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.GetDsseEnvelope().PayloadType = "application/vnd.in-toto+jsom"
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrSignature,
			wantMessage: "signature does not verify",
		},
		{
			name:        "artifact matches no subject",
			bundle:      bundleJSON,
			opts:        VerifyOptions{PublicKey: &key.PublicKey, Artifacts: []Artifact{{Name: "models/model.onnx", SHA256: digestA}, {Name: "models/other.onnx", SHA256: strings.Repeat("ab", 32)}}},
			wantErr:     ErrSubjectMismatch,
			wantMessage: "artifact models/other.onnx (sha256 " + strings.Repeat("ab", 32) + ") matches no subject of the statement",
		},
		{
			name:        "other predicate type",
			bundle:      otherTypeBundle,
			opts:        VerifyOptions{PublicKey: &key.PublicKey, PredicateType: PredicateEvaluation},
			wantErr:     ErrPredicateType,
			wantMessage: `statement has predicate type "https://in-toto.io/attestation/test-result/v0.1"; want "https://auditpack.dev/attestation/evaluation/v1"`,
		},
		{
			name:        "malformed JSON",
			bundle:      bundleJSON[:len(bundleJSON)/2],
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrBundleFormat,
			wantMessage: "reading Sigstore bundle",
		},
		{
			name:        "not a bundle",
			bundle:      []byte(`{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}`),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrBundleFormat,
			wantMessage: "reading Sigstore bundle",
		},
		{
			name: "unknown media type",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.MediaType = "application/vnd.dev.sigstore.bundle.v0.4+json"
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrBundleFormat,
			wantMessage: "not yet supported",
		},
		{
			name: "message signature",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
					MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: make([]byte, 32)},
					Signature:     []byte{1},
				}}
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrBundleFormat,
			wantMessage: "not a DSSE envelope",
		},
		{
			name: "two signatures",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				env := b.GetDsseEnvelope()
				env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: env.Signatures[0].Sig})
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrBundleFormat,
			wantMessage: "2 signatures",
		},
		{
			name: "certificate instead of key",
			bundle: editBundle(t, bundleJSON, func(b *protobundle.Bundle) {
				b.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: []byte{1}}}
			}),
			opts:        VerifyOptions{PublicKey: &key.PublicKey},
			wantErr:     ErrVerification,
			wantMessage: "not a key; verify it with a trusted root",
		},
		{
			name:        "no public key",
			bundle:      bundleJSON,
			opts:        VerifyOptions{},
			wantErr:     ErrKey,
			wantMessage: "nothing to verify with",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(t.Context(), tt.bundle, tt.opts)
			if err == nil {
				t.Fatalf("Verify succeeded with statement %s", got.Raw)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
		})
	}
}

func TestVerifyReportsUnmatchedArtifacts(t *testing.T) {
	key := mustGenerateP256(t)
	_, bundleJSON := signFixture(t, key)
	missing := []Artifact{
		{Name: "a.bin", SHA256: strings.Repeat("01", 32)},
		{Name: "b.bin", SHA256: strings.Repeat("02", 32)},
	}

	_, err := Verify(t.Context(), bundleJSON, VerifyOptions{
		PublicKey: &key.PublicKey,
		Artifacts: append([]Artifact{{Name: "models/model.onnx", SHA256: digestA}}, missing...),
	})
	var mismatch *SubjectMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("error %v is not a *SubjectMismatchError", err)
	}
	if diff := cmp.Diff(missing, mismatch.Unmatched); diff != "" {
		t.Errorf("unmatched artifacts (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrVerification) {
		t.Errorf("error %v does not wrap ErrVerification", err)
	}
}

func TestVerifyAcceptsOlderMediaTypes(t *testing.T) {
	key := mustGenerateP256(t)
	statement, bundleJSON := signFixture(t, key)

	for _, mediaType := range []string{
		"application/vnd.dev.sigstore.bundle+json;version=0.1",
		"application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle+json;version=0.3",
		"application/vnd.dev.sigstore.bundle.v0.3+json",
	} {
		t.Run(mediaType, func(t *testing.T) {
			edited := editBundle(t, bundleJSON, func(b *protobundle.Bundle) { b.MediaType = mediaType })
			got, err := Verify(t.Context(), edited, VerifyOptions{PublicKey: &key.PublicKey})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !bytes.Equal(got.Raw, statement) {
				t.Errorf("verified bytes differ from the signed statement")
			}
		})
	}
}

func TestVerifyRejectsSignedNonStatement(t *testing.T) {
	key := mustGenerateP256(t)
	signer, err := NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	keypair, err := signer.Keypair(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		payloadType string
		payload     string
		wantMessage string
	}{
		{"other payload type", "text/plain", "hello", `DSSE payload type is "text/plain"`},
		{"payload not a statement", PayloadType, `{"_type":"https://in-toto.io/Statement/v1","subject":[]}`, "signed payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundleJSON := signRaw(t, keypair, tt.payloadType, []byte(tt.payload))
			_, err := Verify(t.Context(), bundleJSON, VerifyOptions{PublicKey: &key.PublicKey})
			if !errors.Is(err, ErrVerification) || !errors.Is(err, ErrStatement) {
				t.Fatalf("error %v, want ErrVerification and ErrStatement", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
		})
	}
}

func TestVerifyCanceledContext(t *testing.T) {
	key := mustGenerateP256(t)
	_, bundleJSON := signFixture(t, key)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Verify(ctx, bundleJSON, VerifyOptions{PublicKey: &key.PublicKey}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
