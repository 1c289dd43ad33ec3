package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Artifact is a file whose digest must match a subject of a statement.
type Artifact struct {
	// Name is how error messages refer to the artifact, usually its path.
	Name string
	// SHA256 is the artifact's SHA-256 digest in hex (either case).
	SHA256 string
}

// VerifyOptions sets what Verify trusts and requires. Exactly one of
// PublicKey (a key-signed bundle) and TrustedMaterial (a keyless bundle
// with a Fulcio certificate) must be set.
type VerifyOptions struct {
	// PublicKey is the ECDSA P-256 key a key-signed bundle must be signed
	// with.
	PublicKey *ecdsa.PublicKey

	// TrustedMaterial holds the certificate authorities, transparency
	// logs, CT logs and timestamp authorities that keyless bundles are
	// checked against: the public-good trusted root, or a
	// trusted_root.json file.
	TrustedMaterial root.TrustedMaterial
	// Identity is the signer the keyless certificate must certify; required
	// with TrustedMaterial.
	Identity Identity
	// TransparencyLogThreshold is the minimum number of verified
	// transparency log entries of a keyless bundle; 0 requires none.
	TransparencyLogThreshold int
	// TimestampThreshold is the minimum number of verified RFC 3161
	// timestamps of a keyless bundle; 0 requires none. With both
	// thresholds 0 the options are invalid, and either way the
	// certificate is checked at each verified signing time, of which
	// there must be at least one (a log integrated time or a timestamp).
	TimestampThreshold int
	// WithoutSCT skips the check of the certificate's signed certificate
	// timestamp. Otherwise one verified SCT is required whenever the
	// trusted material lists CT logs. Only tests set it, for sigstore-go's
	// virtual Sigstore, whose certificates carry no SCT.
	WithoutSCT bool

	// PredicateType, when not empty, must equal the statement's
	// predicateType. Empty accepts any predicate type.
	PredicateType string
	// Artifacts must each match a subject of the statement by SHA-256
	// digest. Empty skips the check, which leaves it to the caller.
	Artifacts []Artifact
}

// Keyless reports whether the options verify certificate-signed bundles.
func (o VerifyOptions) Keyless() bool {
	return o.TrustedMaterial != nil
}

// Validate reports a missing or unusable key or trusted material, an
// invalid identity or thresholds, a predicate type that is not an
// absolute URI, and artifacts without a valid SHA-256 digest.
func (o VerifyOptions) Validate() error {
	switch {
	case o.PublicKey == nil && o.TrustedMaterial == nil:
		return failure(nil, "nothing to verify with: give a public key, or a trusted root and the expected certificate identity for keyless bundles", ErrKey)
	case o.PublicKey != nil && o.TrustedMaterial != nil:
		return errors.New("both a public key and a trusted root are given; a bundle is either key-signed or keyless, so give one")
	case o.PublicKey != nil:
		if err := checkCurve(o.PublicKey); err != nil {
			return err
		}
	default:
		if err := o.Identity.Validate(); err != nil {
			return err
		}
		if o.TransparencyLogThreshold < 0 || o.TimestampThreshold < 0 {
			return errors.New("the transparency log and timestamp thresholds must not be negative")
		}
		if o.TransparencyLogThreshold == 0 && o.TimestampThreshold == 0 {
			return errors.New("a keyless bundle needs a transparency log entry or a timestamp: set a threshold of at least 1 for one of them")
		}
	}
	if o.PredicateType != "" {
		if err := checkPredicateType(o.PredicateType); err != nil {
			return fmt.Errorf("required predicate type: %w", err)
		}
	}
	for _, a := range o.Artifacts {
		if !isSHA256Hex(strings.ToLower(a.SHA256)) {
			return fmt.Errorf("artifact %s: sha256 %q is not 64 hex digits", a.Name, a.SHA256)
		}
	}
	return nil
}

