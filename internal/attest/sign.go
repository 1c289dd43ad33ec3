package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// BundleMediaType is the media type of the bundles Sign writes.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Signer supplies what sigstore-go needs to sign a statement and to fill
// the bundle's verification material. A key-based signer returns its key
// and empty options. A keyless signer would return an ephemeral key and
// options naming Fulcio, Rekor and timestamp authorities, so callers of
// Sign do not change when one is added.
type Signer interface {
	// Keypair returns the key pair that signs the DSSE envelope.
	Keypair(ctx context.Context) (sign.Keypair, error)
	// BundleOptions returns the sigstore-go options for one signature:
	// certificate provider, transparency logs and timestamp authorities.
	// Sign sets their Context to its own.
	BundleOptions(ctx context.Context) (sign.BundleOptions, error)
}

// KeySigner signs with a long-lived ECDSA P-256 private key. Its bundles
// carry the key id as public key hint, and no certificate, transparency log
// entry or timestamp.
type KeySigner struct {
	keypair *keyPair
}

var _ Signer = (*KeySigner)(nil)

// NewKeySigner returns a Signer for key, which must be on curve P-256.
func NewKeySigner(key *ecdsa.PrivateKey) (*KeySigner, error) {
	if key == nil {
		return nil, failure(nil, "no private key given", ErrKey)
	}
	if err := checkCurve(&key.PublicKey); err != nil {
		return nil, err
	}
	id, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &KeySigner{keypair: &keyPair{key: key, id: id}}, nil
}

// KeyID returns the id of the signer's public key (see KeyID).
func (s *KeySigner) KeyID() string {
	return s.keypair.id
}

// Keypair returns the signer's key as a sigstore-go key pair.
func (s *KeySigner) Keypair(context.Context) (sign.Keypair, error) {
	return s.keypair, nil
}

// BundleOptions returns empty options: a key-signed bundle has no
// certificate, log entry or timestamp.
func (s *KeySigner) BundleOptions(context.Context) (sign.BundleOptions, error) {
	return sign.BundleOptions{}, nil
}

// keyPair implements sign.Keypair for an existing ECDSA P-256 key;
// sigstore-go's EphemeralKeypair always generates a new one.
type keyPair struct {
	key *ecdsa.PrivateKey
	id  string
}

var _ sign.Keypair = (*keyPair)(nil)

func (k *keyPair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keyPair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keyPair) GetHint() []byte {
	return []byte(k.id)
}

func (k *keyPair) GetKeyAlgorithm() string {
	return "ECDSA"
}

func (k *keyPair) GetPublicKey() crypto.PublicKey {
	return &k.key.PublicKey
}

func (k *keyPair) GetPublicKeyPem() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der})), nil
}

// SignData returns an ASN.1 ECDSA signature over the SHA-256 of data, and
// that digest. The signature is deterministic (RFC 6979), so that the same
// key and statement give a byte-identical bundle and a reproducible pack.
func (k *keyPair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	digest := sha256.Sum256(data)
	signature, err := k.key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("signing with ECDSA key %s: %w", k.id, err)
	}
	return signature, digest[:], nil
}

// Sign wraps statement, unchanged, in a DSSE envelope of type PayloadType,
// signs it with signer, and returns the Sigstore bundle (BundleMediaType)
// as compact JSON with sorted keys. statement must pass ParseStatement.
//
// With a KeySigner the bundle is deterministic: the same key and statement
// give the same bytes.
func Sign(ctx context.Context, statement []byte, signer Signer) ([]byte, error) {
	if _, err := ParseStatement(statement); err != nil {
		return nil, fmt.Errorf("checking statement to sign: %w", err)
	}

	keypair, err := signer.Keypair(ctx)
	if err != nil {
		return nil, fmt.Errorf("getting signing key: %w", err)
	}
	options, err := signer.BundleOptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("getting signing options: %w", err)
	}
	options.Context = ctx

	content := &sign.DSSEData{Data: statement, PayloadType: PayloadType}
	bundle, err := sign.Bundle(content, keypair, options)
	if err != nil {
		return nil, fmt.Errorf("signing statement: %w", err)
	}

	encoded, err := protojson.Marshal(bundle)
	if err != nil {
		return nil, fmt.Errorf("encoding bundle: %w", err)
	}
	return canonicalJSON(encoded)
}
