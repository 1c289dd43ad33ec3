package audit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
	"github.com/auditpack/auditpack/internal/policy"
)

// ErrVerification marks a pack that was checked and rejected, as opposed to
// a verification that could not run (bad usage, unreadable files).
var ErrVerification = errors.New("verification failed")

// VerifyOptions configures Verify and VerifyBundle. Set PublicKey for
// key-signed packs, or TrustedMaterial and Identity for keyless ones.
type VerifyOptions struct {
	// PublicKey verifies key-signed bundles.
	PublicKey *ecdsa.PublicKey

	// TrustedMaterial is the trusted root keyless bundles are checked
	// against (see LoadTrustedRoot).
	TrustedMaterial root.TrustedMaterial
	// Identity is the signer each keyless certificate must certify.
	Identity attest.Identity
	// TransparencyLogThreshold and TimestampThreshold are the minimum
	// numbers of verified log entries and RFC 3161 timestamps of each
	// keyless bundle; at least one must be positive.
	TransparencyLogThreshold int
	TimestampThreshold       int

	// PredicateTypes lists predicate types of which the pack must hold a
	// verified statement; empty requires none beyond the signature checks.
	PredicateTypes []string
	// Policies, when not empty, are evaluated against the metrics and the
	// licences of the verified evaluation statement, and a failed blocking
	// rule or licence fails the verification: the consumer's thresholds,
	// not only the vendor's. A file that does not fit the pack is a
	// *PolicyError.
	Policies []policy.File
	// Artifacts are local files (paths) that must each match a subject.
	Artifacts []string
	// RequirePass fails the verification unless the policy verdict that
	// the verified evaluation statement carries is pass. Without it, the
	// verdict is reported (Report.Verdict) but does not fail verification.
	RequirePass bool
}

// attestOptions returns the bundle-level options.
func (o VerifyOptions) attestOptions() attest.VerifyOptions {
	return attest.VerifyOptions{
		PublicKey:                o.PublicKey,
		TrustedMaterial:          o.TrustedMaterial,
		Identity:                 o.Identity,
		TransparencyLogThreshold: o.TransparencyLogThreshold,
		TimestampThreshold:       o.TimestampThreshold,
	}
}

// validate checks the options before any file is read.
func (o VerifyOptions) validate() error {
	if o.PublicKey == nil && o.TrustedMaterial == nil {
		return errors.New("nothing to verify with: pass --key with the PEM public key that signed the pack, or the expected signer (--certificate-identity and --certificate-oidc-issuer) for a keyless pack")
	}
	if o.TransparencyLogThreshold < 0 || o.TimestampThreshold < 0 {
		return fmt.Errorf("the transparency log threshold (%d) and the timestamp threshold (%d) must not be negative", o.TransparencyLogThreshold, o.TimestampThreshold)
	}
	if o.PublicKey != nil && (o.TransparencyLogThreshold != 0 || o.TimestampThreshold != 0) {
		return errors.New("a transparency log or timestamp threshold is set with a public key, but key-signed bundles have no log entries or timestamps to count: drop the thresholds, or verify a keyless pack with the certificate identity")
	}
	if err := o.attestOptions().Validate(); err != nil {
		return err
	}
	if err := checkNoBaselineRules(o.Policies); err != nil {
		return err
	}
	for _, t := range o.PredicateTypes {
		if err := (attest.VerifyOptions{PublicKey: o.PublicKey, TrustedMaterial: o.TrustedMaterial, Identity: o.Identity,
			TransparencyLogThreshold: 1, PredicateType: t}).Validate(); err != nil {
			return fmt.Errorf("--type %s: %w", t, err)
		}
	}
	return nil
}

// Check is one step of a verification and its result, for the report.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Cause names the reason of a failed check for machines, such as
	// "bad-signature" or "identity-mismatch" (see attest.Cause, plus
	// "invalid-pack", "index-mismatch", "missing-anchor",
	// "pack-file-digest-mismatch", "attestation-set-mismatch",
	// "attestation-digest-mismatch", "subject-digest-mismatch",
	// "policy-failed" and "verdict-not-pass"); empty when OK.
	Cause string `json:"cause,omitempty"`
	// Detail says what was checked, or exactly what did not match.
	Detail string `json:"detail"`
}

