package attest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors about a key, a statement or a rejected bundle wrap
// one of them, so callers branch with errors.Is.
var (
	// ErrStatement marks an in-toto statement that is malformed or breaks
	// a rule of this package (see NewStatement and ParseStatement).
	ErrStatement = errors.New("invalid in-toto statement")

	// ErrKey marks a key that cannot be used: not PEM, not a key, not
	// ECDSA P-256, or encrypted with another password.
	ErrKey = errors.New("unusable key")
	// ErrPassword marks an encrypted private key that the given password
	// does not decrypt. It wraps ErrKey.
	ErrPassword = fmt.Errorf("%w: wrong password", ErrKey)

	// ErrVerification is the parent of every reason Verify rejects a
	// bundle.
	ErrVerification = errors.New("attestation verification failed")
	// ErrBundleFormat marks bundle JSON that is not a Sigstore bundle
	// carrying one DSSE envelope with one signature.
	ErrBundleFormat = fmt.Errorf("%w: malformed Sigstore bundle", ErrVerification)
	// ErrSignature marks a signature that does not verify.
	ErrSignature = fmt.Errorf("%w: invalid signature", ErrVerification)
	// ErrPredicateType marks a statement whose predicate type is not the
	// one the caller requires.
	ErrPredicateType = fmt.Errorf("%w: unexpected predicate type", ErrVerification)
	// ErrSubjectMismatch marks an artifact whose digest matches no subject
	// of the statement. Verify returns it as a *SubjectMismatchError.
	ErrSubjectMismatch = fmt.Errorf("%w: subject digest mismatch", ErrVerification)
	// ErrCertificateChain marks a signing certificate that does not chain
	// to a certificate authority of the trusted root, or lacks a valid
	// signed certificate timestamp from a trusted CT log.
	ErrCertificateChain = fmt.Errorf("%w: untrusted certificate chain", ErrVerification)
	// ErrCertificateTime marks a certificate that chains to a trusted
	// authority but was not valid at the time the signature was made, as
	// established by the log entry or the timestamps.
	ErrCertificateTime = fmt.Errorf("%w: certificate not valid at signing time", ErrVerification)
	// ErrIdentityMismatch marks a certificate whose subject alternative
	// name or GitHub claims differ from the required identity.
	ErrIdentityMismatch = fmt.Errorf("%w: certificate identity mismatch", ErrVerification)
	// ErrIssuerMismatch marks a certificate issued for another OIDC issuer.
	ErrIssuerMismatch = fmt.Errorf("%w: certificate OIDC issuer mismatch", ErrVerification)
	// ErrTransparencyLog marks a bundle with fewer verified transparency
	// log entries than required: missing, or not provably in a trusted log.
	ErrTransparencyLog = fmt.Errorf("%w: missing transparency log entry", ErrVerification)
	// ErrTimestamp marks a bundle with fewer verified signing times (RFC
	// 3161 timestamps, or log integrated times) than required.
	ErrTimestamp = fmt.Errorf("%w: missing trusted timestamp", ErrVerification)
)

// Cause returns a short, stable name for the most specific reason in err's
// chain, for machine-readable reports: "bad-signature",
// "untrusted-certificate-chain", "certificate-not-valid-at-signing-time",
// "identity-mismatch", "issuer-mismatch", "missing-log-entry",
// "missing-timestamp", "subject-digest-mismatch",
// "predicate-type-not-found", "malformed-bundle", "invalid-statement",
// "unusable-key", or "verification-failed". It returns "" for nil and for
// errors outside this package's tree.
func Cause(err error) string {
	if err == nil {
		return ""
	}
	causes := []struct {
		sentinel error
		name     string
	}{
		{ErrSignature, "bad-signature"},
		{ErrCertificateTime, "certificate-not-valid-at-signing-time"},
		{ErrCertificateChain, "untrusted-certificate-chain"},
		{ErrIssuerMismatch, "issuer-mismatch"},
		{ErrIdentityMismatch, "identity-mismatch"},
		{ErrTransparencyLog, "missing-log-entry"},
		{ErrTimestamp, "missing-timestamp"},
		{ErrSubjectMismatch, "subject-digest-mismatch"},
		{ErrPredicateType, "predicate-type-not-found"},
		{ErrBundleFormat, "malformed-bundle"},
		{ErrStatement, "invalid-statement"},
		{ErrKey, "unusable-key"},
		{ErrVerification, "verification-failed"},
	}
	for _, c := range causes {
		if errors.Is(err, c.sentinel) {
			return c.name
		}
	}
	return ""
}

// causeError is an error whose message is a plain sentence and whose chain
// contains one or more sentinels plus an optional underlying error.
type causeError struct {
	message string
	kinds   []error
	err     error
}

func (e *causeError) Error() string {
	if e.err == nil {
		return e.message
	}
	return e.message + ": " + e.err.Error()
}

func (e *causeError) Unwrap() []error {
	if e.err == nil {
		return e.kinds
	}
	return append(append([]error(nil), e.kinds...), e.err)
}

// failure returns an error reading message (and err, when not nil) that
// matches each of kinds with errors.Is.
func failure(err error, message string, kinds ...error) error {
	return &causeError{message: message, kinds: kinds, err: err}
}

// SubjectMismatchError lists the artifacts whose digest matches no subject
// of a statement. It matches ErrSubjectMismatch with errors.Is.
type SubjectMismatchError struct {
	// Unmatched holds each artifact without a matching subject, in the
	// order the caller gave them.
	Unmatched []Artifact
}

func (e *SubjectMismatchError) Error() string {
	parts := make([]string, len(e.Unmatched))
	for i, a := range e.Unmatched {
		parts[i] = fmt.Sprintf("artifact %s (sha256 %s) matches no subject of the statement", a.Name, a.SHA256)
	}
	return strings.Join(parts, "; ")
}

// Is reports whether target is ErrSubjectMismatch or one of its parents.
func (e *SubjectMismatchError) Is(target error) bool {
	return target == ErrSubjectMismatch || target == ErrVerification
}
