package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verifyKeyless checks a certificate-signed entity (a bundle, or a test
// entity of sigstore-go's virtual Sigstore) against opts.TrustedMaterial
// and opts.Identity; see Verify for the steps.
func verifyKeyless(entity verify.SignedEntity, opts VerifyOptions) (*Verified, error) {
	content, err := entity.VerificationContent()
	if err != nil {
		return nil, failure(err, "reading the bundle's verification material", ErrBundleFormat)
	}
	leaf := content.Certificate()
	if leaf == nil {
		return nil, failure(nil, "bundle carries no signing certificate", ErrCertificateChain)
	}
	signatureContent, err := entity.SignatureContent()
	if err != nil {
		return nil, failure(err, "reading the bundle's signature", ErrBundleFormat)
	}
	envelopeContent := signatureContent.EnvelopeContent()
	if envelopeContent == nil {
		return nil, failure(nil, "bundle holds a message signature, not a DSSE envelope with a statement", ErrBundleFormat)
	}
	envelope := envelopeContent.RawEnvelope()
	if len(envelope.Signatures) != 1 {
		return nil, failure(nil, fmt.Sprintf("DSSE envelope has %d signatures; a Sigstore bundle must have exactly 1", len(envelope.Signatures)), ErrBundleFormat)
	}
	payload, err := base64.StdEncoding.DecodeString(envelope.Payload)
	if err != nil {
		return nil, failure(err, "decoding the DSSE payload", ErrBundleFormat)
	}
	sig, err := base64.StdEncoding.DecodeString(envelope.Signatures[0].Sig)
	if err != nil {
		return nil, failure(err, "decoding the DSSE signature", ErrBundleFormat)
	}

	// DSSE signature over the PAE with the certificate's key, before
	// anything else looks at the payload. Keys other than ECDSA are left
	// to sigstore-go's check below.
	if key, ok := leaf.PublicKey.(*ecdsa.PublicKey); ok {
		if !verifyDSSEWithHash(key, curveHash(key.Curve), envelope.PayloadType, payload, sig) {
			return nil, failure(nil, "signature does not verify with the key of the bundle's certificate", ErrSignature)
		}
	}
	if envelope.PayloadType != PayloadType {
		return nil, failure(nil, fmt.Sprintf("DSSE payload type is %q; want %q", envelope.PayloadType, PayloadType), ErrVerification, ErrStatement)
	}

	// sigstore-go: log entries, signing times, the chain at each time,
	// the SCT and the signature. The identity is matched afterwards, so
	// that a mismatch names the field and the value found.
	verifierOpts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	if opts.TransparencyLogThreshold > 0 {
		verifierOpts = append(verifierOpts, verify.WithTransparencyLog(opts.TransparencyLogThreshold))
	}
	if opts.TimestampThreshold > 0 {
		verifierOpts = append(verifierOpts, verify.WithSignedTimestamps(opts.TimestampThreshold))
	}
	if !opts.WithoutSCT && len(opts.TrustedMaterial.CTLogs()) > 0 {
		verifierOpts = append(verifierOpts, verify.WithSignedCertificateTimestamps(1))
	}
	verifier, err := verify.NewVerifier(opts.TrustedMaterial, verifierOpts...)
	if err != nil {
		return nil, fmt.Errorf("configuring sigstore-go verifier: %w", err)
	}
	result, err := verifier.Verify(entity, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		if noTimestampAuthority(entity, opts, err) {
			return nil, failure(nil, timestampAuthorityMessage(opts), ErrTimestamp)
		}
		return nil, classify(err, leaf, opts)
	}
	if result.Signature == nil || result.Signature.Certificate == nil {
		return nil, failure(nil, "sigstore-go verified no certificate", ErrCertificateChain)
	}

	if err := opts.Identity.Match(*result.Signature.Certificate); err != nil {
		return nil, err
	}

	statement, err := checkStatement(payload, opts)
	if err != nil {
		return nil, err
	}
	verified := &Verified{Statement: *statement, Certificate: result.Signature.Certificate}
	for _, ts := range result.VerifiedTimestamps {
		verified.SignedAt = append(verified.SignedAt, ts.Timestamp.UTC())
	}
	if entries, err := entity.TlogEntries(); err == nil && opts.TransparencyLogThreshold > 0 {
		verified.LogEntries = len(entries)
	}
	return verified, nil
}

// classify maps an error of sigstore-go's Verify to this package's
// sentinels, with a message free of printed nil errors (tidy).
//
// NOTE: sigstore-go v1.3.0 reports its steps only through the message
// prefixes matched here ("failed to verify log inclusion", …); an
// unrecognized message still wraps ErrVerification.
func classify(err error, leaf *x509.Certificate, opts VerifyOptions) error {
	msg := err.Error()
	tidied := tidy(err)
	switch {
	case strings.Contains(msg, "outside certificate validity"):
		// The log's check of its integrated time against the certificate.
		return failure(tidied, fmt.Sprintf("the certificate was not valid when the signature was logged (valid from %s to %s)",
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339)), ErrCertificateTime)
	case strings.HasPrefix(msg, "failed to verify log inclusion"):
		return failure(tidied, "transparency log", ErrTransparencyLog)
	case strings.HasPrefix(msg, "failed to verify timestamps"):
		return failure(timestampError(err), "signing time", ErrTimestamp)
	case strings.HasPrefix(msg, "failed to verify leaf certificate"):
		if chainsAtSomeTime(leaf, opts) {
			return failure(nil, fmt.Sprintf("the certificate chains to a trusted authority but was not valid when the signature was made (valid from %s to %s)",
				leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339)), ErrCertificateTime)
		}
		return failure(tidied, "the certificate does not chain to a certificate authority of the trusted root", ErrCertificateChain)
	case strings.HasPrefix(msg, "failed to verify signed certificate timestamp"):
		return failure(tidied, "the certificate has no valid SCT from a CT log of the trusted root", ErrCertificateChain)
	case strings.HasPrefix(msg, "failed to verify signature"):
		return failure(tidied, "signature", ErrSignature)
	}
	return failure(tidied, "sigstore-go rejected the bundle", ErrVerification)
}

