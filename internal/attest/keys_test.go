package attest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

func mustGenerateP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pemBlock(blockType string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
}

func mustPKCS8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustPKIX(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// mustCosignEncrypted encrypts a PKCS#8 key as sigstore's cryptoutils (used
// by cosign) does: go-securesystemslib's scrypt and secretbox, JSON in PEM.
func mustCosignEncrypted(t *testing.T, key *ecdsa.PrivateKey, blockType string, password string) []byte {
	t.Helper()
	body, err := encrypted.Encrypt(mustPKCS8(t, key), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock(blockType, body)
}

func TestParsePrivateKey(t *testing.T) {
	key := mustGenerateP256(t)
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecParams := pemBlock("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	tests := []struct {
		name        string
		pem         []byte
		password    string
		wantErr     error
		wantMessage string
	}{
		{name: "PKCS#8", pem: pemBlock("PRIVATE KEY", mustPKCS8(t, key))},
		{name: "SEC 1", pem: pemBlock("EC PRIVATE KEY", sec1)},
		{name: "SEC 1 after EC parameters", pem: append(ecParams, pemBlock("EC PRIVATE KEY", sec1)...)},
		{name: "sigstore encrypted", pem: mustCosignEncrypted(t, key, "ENCRYPTED SIGSTORE PRIVATE KEY", "s3cret"), password: "s3cret"},
		{name: "cosign encrypted", pem: mustCosignEncrypted(t, key, "ENCRYPTED COSIGN PRIVATE KEY", "s3cret"), password: "s3cret"},
		{name: "encrypted with empty password", pem: mustCosignEncrypted(t, key, "ENCRYPTED SIGSTORE PRIVATE KEY", ""), password: ""},
		{name: "encrypted wrong password", pem: mustCosignEncrypted(t, key, "ENCRYPTED SIGSTORE PRIVATE KEY", "s3cret"), password: "guess", wantErr: ErrPassword, wantMessage: "password does not decrypt"},
		{name: "encrypted no password", pem: mustCosignEncrypted(t, key, "ENCRYPTED SIGSTORE PRIVATE KEY", "s3cret"), wantErr: ErrPassword, wantMessage: "the private key is encrypted and COSIGN_PASSWORD is not set"},
		{name: "encrypted body not JSON", pem: pemBlock("ENCRYPTED SIGSTORE PRIVATE KEY", []byte("garbage")), wantErr: ErrKey, wantMessage: "not the JSON that cosign writes"},
		{name: "P-384", pem: pemBlock("PRIVATE KEY", mustPKCS8(t, p384)), wantErr: ErrKey, wantMessage: "curve P-384"},
		{name: "RSA", pem: pemBlock("PRIVATE KEY", mustPKCS8(t, rsaKey)), wantErr: ErrKey, wantMessage: "an RSA key"},
		{name: "Ed25519", pem: pemBlock("PRIVATE KEY", mustPKCS8(t, edKey)), wantErr: ErrKey, wantMessage: "an Ed25519 key"},
		{name: "public key", pem: pemBlock("PUBLIC KEY", mustPKIX(t, &key.PublicKey)), wantErr: ErrKey, wantMessage: "public key, not a private key"},
		{name: "certificate", pem: pemBlock("CERTIFICATE", []byte{1}), wantErr: ErrKey, wantMessage: `PEM block "CERTIFICATE" is not a supported private key`},
		{name: "PKCS#8 encrypted", pem: pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}), wantErr: ErrKey, wantMessage: "not supported"},
		{name: "corrupt DER", pem: pemBlock("PRIVATE KEY", []byte{1, 2, 3}), wantErr: ErrKey, wantMessage: "parsing PRIVATE KEY block"},
		{name: "not PEM", pem: []byte("hello"), wantErr: ErrKey, wantMessage: "no PEM key block found"},
		{name: "empty", pem: nil, wantErr: ErrKey, wantMessage: "no PEM key block found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tt.pem, []byte(tt.password))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMessage) {
					t.Errorf("error %q does not contain %q", err, tt.wantMessage)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !got.Equal(key) {
				t.Errorf("parsed key differs from the generated key")
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	key := mustGenerateP256(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPublic, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		pem         []byte
		wantMessage string
	}{
		{name: "P-256", pem: pemBlock("PUBLIC KEY", mustPKIX(t, &key.PublicKey))},
		{name: "P-384", pem: pemBlock("PUBLIC KEY", mustPKIX(t, &p384.PublicKey)), wantMessage: "curve P-384"},
		{name: "Ed25519", pem: pemBlock("PUBLIC KEY", mustPKIX(t, edPublic)), wantMessage: "an Ed25519 key"},
		{name: "private key", pem: pemBlock("PRIVATE KEY", mustPKCS8(t, key)), wantMessage: `PEM block is "PRIVATE KEY"; want PUBLIC KEY`},
		{name: "corrupt DER", pem: pemBlock("PUBLIC KEY", []byte{1}), wantMessage: "parsing PUBLIC KEY block"},
		{name: "not PEM", pem: []byte("ssh-ed25519 AAAA"), wantMessage: "no PEM key block found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.pem)
			if tt.wantMessage != "" {
				if !errors.Is(err, ErrKey) {
					t.Fatalf("error %v, want ErrKey", err)
				}
				if !strings.Contains(err.Error(), tt.wantMessage) {
					t.Errorf("error %q does not contain %q", err, tt.wantMessage)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if !got.Equal(&key.PublicKey) {
				t.Errorf("parsed key differs from the generated key")
			}
		})
	}
}

func TestLoadKeyErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.key")

	tests := []struct {
		name string
		load func() error
		path string
	}{
		{"private bad", func() error { _, err := LoadPrivateKey(bad, nil); return err }, bad},
		{"private missing", func() error { _, err := LoadPrivateKey(missing, nil); return err }, missing},
		{"public bad", func() error { _, err := LoadPublicKey(bad); return err }, bad},
		{"public missing", func() error { _, err := LoadPublicKey(missing); return err }, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()
			if err == nil {
				t.Fatal("load succeeded")
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name %s", err, tt.path)
			}
		})
	}
}

func TestDemoKeyPair(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "demo", "keys")
	private, err := LoadPrivateKey(filepath.Join(dir, "cosign.key"), nil)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	public, err := LoadPublicKey(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if !public.Equal(&private.PublicKey) {
		t.Errorf("cosign.pub is not the public key of cosign.key")
	}
}

func TestKeyID(t *testing.T) {
	key := mustGenerateP256(t)
	id, err := KeyID(&key.PublicKey)
	if err != nil {
		t.Fatalf("KeyID: %v", err)
	}
	if !isSHA256Hex(id) {
		t.Errorf("KeyID = %q, want 64 lowercase hex digits", id)
	}
	other, err := KeyID(&mustGenerateP256(t).PublicKey)
	if err != nil {
		t.Fatalf("KeyID: %v", err)
	}
	if id == other {
		t.Errorf("two keys have the same id %s", id)
	}
}
