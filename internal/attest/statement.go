package attest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	// StatementType is the `_type` of every statement this package builds
	// and the only one it accepts.
	StatementType = intoto.StatementTypeUri
	// StatementTypeV01 is the `_type` of in-toto Statement v0.1, whose
	// fields are those of v1. ParseStatement accepts it, because cosign
	// (v2.6.5 and v3.1.3) writes it; this package never writes it.
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	// sigstore-go extracts statements only from envelopes of this type.
	PayloadType = "application/vnd.in-toto+json"
	// MaxSubjects is the largest number of subjects a statement may have,
	// the limit sigstore-go v1.3.0 enforces when it verifies subjects.
	MaxSubjects = 1024
)

// Predicate types this project writes.
const (
	// PredicateEvaluation is auditpack's own predicate: the evaluation
	// record (metrics, policy verdict and lineage) of a model.
	PredicateEvaluation = "https://auditpack.dev/attestation/evaluation/v1"
	// PredicateTestResult is the in-toto test-result predicate v0.1.
	PredicateTestResult = "https://in-toto.io/attestation/test-result/v0.1"
	// PredicateSLSAProvenance is the SLSA provenance predicate v1.
	PredicateSLSAProvenance = "https://slsa.dev/provenance/v1"
)

// Subject is an artifact a statement is about, identified by its digests.
type Subject struct {
	// Name is the artifact's path or name, for people. Matching uses the
	// digest only.
	Name string `json:"name"`
	// Digest maps an in-toto algorithm name ("sha256") to a lowercase hex
	// digest.
	Digest map[string]string `json:"digest"`
}

// Statement is a parsed in-toto Statement v1 together with its bytes.
type Statement struct {
	// Raw holds the statement bytes exactly as they were parsed (and, for a
	// verified statement, exactly as they were signed).
	Raw []byte
	// PredicateType is the statement's predicateType URI.
	PredicateType string
	// Subjects lists the statement's subjects in document order.
	Subjects []Subject
	// Predicate holds the predicate's JSON exactly as it appears in Raw.
	Predicate json.RawMessage
}

// NewStatement builds an in-toto Statement v1 and returns its canonical
// bytes: the exact bytes to sign and to store.
//
// The predicate is encoded with encoding/json and must encode as a JSON
// object. Each subject needs a non-empty, unique name and a sha256 digest
// of 64 lowercase hex digits. There must be between 1 and MaxSubjects
// subjects, and predicateType must be an absolute URI. Every problem found
// is reported at once, each wrapping ErrStatement.
//
// NOTE: the predicate passes through protobuf's Struct, which stores every
// number as a float64, so integers beyond 2^53 lose precision.
func NewStatement(subjects []Subject, predicateType string, predicate any) ([]byte, error) {
	if err := validateInputs(subjects, predicateType); err != nil {
		return nil, err
	}

	// Convert the predicate to a protobuf Struct through its JSON.
	predicateJSON, err := json.Marshal(predicate)
	if err != nil {
		return nil, failure(err, "encoding predicate as JSON", ErrStatement)
	}
	predicateStruct := &structpb.Struct{}
	if err := protojson.Unmarshal(predicateJSON, predicateStruct); err != nil {
		return nil, failure(err, "predicate must encode as a JSON object", ErrStatement)
	}

	statement := &intoto.Statement{
		Type:          StatementType,
		PredicateType: predicateType,
		Predicate:     predicateStruct,
	}
	for _, s := range subjects {
		statement.Subject = append(statement.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: s.Digest})
	}
	if err := statement.Validate(); err != nil {
		return nil, failure(err, "validating statement", ErrStatement)
	}

	// Serialize once, then normalize protojson's varying whitespace.
	encoded, err := protojson.Marshal(statement)
	if err != nil {
		return nil, failure(err, "encoding statement", ErrStatement)
	}
	return canonicalJSON(encoded)
}