// noJoinedError is the text fmt prints for a %w verb given a nil error.
// sigstore-go v1.3.0 wraps errors.Join of an empty list in some messages
// ("…; error: %!w(<nil>)"), when nothing but a count explains the failure.
const noJoinedError = "%!w(<nil>)"

// sigstoreMessage is an error of sigstore-go with a message of its own.
type sigstoreMessage struct {
	msg string
	err error
}

func (e *sigstoreMessage) Error() string { return e.msg }
func (e *sigstoreMessage) Unwrap() error { return e.err }

// tidy returns err with every printed nil error removed from its message,
// keeping err in the chain.
func tidy(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, noJoinedError) {
		return err
	}
	for _, artifact := range []string{"; error: " + noJoinedError, ": " + noJoinedError, noJoinedError} {
		msg = strings.ReplaceAll(msg, artifact, "")
	}
	return &sigstoreMessage{msg: msg, err: err}
}

// timestampThreshold matches the message of sigstore-go v1.3.0 for too
// few verified signing times: the kind of timestamps counted, the count,
// the required count, and the errors of the timestamps that did not
// verify.
var timestampThreshold = regexp.MustCompile(`(?s)threshold not met for verified (signed|signed & log entry integrated) timestamps: (\d+) < (\d+)(?:; error: (.*))?$`)

// timestampError restates sigstore-go's failure to verify enough signing
// times in words of this package, keeping err in the chain.
func timestampError(err error) error {
	m := timestampThreshold.FindStringSubmatch(err.Error())
	if m == nil {
		return tidy(err)
	}
	found, required, rejected := m[2], m[3], m[4]
	var msg string
	if m[1] == "signed" {
		msg = fmt.Sprintf("%s verified RFC 3161 timestamp(s) from a timestamp authority of the trusted root, fewer than the timestamp threshold of %s", found, required)
	} else {
		msg = fmt.Sprintf("no verified signing time (%s found, %s required): the bundle needs an RFC 3161 timestamp from a timestamp authority of the trusted root, or a transparency log entry that records when it was logged", found, required)
	}
	if rejected != "" && rejected != noJoinedError {
		msg += "; timestamps that did not verify: " + rejected
	}
	return &sigstoreMessage{msg: msg, err: err}
}

// noTimestampAuthority reports whether err is the failure to verify the
// entity's RFC 3161 timestamps against a trusted root that lists no
// timestamp authority. sigstore-go v1.3.0 reports that case as "unable to
// verify signed timestamps: %!w(<nil>)", because it wraps the empty join of
// the per-authority errors.
func noTimestampAuthority(entity verify.SignedEntity, opts VerifyOptions, err error) bool {
	if len(opts.TrustedMaterial.TimestampingAuthorities()) > 0 || !strings.HasPrefix(err.Error(), "failed to verify timestamps") {
		return false
	}
	timestamps, tsErr := entity.Timestamps()
	return tsErr == nil && len(timestamps) > 0
}

// timestampAuthorityMessage explains a bundle whose timestamps cannot be
// verified because the trusted root lists no timestamp authority.
func timestampAuthorityMessage(opts VerifyOptions) string {
	msg := "the trusted root lists no timestamp authority, so the bundle's signed timestamps cannot be verified: use a trusted root that includes the TSA that timestamped the bundle"
	if opts.TimestampThreshold > 0 {
		// Without the requirement, a Rekor v1 entry's integrated time can
		// still establish the signing time.
		msg += ", or a timestamp threshold of 0 (verify --timestamp-threshold 0) when the bundle's log entries record the signing time"
	}
	return msg
}

// chainsAtSomeTime reports whether leaf chains to a trusted certificate
// authority at a moment inside its own validity period, which tells a
// certificate used outside its validity from an untrusted one.
func chainsAtSomeTime(leaf *x509.Certificate, opts VerifyOptions) bool {
	at := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	for _, ca := range opts.TrustedMaterial.FulcioCertificateAuthorities() {
		if _, err := ca.Verify(leaf, at); err == nil {
			return true
		}
	}
	return false
}

// curveHash returns the hash ECDSA signatures on curve use in Sigstore.
func curveHash(curve elliptic.Curve) crypto.Hash {
	switch curve {
	case elliptic.P384():
		return crypto.SHA384
	case elliptic.P521():
		return crypto.SHA512
	default:
		return crypto.SHA256
	}
}
