package modelsign

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/auditpack/auditpack/internal/attest"
)

// PublicKeyHint returns the hint model_signing expects in a key-signed
// bundle: the lowercase hex SHA-256 of the key's PEM SubjectPublicKeyInfo.
func PublicKeyHint(key crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return hex.EncodeToString(sum[:]), nil
}

// Signer wraps s so that its key-signed bundles carry the public key hint
// model_signing checks (see [PublicKeyHint]). Everything else is s's.
func Signer(s attest.Signer) attest.Signer {
	return hintSigner{inner: s}
}

type hintSigner struct {
	inner attest.Signer
}

func (h hintSigner) Keypair(ctx context.Context) (sign.Keypair, error) {
	kp, err := h.inner.Keypair(ctx)
	if err != nil {
		return nil, err
	}
	hint, err := PublicKeyHint(kp.GetPublicKey())
	if err != nil {
		return nil, err
	}
	return hintKeypair{Keypair: kp, hint: hint}, nil
}

func (h hintSigner) BundleOptions(ctx context.Context) (sign.BundleOptions, error) {
	return h.inner.BundleOptions(ctx)
}

// hintKeypair replaces the hint of the key pair it embeds.
type hintKeypair struct {
	sign.Keypair
	hint string
}

func (k hintKeypair) GetHint() []byte { return []byte(k.hint) }