// Verified is a statement whose signature Verify has checked.
type Verified struct {
	// Statement is the DSSE payload that was verified, parsed; its Raw
	// field holds the payload bytes exactly as signed.
	Statement
	// KeyID is the id (see KeyID) of the public key that verified a
	// key-signed bundle; empty for a keyless one.
	KeyID string
	// Certificate summarizes the verified certificate of a keyless
	// bundle: identity, issuer and the GitHub claims; nil for a
	// key-signed one.
	Certificate *certificate.Summary
	// SignedAt lists the verified times of signing of a keyless bundle
	// (log integrated times and RFC 3161 timestamps), in bundle order.
	SignedAt []time.Time
	// LogEntries is the number of transparency log entries verified.
	LogEntries int
}

// Verify checks a Sigstore bundle (media type v0.1, v0.2 or v0.3) holding a
// DSSE envelope, and returns the statement it carries.
//
// A key-signed bundle is checked against opts.PublicKey in these steps:
// bundle structure, the DSSE signature over the pre-authentication
// encoding (PAE), the payload type, sigstore-go's verification with a key
// policy and no observer timestamps, the statement itself, the predicate
// type, and the artifacts against the subjects.
//
// A keyless bundle is checked against opts.TrustedMaterial: bundle
// structure, the DSSE signature with the certificate's key, the payload
// type, then sigstore-go's verification (log entries, timestamps, the
// certificate chain at each signing time, the SCT, the signature again),
// the identity, and finally statement, predicate type and artifacts as
// above. The payload is parsed only after its signature verified, and
// only once.
//
// Errors for a rejected bundle wrap ErrVerification and one of its
// children (see Cause); bad options give ErrKey or a plain error.
//
// NOTE: key-signed bundles carry no trusted time, so any transparency log
// entry or timestamp in a key-signed bundle is ignored, and the key has no
// validity period.
func Verify(ctx context.Context, bundleJSON []byte, opts VerifyOptions) (*Verified, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("verify options: %w", err)
	}

	// Bundle structure: sigstore-go checks the media type and content,
	// then one DSSE envelope with one signature must be there.
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, failure(err, "reading Sigstore bundle", ErrBundleFormat)
	}
	envelope := b.GetDsseEnvelope()
	if envelope == nil {
		return nil, failure(nil, "bundle holds a message signature, not a DSSE envelope with a statement", ErrBundleFormat)
	}
	if n := len(envelope.GetSignatures()); n != 1 {
		return nil, failure(nil, fmt.Sprintf("DSSE envelope has %d signatures; a Sigstore bundle must have exactly 1", n), ErrBundleFormat)
	}

	if opts.Keyless() {
		if b.GetVerificationMaterial().GetPublicKey() != nil {
			return nil, failure(nil, "bundle is signed with a key, not a certificate; verify it with the public key", ErrCertificateChain)
		}
		return verifyKeyless(&b, opts)
	}

	hint := b.GetVerificationMaterial().GetPublicKey()
	if hint == nil {
		return nil, failure(nil, "bundle is signed with a certificate (keyless), not a key; verify it with a trusted root and the expected certificate identity", ErrVerification)
	}
	keyID, err := KeyID(opts.PublicKey)
	if err != nil {
		return nil, err
	}

	// DSSE signature over PAE(payloadType, payload). Checked here first so
	// that a bad signature is reported as such and not by sigstore-go's text.
	payload := envelope.GetPayload()
	if !verifyDSSE(opts.PublicKey, envelope.GetPayloadType(), payload, envelope.GetSignatures()[0].GetSig()) {
		msg := fmt.Sprintf("signature does not verify with the given public key %s", keyID)
		if hint.GetHint() != "" && hint.GetHint() != keyID {
			msg += fmt.Sprintf(" (the bundle names key %q)", hint.GetHint())
		}
		return nil, failure(nil, msg, ErrSignature)
	}

	// Payload type, covered by the signature just checked.
	if envelope.GetPayloadType() != PayloadType {
		return nil, failure(nil, fmt.Sprintf("DSSE payload type is %q; want %q", envelope.GetPayloadType(), PayloadType), ErrVerification, ErrStatement)
	}

	// sigstore-go's full verification, as a second and authoritative check.
	if err := verifyWithSigstore(&b, opts.PublicKey); err != nil {
		return nil, failure(err, "sigstore-go rejected the bundle", ErrVerification)
	}

	statement, err := checkStatement(payload, opts)
	if err != nil {
		return nil, err
	}
	return &Verified{Statement: *statement, KeyID: keyID}, nil
}