// validateInputs reports every problem with the subjects and the predicate
// type of a statement to build.
func validateInputs(subjects []Subject, predicateType string) error {
	var errs []error
	if err := checkPredicateType(predicateType); err != nil {
		errs = append(errs, err)
	}
	if len(subjects) == 0 {
		errs = append(errs, failure(nil, "statement needs at least one subject", ErrStatement))
	}
	if len(subjects) > MaxSubjects {
		errs = append(errs, failure(nil, fmt.Sprintf("statement has %d subjects; the maximum is %d", len(subjects), MaxSubjects), ErrStatement))
	}

	seen := make(map[string]bool, len(subjects))
	for i, s := range subjects {
		switch {
		case s.Name == "":
			errs = append(errs, failure(nil, fmt.Sprintf("subject %d has no name", i), ErrStatement))
		case seen[s.Name]:
			errs = append(errs, failure(nil, fmt.Sprintf("subject %q appears more than once", s.Name), ErrStatement))
		}
		seen[s.Name] = true

		digest, ok := s.Digest["sha256"]
		if !ok {
			errs = append(errs, failure(nil, fmt.Sprintf("subject %q has no sha256 digest", s.Name), ErrStatement))
			continue
		}
		if !isSHA256Hex(digest) {
			errs = append(errs, failure(nil, fmt.Sprintf("subject %q: sha256 digest %q is not 64 lowercase hex digits", s.Name, digest), ErrStatement))
		}
	}
	return errors.Join(errs...)
}

// checkPredicateType rejects a predicate type that is not an absolute URI.
func checkPredicateType(predicateType string) error {
	u, err := url.Parse(predicateType)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return failure(nil, fmt.Sprintf("predicate type %q is not an absolute URI", predicateType), ErrStatement)
	}
	return nil
}

// isSHA256Hex reports whether s is a SHA-256 digest in lowercase hex.
func isSHA256Hex(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// canonicalJSON re-encodes a JSON document in the canonical form of this
// package: compact, object keys sorted by their bytes, HTML characters not
// escaped, numbers written as they appear in the input, no trailing newline.
func canonicalJSON(data []byte) ([]byte, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, fmt.Errorf("decoding JSON to normalize it: %w", err)
	}

	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return nil, fmt.Errorf("encoding normalized JSON: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// ParseStatement parses and checks an in-toto Statement v1: exactly the
// four top-level fields, `_type` equal to StatementType (or
// StatementTypeV01, which cosign v2 and v3 still write), no unknown or
// repeated fields, at least one subject with at least one digest, at most
// MaxSubjects subjects, an absolute predicate type URI, and a JSON object
// as predicate. Errors wrap ErrStatement.
//
// ParseStatement does not require the canonical form or a sha256 digest,
// so it also reads statements that other tools wrote.
func ParseStatement(data []byte) (*Statement, error) {
	// protojson rejects unknown and repeated fields at every level.
	var message intoto.Statement
	if err := protojson.Unmarshal(data, &message); err != nil {
		return nil, failure(err, "parsing in-toto statement", ErrStatement)
	}
	if message.GetType() != StatementType && message.GetType() != StatementTypeV01 {
		return nil, failure(nil, fmt.Sprintf("statement _type is %q; want %q (or %q)", message.GetType(), StatementType, StatementTypeV01), ErrStatement)
	}
	if err := message.Validate(); err != nil {
		return nil, failure(err, "validating statement", ErrStatement)
	}
	if err := checkPredicateType(message.GetPredicateType()); err != nil {
		return nil, err
	}
	if n := len(message.GetSubject()); n > MaxSubjects {
		return nil, failure(nil, fmt.Sprintf("statement has %d subjects; the maximum is %d", n, MaxSubjects), ErrStatement)
	}

	// The raw predicate comes from the same bytes, which protojson has
	// already shown to hold no repeated keys.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, failure(err, "parsing in-toto statement", ErrStatement)
	}
	// protojson also accepts proto field names such as predicate_type,
	// which other parsers ignore, so the spelling is checked here.
	for _, name := range []string{"_type", "subject", "predicateType", "predicate"} {
		if _, ok := fields[name]; !ok || len(fields) != 4 {
			return nil, failure(nil, "statement must have exactly the top-level fields _type, subject, predicateType and predicate", ErrStatement)
		}
	}

	statement := &Statement{
		Raw:           data,
		PredicateType: message.GetPredicateType(),
		Predicate:     fields["predicate"],
	}
	for _, rd := range message.GetSubject() {
		statement.Subjects = append(statement.Subjects, Subject{Name: rd.GetName(), Digest: rd.GetDigest()})
	}
	return statement, nil
}
