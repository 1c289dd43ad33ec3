// Package attest builds in-toto statements, signs them into Sigstore
// bundles, and verifies such bundles.
//
// # Statements
//
// NewStatement builds an in-toto Statement v1
// (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
// with the Go bindings of github.com/in-toto/attestation and serializes it
// once with protojson. protojson varies its whitespace between builds on
// purpose, so the output is then re-encoded in this package's canonical
// form: compact JSON, object keys sorted by their bytes, characters such as
// <, > and & not escaped, numbers as protojson wrote them, and no trailing
// newline. Those bytes are what gets signed and stored, and nothing
// re-encodes them afterwards.
//
// # Signed form
//
// Sign puts the statement bytes, unchanged, in a DSSE envelope of payload
// type application/vnd.in-toto+json inside a Sigstore bundle
// (application/vnd.dev.sigstore.bundle.v0.3+json), written as compact JSON
// with sorted keys to a file ending in BundleExtension. A key-signed bundle
// carries the public key's KeyID as hint and no certificate, transparency
// log entry or timestamp. cosign v2.6.5 verifies it with
// `cosign verify-blob-attestation --key cosign.pub --bundle FILE
// --new-bundle-format --insecure-ignore-tlog --trusted-root ROOT --type
// PREDICATE_TYPE ARTIFACT` (test/sigstore/interop.sh runs it). A
// KeylessSigner signs with an ephemeral key and a Fulcio certificate,
// records each signature in Rekor (v1 or v2) and can add RFC 3161
// timestamps.
//
// # Unsigned form
//
// With signing turned off, the statement bytes are stored as they are, with
// no envelope, in a file ending in UnsignedExtension (WriteUnsigned).
// ParseStatement reads such a file. Nothing vouches for it: anyone who can
// write the file can change it.
//
// # Verification
//
// Verify checks a bundle against a public key, or against a trusted root
// and an Identity for keyless bundles, and returns the statement bytes
// exactly as signed, parsed from the verified DSSE payload. Every
// rejection wraps ErrVerification and a more specific sentinel
// (ErrBundleFormat, ErrSignature, ErrCertificateChain, ErrCertificateTime,
// ErrIdentityMismatch, ErrIssuerMismatch, ErrTransparencyLog, ErrTimestamp,
// ErrPredicateType, ErrSubjectMismatch, ErrStatement), which Cause names
// for machines; errors about keys wrap ErrKey.
package attest

import (
	"fmt"
	"io"
)

const (
	// BundleExtension is the file name suffix of a Sigstore bundle.
	BundleExtension = ".sigstore.json"
	// UnsignedExtension is the file name suffix of an unsigned statement.
	UnsignedExtension = ".intoto.json"
)

// WriteUnsigned checks statement with ParseStatement and writes its bytes,
// unchanged, to w: the unsigned form of an attestation.
func WriteUnsigned(w io.Writer, statement []byte) error {
	if _, err := ParseStatement(statement); err != nil {
		return err
	}
	if _, err := w.Write(statement); err != nil {
		return fmt.Errorf("writing unsigned statement: %w", err)
	}
	return nil
}