// checkStatement parses the verified payload bytes once, then checks the
// predicate type and the artifacts against the subjects.
func checkStatement(payload []byte, opts VerifyOptions) (*Statement, error) {
	statement, err := ParseStatement(payload)
	if err != nil {
		return nil, failure(err, "signed payload", ErrVerification)
	}
	if opts.PredicateType != "" && statement.PredicateType != opts.PredicateType {
		return nil, failure(nil, fmt.Sprintf("statement has predicate type %q; want %q", statement.PredicateType, opts.PredicateType), ErrPredicateType)
	}
	if err := MatchSubjects(statement.Subjects, opts.Artifacts); err != nil {
		return nil, err
	}
	return statement, nil
}

// verifyDSSE reports whether sig is a valid ECDSA P-256 signature by key
// over the DSSE pre-authentication encoding of payloadType and payload.
func verifyDSSE(key *ecdsa.PublicKey, payloadType string, payload, sig []byte) bool {
	return verifyDSSEWithHash(key, crypto.SHA256, payloadType, payload, sig)
}

// verifyDSSEWithHash is verifyDSSE with the digest algorithm as parameter.
func verifyDSSEWithHash(key *ecdsa.PublicKey, hash crypto.Hash, payloadType string, payload, sig []byte) bool {
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))
	pae = append(pae, payload...)
	h := hash.New()
	h.Write(pae)
	return ecdsa.VerifyASN1(key, h.Sum(nil), sig)
}

// verifyWithSigstore runs sigstore-go's verifier on a key-signed bundle.
// The subjects are matched afterwards by MatchSubjects, whose errors name
// the artifact, so sigstore-go is told to skip the artifact.
func verifyWithSigstore(b *bundle.Bundle, key *ecdsa.PublicKey) error {
	verifier, err := signature.LoadECDSAVerifier(key, crypto.SHA256)
	if err != nil {
		return fmt.Errorf("loading ECDSA verifier: %w", err)
	}
	trusted := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		// The caller's key is the only one trusted, whatever the hint says.
		return root.NewExpiringKey(verifier, time.Time{}, time.Time{}), nil
	})

	sev, err := verify.NewVerifier(trusted, verify.WithNoObserverTimestamps(), verify.WithoutStatementPredicate())
	if err != nil {
		return fmt.Errorf("configuring sigstore-go verifier: %w", err)
	}
	policy := verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())
	_, err = sev.Verify(b, policy)
	return err
}

// MatchSubjects checks that each artifact's SHA-256 digest equals the
// sha256 digest of some subject; names are not compared. It returns nil
// when all match, and otherwise a *SubjectMismatchError listing the others.
func MatchSubjects(subjects []Subject, artifacts []Artifact) error {
	known := make(map[string]bool, len(subjects))
	for _, s := range subjects {
		if d, ok := s.Digest["sha256"]; ok {
			known[strings.ToLower(d)] = true
		}
	}

	var unmatched []Artifact
	for _, a := range artifacts {
		if !known[strings.ToLower(a.SHA256)] {
			unmatched = append(unmatched, a)
		}
	}
	if len(unmatched) > 0 {
		return &SubjectMismatchError{Unmatched: unmatched}
	}
	return nil
}
