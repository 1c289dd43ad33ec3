package audit

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
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
	// Policies, when not empty, are evaluated against the metrics of the
	// verified evaluation statement, and a failed blocking rule fails the
	// verification: the consumer's thresholds, not only the vendor's.
	Policies []policy.File
	// Artifacts are local files (paths) that must each match a subject.
	Artifacts []string
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
	if err := o.attestOptions().Validate(); err != nil {
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
	// "subject-digest-mismatch" and "policy-failed"); empty when OK.
	Cause string `json:"cause,omitempty"`
	// Detail says what was checked, or exactly what did not match.
	Detail string `json:"detail"`
}

// Report lists every check Verify ran.
type Report struct {
	Pack   string  `json:"pack"`
	Checks []Check `json:"checks"`
	// Lineage is the lineage carried by the verified evaluation statement
	// (equal to the pack's lineage.json); nil unless every check passed.
	Lineage json.RawMessage `json:"-"`
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

func (r *Report) add(name string, err error, detail string) {
	c := Check{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		c.Detail = err.Error()
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
// rules of docs/pack-format.md: every file against index.json; the
// evaluation statement, the anchor of the pack, present and verified; every
// other file named by it (the documents with their digests, the other
// attestation files with their predicate types); every other bundle
// verified, with the anchor's subjects (a model signature: with the files
// and digests of the model artifact the anchor's lineage records); each
// --artifact matching a subject of the anchor; the required predicate
// types; and the consumer's policies against the anchor's metrics. It runs
// every check it can and returns the report; the error wraps
// ErrVerification when a check failed, including a malformed or unsafe
// pack, and is another error when verification could not run (bad options,
// a path that does not exist, an unreadable file).
func Verify(ctx context.Context, packPath string, opts VerifyOptions) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	artifacts, err := hashArtifacts(ctx, opts.Artifacts)
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
		checkPackFiles(p, a, report)
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
	if a != nil {
		checkArtifacts(a, artifacts, report)
		if len(opts.Policies) > 0 {
			checkPolicies(AnchorPath, a.verified.Predicate, opts.Policies, report)
		}
		report.Lineage = a.predicate.Lineage
	}
	checkTypes(found, opts.PredicateTypes, report)

	if !report.OK() {
		report.Lineage = nil
		return report, ErrVerification
	}
	return report, nil
}

// VerifyBundle checks one Sigstore bundle file, such as one that cosign
// made: its signature, certificate and identity, its subjects against the
// artifacts, and its predicate type against opts.PredicateTypes (the
// statement must have one of them, when any are given).
func VerifyBundle(ctx context.Context, bundlePath string, opts VerifyOptions) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	artifacts, err := hashArtifacts(ctx, opts.Artifacts)
	if err != nil {
		return nil, err
	}
	report := &Report{Pack: bundlePath}

	v, err := attest.Verify(ctx, data, opts.attestOptions())
	if err != nil {
		report.add("signature", fmt.Errorf("%s: %w", bundlePath, err), "")
		return report, ErrVerification
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
	if len(artifacts) > 0 {
		if err := attest.MatchSubjects(v.Subjects, artifacts); err != nil {
			report.add("subjects", err, "")
		} else {
			report.add("subjects", nil, fmt.Sprintf("%d artifact(s) match subjects", len(artifacts)))
		}
	}
	if v.PredicateType == attest.PredicateEvaluation && len(opts.Policies) > 0 {
		checkPolicies(bundlePath, v.Predicate, opts.Policies, report)
	}
	if !report.OK() {
		return report, ErrVerification
	}
	return report, nil
}

// hashArtifacts hashes the --artifact paths once for all bundles.
func hashArtifacts(ctx context.Context, paths []string) ([]attest.Artifact, error) {
	var artifacts []attest.Artifact
	for _, a := range paths {
		// The path is a flag's value, so a missing one is named as such
		// rather than as a configuration path.
		if _, err := os.Stat(a); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--artifact %s: no such file or directory; pass the path of the model file or directory at hand", a)
		}
		entry, err := lineage.HashPath(ctx, ".", a)
		if err != nil {
			return nil, fmt.Errorf("--artifact %s: %w", a, err)
		}
		artifacts = append(artifacts, attest.Artifact{Name: a, SHA256: entry.SHA256})
	}
	return artifacts, nil
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

// checkPolicies evaluates the consumer's policies against the metrics of
// a verified evaluation predicate. The predicate bytes are the verified
// payload's; nothing else is read.
func checkPolicies(name string, predicate []byte, files []policy.File, report *Report) {
	var pred EvaluationPredicate
	if err := json.Unmarshal(predicate, &pred); err != nil {
		report.add("policy", fmt.Errorf("%s: reading the predicate: %w", name, err), "")
		return
	}
	if len(pred.Metrics) == 0 {
		report.add("policy", fmt.Errorf("%s: the predicate carries no metrics", name), "")
		return
	}
	verdict, err := policy.Evaluate(pred.Metrics, files)
	if err != nil {
		report.add("policy", fmt.Errorf("%s: evaluating --policy: %w", name, err), "")
		return
	}
	var refs []string
	for _, f := range files {
		refs = append(refs, f.Path)
	}
	summary := fmt.Sprintf("%s against the signed metrics: %s (%d passed, %d warned, %d failed)",
		strings.Join(refs, ", "), verdict.Result, verdict.Counts.Passed, verdict.Counts.Warned, verdict.Counts.Failed)
	if verdict.Result != policy.OutcomeFail {
		report.add("policy", nil, summary)
		return
	}
	var failed []string
	for _, r := range verdict.Results {
		if r.Blocking() {
			failed = append(failed, fmt.Sprintf("%s at %s: %s", r.RuleID, r.Metric, r.Message))
		}
	}
	report.add("policy", fmt.Errorf("%s; failed: %s", summary, strings.Join(failed, "; ")), "")
}

func sortedKeys(m map[string][]byte) []string {
	return slices.Sorted(maps.Keys(m))
}

// WriteReport prints the report for people, one line a check.
func WriteReport(w io.Writer, r *Report) {
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-13s %s\n", mark, c.Name, c.Detail)
	}
}