// Report lists every check Verify ran.
type Report struct {
	Pack   string  `json:"pack"`
	Checks []Check `json:"checks"`
	// Verdict is the policy verdict of the verified evaluation statement;
	// nil when no evaluation statement verified.
	Verdict *Verdict `json:"verdict"`
	// Lineage is the lineage carried by the verified evaluation statement
	// (equal to the pack's lineage.json); nil unless every check passed.
	Lineage json.RawMessage `json:"-"`
	// Signer names the certificate identity and issuer that signed the
	// evaluation statement of a keyless pack; empty for a key-signed one.
	Signer string `json:"-"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// checkCauses names the cause of a failed check whose error carries no
// attest sentinel.
var checkCauses = map[string]string{
	"pack":          "invalid-pack",
	"index":         "index-mismatch",
	"anchor":        "missing-anchor",
	"signed files":  "pack-file-digest-mismatch",
	"attestations":  "attestation-set-mismatch",
	"policy":        "policy-failed",
	"subjects":      "subject-digest-mismatch",
	"artifact":      "subject-digest-mismatch",
	"model signing": "subject-digest-mismatch",
	"type":          "predicate-type-not-found",
}

// checkError is a failed check with a cause of its own, for failures
// that no attest sentinel and no check name describe.
type checkError struct {
	cause string
	msg   string
}

func (e *checkError) Error() string { return e.msg }

// Causes of checkError.
const (
	causeAttestationDigest = "attestation-digest-mismatch"
	causeVerdictNotPass    = "verdict-not-pass"
)

func (r *Report) add(name string, err error, detail string) {
	c := Check{Name: name, OK: err == nil, Detail: Printable(detail)}
	var own *checkError
	switch {
	case err == nil:
	case errors.As(err, &own):
		c.Detail = Printable(err.Error())
		c.Cause = own.cause
	default:
		c.Detail = Printable(err.Error())
		c.Cause = attest.Cause(err)
		if c.Cause == "" || c.Cause == "verification-failed" {
			if cause, ok := checkCauses[name]; ok {
				c.Cause = cause
			} else if c.Cause == "" {
				c.Cause = "verification-failed"
			}
		}
	}
	r.Checks = append(r.Checks, c)
}

// Verify checks the pack at packPath (a directory or its .tar.gz) by the
// rules of docs/pack-format.md. It checks every file against index.json,
// and that the evaluation statement, the anchor of the pack, is present
// and verifies. Every other file must be named by the anchor: the
// documents with their digests, the other attestation files with their
// predicate types and payload digests. Every other bundle must verify and
// have the anchor's subjects; a model signature must sign the files and
// digests of the model artifact the anchor's lineage records. Then each
// --artifact must match a subject of the anchor, a statement of each
// required predicate type must exist, the consumer's policies must pass on
// the anchor's metrics and licences and, with RequirePass, the anchor's
// verdict must be pass.
//
// Verify runs every check it can and returns the report. The error wraps
// ErrVerification when a check failed, including a malformed or unsafe
// pack. It is a *PolicyError, with the report, when a policy does not fit
// the pack, and another error when verification could not run (bad
// options, a path that does not exist, an unreadable file).
func Verify(ctx context.Context, packPath string, opts VerifyOptions) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	artifacts, _, err := hashArtifacts(ctx, opts.Artifacts)
	if err != nil {
		return nil, err
	}
	report := &Report{Pack: packPath}

	p, err := pack.Open(ctx, packPath)
	if errors.Is(err, pack.ErrInvalidPack) {
		report.add("pack", err, "")
		return report, ErrVerification
	}
	if err != nil {
		return nil, err
	}

	// The index: every listed file present with its digest, nothing else.
	index, err := p.Verify(ctx)
	if errors.Is(err, pack.ErrInvalidPack) {
		report.add("pack", err, "")
		return report, ErrVerification
	}
	if err != nil {
		return nil, err
	}
	if index.OK() {
		report.add("index", nil, fmt.Sprintf("%d files match index.json", len(p.Index.Files)))
	}
	for _, pr := range index.Problems {
		report.add("index", errors.New(pr.String()), "")
	}

	found := map[string]bool{}
	a := verifyAnchor(ctx, p, opts, report)
	if a != nil {
		found[a.verified.PredicateType] = true
		checkPackFiles(ctx, p, a, report)
		checkAttestationFiles(p, a, report)
	}
	for _, name := range bundleNames(p.Index) {
		if name == AnchorPath {
			continue
		}
		if v := verifyBundle(ctx, p, name, opts, a, artifacts, report); v != nil {
			found[v.PredicateType] = true
		}
	}
	var policyErr error
	if a != nil {
		checkArtifacts(a, artifacts, report)
		if len(opts.Policies) > 0 {
			policyErr = checkPolicies(AnchorPath, a.verified.Predicate, opts.Policies, report)
		}
		checkVerdict(AnchorPath, a.predicate.Verdict, opts.RequirePass, report)
		report.Lineage = a.predicate.Lineage
	}
	checkTypes(found, opts.PredicateTypes, report)

	// A failed check makes the pack fail whatever the policy; a policy that
	// does not fit an otherwise verified pack is the verifier's mistake.
	if policyErr != nil {
		report.Lineage = nil
		if !report.OK() {
			return report, errors.Join(ErrVerification, policyErr)
		}
		return report, policyErr
	}
	if !report.OK() {
		report.Lineage = nil
		return report, ErrVerification
	}
	return report, nil
}

// VerifyPath verifies path by its content rather than by its name. A
// directory, or a file that starts with the gzip magic bytes, is verified
// as a pack (Verify). A file that starts with a JSON object is verified as
// a single Sigstore bundle (VerifyBundle). A pack's index.json is a usage
// error, and a file with any other content fails verification.
func VerifyPath(ctx context.Context, path string, opts VerifyOptions) (*Report, error) {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		// Verify reports a missing path, and rejects special files
		// without reading them.
		return Verify(ctx, path, opts)
	}
	if filepath.Base(path) == pack.IndexName {
		return nil, fmt.Errorf("%s is a pack's index: pass the pack's directory, not its %s", path, pack.IndexName)
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case contentGzip:
		return Verify(ctx, path, opts)
	case contentJSON:
		return VerifyBundle(ctx, path, opts)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	report := &Report{Pack: path}
	report.add("pack", fmt.Errorf("%s is neither a pack directory, a pack archive (.tar.gz) nor a Sigstore bundle: it starts neither with the gzip magic bytes 1f 8b nor with a JSON object", path), "")
	return report, ErrVerification
}

// Kinds of file content that VerifyPath distinguishes.
const (
	contentOther = iota
	contentGzip
	contentJSON
)

// sniff reads the start of the file at path and returns what it holds.
func sniff(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		return contentGzip, nil
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if trimmed := bytes.TrimLeft(head, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		return contentJSON, nil
	}
	return contentOther, nil
}

// VerifyBundle checks one Sigstore bundle file, such as one that cosign
// made: its signature, certificate and identity, its subjects against the
// artifacts (for a model signature, the signed files against each
// artifact's files), and its predicate type against opts.PredicateTypes
// (the statement must have one of them, when any are given). Policies and
// RequirePass need an evaluation statement; with another bundle they are
// a usage error. A file larger than pack.DefaultMaxReadBytes fails
// verification without being read.
func VerifyBundle(ctx context.Context, bundlePath string, opts VerifyOptions) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	data, err := readBundle(bundlePath)
	var tooLarge *bundleSizeError
	if errors.As(err, &tooLarge) {
		report := &Report{Pack: bundlePath}
		report.add("signature", &reworded{msg: tooLarge.Error(), cause: attest.ErrBundleFormat}, "")
		return report, ErrVerification
	}
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	// The type is read before the signature is checked only to reject a
	// usage mistake early; the verified type is checked again below.
	if err := needsEvaluation(bundlePath, unverifiedPredicateType(data), opts); err != nil {
		return nil, err
	}
	artifacts, entries, err := hashArtifacts(ctx, opts.Artifacts)
	if err != nil {
		return nil, err
	}
	report := &Report{Pack: bundlePath}

	if err := checkMediaType(data); err != nil {
		report.add("signature", fmt.Errorf("%s: %w", bundlePath, err), "")
		return report, ErrVerification
	}
	v, err := attest.Verify(ctx, data, opts.attestOptions())
	if err != nil {
		report.add("signature", fmt.Errorf("%s: %w", bundlePath, err), "")
		return report, ErrVerification
	}
	if err := needsEvaluation(bundlePath, v.PredicateType, opts); err != nil {
		return nil, err
	}
	report.add("signature", nil, describeVerified(bundlePath, v))
	if len(opts.PredicateTypes) > 0 {
		if slices.Contains(opts.PredicateTypes, v.PredicateType) {
			report.add("type", nil, fmt.Sprintf("predicate type %s", v.PredicateType))
		} else {
			report.add("type", fmt.Errorf("%w: the statement has predicate type %s, not one of %s",
				attest.ErrPredicateType, v.PredicateType, strings.Join(opts.PredicateTypes, ", ")), "")
		}
	}
	switch {
	case len(artifacts) == 0:
	case v.PredicateType == modelsign.PredicateType:
		checkModelArtifacts(bundlePath, v, artifacts, entries, report)
	default:
		if err := attest.MatchSubjects(v.Subjects, artifacts); err != nil {
			report.add("subjects", err, "")
		} else {
			report.add("subjects", nil, fmt.Sprintf("%d artifact(s) match subjects", len(artifacts)))
		}
	}
	var policyErr error
	if v.PredicateType == attest.PredicateEvaluation {
		if len(opts.Policies) > 0 {
			policyErr = checkPolicies(bundlePath, v.Predicate, opts.Policies, report)
		}
		var pred EvaluationPredicate
		if err := json.Unmarshal(v.Predicate, &pred); err != nil {
			report.add("verdict", fmt.Errorf("%s: reading the signed predicate: %w", bundlePath, err), "")
		} else {
			checkVerdict(bundlePath, pred.Verdict, opts.RequirePass, report)
		}
	}
	if policyErr != nil {
		if !report.OK() {
			return report, errors.Join(ErrVerification, policyErr)
		}
		return report, policyErr
	}
	if !report.OK() {
		return report, ErrVerification
	}
	return report, nil
}

// bundleSizeError is a bundle file larger than pack.DefaultMaxReadBytes.
type bundleSizeError struct {
	path string
	size int64
}

func (e *bundleSizeError) Error() string {
	return fmt.Sprintf("%s is %d bytes, more than the %d bytes (%d MiB) that verify reads from a Sigstore bundle; a bundle takes kilobytes, or a few megabytes with a lineage of many files",
		e.path, e.size, int64(pack.DefaultMaxReadBytes), pack.DefaultMaxReadBytes>>20)
}

// readBundle reads the bundle file at path. A file larger than
// pack.DefaultMaxReadBytes, the limit of a bundle inside a pack, is not
// read and is a *bundleSizeError.
func readBundle(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Mode().IsRegular() && info.Size() > pack.DefaultMaxReadBytes {
		return nil, &bundleSizeError{path: path, size: info.Size()}
	}
	// The buffer is sized for the file as it was when stat ran. A file that
	// is not regular, or that grows, is read up to one byte beyond the
	// limit.
	buf := bytes.NewBuffer(make([]byte, 0, max(info.Size(), 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, pack.DefaultMaxReadBytes+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > pack.DefaultMaxReadBytes {
		return nil, &bundleSizeError{path: path, size: int64(buf.Len())}
	}
	return buf.Bytes(), nil
}

// needsEvaluation rejects --policy and --require-pass for a bundle of
// predicate type predicateType other than the evaluation statement's;
// an empty predicateType (unknown) passes.
func needsEvaluation(bundlePath, predicateType string, opts VerifyOptions) error {
	if predicateType == "" || predicateType == attest.PredicateEvaluation {
		return nil
	}
	var flags []string
	if len(opts.Policies) > 0 {
		flags = append(flags, "--policy")
	}
	if opts.RequirePass {
		flags = append(flags, "--require-pass")
	}
	if len(flags) == 0 {
		return nil
	}
	return fmt.Errorf("%s needs the evaluation statement, which carries the signed metrics and verdict; %s has predicate type %s: pass the pack or its %s",
		strings.Join(flags, " and "), bundlePath, predicateType, AnchorPath)
}

// unverifiedPredicateType returns the predicate type a bundle's DSSE
// payload claims, before any signature is checked; empty when the bundle
// or its payload cannot be read.
func unverifiedPredicateType(data []byte) string {
	var b bundle.Bundle
	if b.UnmarshalJSON(data) != nil || b.GetDsseEnvelope() == nil {
		return ""
	}
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	if json.Unmarshal(b.GetDsseEnvelope().GetPayload(), &st) != nil {
		return ""
	}
	return st.PredicateType
}

// checkMediaType reports a bundle without a mediaType in words of its
// own: sigstore-go v1.3.0 reports it as an unsupported media type with an
// empty value. Other problems are left to attest.Verify.
func checkMediaType(data []byte) error {
	var head struct {
		MediaType *string `json:"mediaType"`
	}
	if json.Unmarshal(data, &head) != nil {
		return nil
	}
	if head.MediaType == nil || *head.MediaType == "" {
		return &reworded{
			msg:   fmt.Sprintf("the bundle has no mediaType: a Sigstore bundle names its format there, such as %s", attest.BundleMediaType),
			cause: attest.ErrBundleFormat,
		}
	}
	return nil
}

// hashArtifacts hashes the --artifact paths once for all bundles, and
// returns each as an artifact to match with subjects and as the lineage
// entry that lists a directory's files.
func hashArtifacts(ctx context.Context, paths []string) ([]attest.Artifact, []lineage.Entry, error) {
	var artifacts []attest.Artifact
	var entries []lineage.Entry
	for _, a := range paths {
		// The path is a flag's value, so a missing one is named as such
		// rather than as a configuration path.
		if _, err := os.Stat(a); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("--artifact %s: no such file or directory; pass the path of the model file or directory at hand", a)
		}
		entry, err := lineage.HashPath(ctx, ".", a)
		if err != nil {
			return nil, nil, fmt.Errorf("--artifact %s: %w", a, err)
		}
		artifacts = append(artifacts, attest.Artifact{Name: a, SHA256: entry.SHA256})
		entries = append(entries, entry)
	}
	return artifacts, entries, nil
}

// describeVerified says who signed a verified statement and when.
func describeVerified(name string, v *attest.Verified) string {
	if v.Certificate == nil {
		return fmt.Sprintf("%s: signed by key %s, predicate %s", name, v.KeyID, v.PredicateType)
	}
	var times []string
	for _, t := range v.SignedAt {
		times = append(times, t.Format(time.RFC3339))
	}
	slices.Sort(times)
	times = slices.Compact(times)
	return fmt.Sprintf("%s: signed by %s (issuer %s) at %s, %d log entr(ies), predicate %s",
		name, v.Certificate.SubjectAlternativeName, v.Certificate.Issuer, strings.Join(times, ", "), v.LogEntries, v.PredicateType)
}

// checkTypes requires a verified statement of each predicate type.
func checkTypes(found map[string]bool, required []string, report *Report) {
	for _, t := range required {
		if found[t] {
			report.add("type", nil, fmt.Sprintf("a verified statement has predicate type %s", t))
			continue
		}
		report.add("type", fmt.Errorf("%w: no verified statement has predicate type %s (found: %s)",
			attest.ErrPredicateType, t, strings.Join(slices.Sorted(maps.Keys(found)), ", ")), "")
	}
}

func sortedKeys(m map[string][]byte) []string {
	return slices.Sorted(maps.Keys(m))
}

// Verdict is the policy verdict of a verified evaluation statement.
type Verdict struct {
	// Result is pass, warn or fail.
	Result string `json:"result"`
	// Passed, Warned and Failed count the rule results by outcome, as
	// policy.json's counts do; a failed result is a failed blocking rule.
	Passed int `json:"passed"`
	Warned int `json:"warned"`
	Failed int `json:"failed"`
	// Required is true when a verdict other than pass fails the
	// verification (VerifyOptions.RequirePass).
	Required bool `json:"required"`

	// source is the bundle the verdict was read from, for messages.
	source string
}

// describe renders the verdict for the report.
func (v *Verdict) describe() string {
	return fmt.Sprintf("%s: the signed policy verdict is %s (%d passed, %d warned, %d failed)", v.source, v.Result, v.Passed, v.Warned, v.Failed)
}

// checkVerdict reads the policy verdict of a verified evaluation
// predicate into the report and, when require is set, fails unless it is
// pass.
func checkVerdict(name string, verdictJSON json.RawMessage, require bool, report *Report) {
	var doc struct {
		Result policy.Outcome `json:"result"`
		Counts policy.Counts  `json:"counts"`
	}
	if err := json.Unmarshal(verdictJSON, &doc); err != nil || doc.Result == "" {
		report.add("verdict", fmt.Errorf("%s: the signed predicate carries no readable policy verdict", name), "")
		return
	}
	v := &Verdict{Result: string(doc.Result), Passed: doc.Counts.Passed, Warned: doc.Counts.Warned, Failed: doc.Counts.Failed, Required: require, source: name}
	report.Verdict = v
	if !require {
		return
	}
	if doc.Result != policy.OutcomePass {
		report.add("verdict", &checkError{cause: causeVerdictNotPass, msg: v.describe() + ", and --require-pass accepts only pass"}, "")
		return
	}
	report.add("verdict", nil, v.describe())
}
