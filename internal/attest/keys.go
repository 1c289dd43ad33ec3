package attest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PEM block types of the private keys ParsePrivateKey reads.
const (
	pemPKCS8             = "PRIVATE KEY"
	pemSEC1              = "EC PRIVATE KEY"
	pemECParameters      = "EC PARAMETERS"
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
	pemPublicKey         = "PUBLIC KEY"
)

// LoadPrivateKey reads an ECDSA P-256 private key from a PEM file; see
// ParsePrivateKey for the formats. Errors name the file.
func LoadPrivateKey(path string, password []byte) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	key, err := ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("private key %q: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKey parses an ECDSA P-256 private key from PEM: PKCS#8
// ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY", optionally after an
// "EC PARAMETERS" block, as openssl ecparam writes it), or a cosign
// encrypted key ("ENCRYPTED SIGSTORE PRIVATE KEY" or "ENCRYPTED COSIGN
// PRIVATE KEY": scrypt and NaCl secretbox around PKCS#8). password is used
// only for an encrypted key, and nil means the empty password. Errors wrap
// ErrKey, and a password that does not decrypt the key gives ErrPassword.
func ParsePrivateKey(data []byte, password []byte) (*ecdsa.PrivateKey, error) {
	block, err := firstKeyBlock(data)
	if err != nil {
		return nil, err
	}

	var parsed any
	switch block.Type {
	case pemPKCS8:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case pemSEC1:
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case pemEncryptedSigstore, pemEncryptedCosign:
		parsed, err = decryptCosignKey(block.Bytes, password)
		if err != nil {
			return nil, err
		}
	case pemPublicKey:
		return nil, failure(nil, "file contains a public key, not a private key", ErrKey)
	case "ENCRYPTED PRIVATE KEY":
		return nil, failure(nil, "PKCS#8 password-encrypted keys are not supported; use a cosign encrypted key or decrypt it with `openssl pkcs8 -topk8 -nocrypt`", ErrKey)
	default:
		return nil, failure(nil, fmt.Sprintf("PEM block %q is not a supported private key (want PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY)", block.Type), ErrKey)
	}
	if err != nil {
		return nil, failure(err, fmt.Sprintf("parsing %s block", block.Type), ErrKey)
	}

	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, failure(nil, fmt.Sprintf("key is %s; auditpack signs with ECDSA P-256 keys only", keyKind(parsed)), ErrKey)
	}
	if err := checkCurve(&key.PublicKey); err != nil {
		return nil, err
	}
	return key, nil
}

// decryptCosignKey decrypts the JSON body of a cosign encrypted key and
// parses the PKCS#8 key inside.
func decryptCosignKey(body, password []byte) (any, error) {
	if !json.Valid(body) {
		return nil, failure(nil, "encrypted key body is not the JSON that cosign writes", ErrKey)
	}
	der, err := encrypted.Decrypt(body, password)
	if err != nil {
		// NOTE: go-securesystemslib v0.11.0 signals a failed secretbox
		// open only through this message text.
		switch {
		case strings.Contains(err.Error(), "decryption failed") && len(password) == 0:
			return nil, failure(nil, "the private key is encrypted and COSIGN_PASSWORD is not set: set COSIGN_PASSWORD to the key's password", ErrPassword)
		case strings.Contains(err.Error(), "decryption failed"):
			return nil, failure(nil, "the password does not decrypt the encrypted private key: check COSIGN_PASSWORD", ErrPassword)
		}
		return nil, failure(err, "decrypting private key", ErrKey)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, failure(err, "parsing decrypted PKCS#8 key", ErrKey)
	}
	return parsed, nil
}

// LoadPublicKey reads an ECDSA P-256 public key from a PEM "PUBLIC KEY"
// file. Errors name the file.
func LoadPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	key, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %q: %w", path, err)
	}
	return key, nil
}

// ParsePublicKey parses an ECDSA P-256 public key from a PEM "PUBLIC KEY"
// block (PKIX, as cosign writes cosign.pub). Errors wrap ErrKey.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	block, err := firstKeyBlock(data)
	if err != nil {
		return nil, err
	}
	if block.Type != pemPublicKey {
		return nil, failure(nil, fmt.Sprintf("PEM block is %q; want PUBLIC KEY", block.Type), ErrKey)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, failure(err, "parsing PUBLIC KEY block", ErrKey)
	}
	key, ok := parsed.(*ecdsa.PublicKey)
	if !ok {
		return nil, failure(nil, fmt.Sprintf("key is %s; auditpack verifies ECDSA P-256 keys only", keyKind(parsed)), ErrKey)
	}
	if err := checkCurve(key); err != nil {
		return nil, err
	}
	return key, nil
}

// KeyID returns the identifier this package gives a public key: the
// lowercase hex SHA-256 of its PKIX DER encoding. Sign stores it as the
// bundle's public key hint.
func KeyID(key *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", failure(err, "encoding public key", ErrKey)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// firstKeyBlock returns the first PEM block of data that is not EC
// parameters.
func firstKeyBlock(data []byte) (*pem.Block, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, failure(nil, "no PEM key block found", ErrKey)
		}
		if block.Type != pemECParameters {
			return block, nil
		}
	}
}

// checkCurve rejects a key on a curve other than P-256.
func checkCurve(key *ecdsa.PublicKey) error {
	if key.Curve != elliptic.P256() {
		return failure(nil, fmt.Sprintf("key uses curve %s; auditpack supports ECDSA P-256 only", key.Curve.Params().Name), ErrKey)
	}
	return nil
}

// keyKind names the algorithm of a parsed key for error messages.
func keyKind(key any) string {
	switch key.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "an RSA key"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "an Ed25519 key"
	case *ecdh.PrivateKey, *ecdh.PublicKey:
		return "an X25519 key"
	default:
		return fmt.Sprintf("a %T", key)
	}
}
