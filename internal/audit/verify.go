package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
)

// ErrVerification marks a pack that was checked and rejected, as opposed to
// a verification that could not run (bad usage, unreadable files).
var ErrVerification = errors.New("verification failed")

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// PublicKey verifies key-signed bundles.
	PublicKey *ecdsa.PublicKey
	// Artifacts are local files (paths) that must each match a subject.
	Artifacts []string
}

// Check is one step of a verification and its result, for the report.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says what was checked, or exactly what did not match.
	Detail string `json:"detail"`
}

// Report lists every check Verify ran.
type Report struct {
	Pack   string  `json:"pack"`
	Checks []Check `json:"checks"`
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

func (r *Report) add(name string, err error, detail string) {
	c := Check{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		c.Detail = err.Error()
	}
	r.Checks = append(r.Checks, c)
}

// Verify checks the pack at packPath (a directory or its .tar.gz): every
// file against index.json, every bundle's signature, the signed predicate
// against the pack's files, and the artifacts against the subjects. It runs
// every check it can and returns the report; the error wraps
// ErrVerification when a check failed, and is another error when
// verification could not run.
func Verify(ctx context.Context, packPath string, opts VerifyOptions) (*Report, error) {
	if opts.PublicKey == nil {
		return nil, errors.New("no public key: pass --key with the PEM public key that signed the pack")
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
	if err != nil {
		return nil, err
	}
	if index.OK() {
		report.add("index", nil, fmt.Sprintf("%d files match index.json", len(p.Index.Files)))
	}
	for _, pr := range index.Problems {
		report.add("index", errors.New(pr.String()), "")
	}

	// Artifacts given on the command line are hashed once for all bundles.
	var artifacts []attest.Artifact
	for _, a := range opts.Artifacts {
		entry, err := lineage.HashPath(ctx, ".", a)
		if err != nil {
			return nil, fmt.Errorf("--artifact %s: %w", a, err)
		}
		artifacts = append(artifacts, attest.Artifact{Name: a, SHA256: entry.SHA256})
	}

	bundles := bundleNames(p.Index)
	if len(bundles) == 0 {
		report.add("signature", errors.New("the pack holds no signed attestation (attestations/*.sigstore.json); it was made with --sign none and cannot be verified"), "")
	}
	for _, name := range bundles {
		verifyBundle(ctx, p, name, opts, artifacts, report)
	}

	if !report.OK() {
		return report, ErrVerification
	}
	return report, nil
}

func verifyBundle(ctx context.Context, p *pack.Pack, name string, opts VerifyOptions, artifacts []attest.Artifact, report *Report) {
	data, err := p.ReadFile(name)
	if err != nil {
		report.add("signature", fmt.Errorf("%s: %w", name, err), "")
		return
	}
	v, err := attest.Verify(ctx, data, attest.VerifyOptions{PublicKey: opts.PublicKey})
	if err != nil {
		report.add("signature", fmt.Errorf("%s: %w", name, err), "")
		return
	}
	report.add("signature", nil, fmt.Sprintf("%s: signed by key %s, predicate %s", name, v.KeyID, v.PredicateType))

	// A model signing statement's subject is a digest over the model's
	// files, so it is checked file by file instead.
	if v.PredicateType == modelsign.PredicateType {
		checkModelSignature(ctx, p, name, opts.PublicKey, opts.Artifacts, report)
		return
	}

	if len(artifacts) > 0 {
		if err := attest.MatchSubjects(v.Subjects, artifacts); err != nil {
			report.add("subjects", fmt.Errorf("%s: %w", name, err), "")
		} else {
			report.add("subjects", nil, fmt.Sprintf("%s: %d artifact(s) match subjects", name, len(artifacts)))
		}
	}

	if v.PredicateType == attest.PredicateEvaluation {
		checkPackFiles(p, name, v.Predicate, report)
	}
}

// checkPackFiles compares the pack's files with the digests the signed
// predicate lists, which makes the signature cover the whole pack.
func checkPackFiles(p *pack.Pack, bundle string, predicate []byte, report *Report) {
	var pred EvaluationPredicate
	if err := json.Unmarshal(predicate, &pred); err != nil {
		report.add("signed files", fmt.Errorf("%s: reading the predicate: %w", bundle, err), "")
		return
	}
	if len(pred.PackFiles) == 0 {
		report.add("signed files", fmt.Errorf("%s: the predicate lists no pack files", bundle), "")
		return
	}
	var mismatched []string
	for _, f := range pred.PackFiles {
		data, err := p.ReadFile(f.Path)
		if err != nil {
			mismatched = append(mismatched, fmt.Sprintf("%s is missing", f.Path))
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			mismatched = append(mismatched, fmt.Sprintf("%s has sha256 %s, the signed predicate says %s", f.Path, got, f.SHA256))
		}
	}
	// The unsigned index must agree with the signed predicate, so that no
	// part of index.json can change unnoticed.
	signed := map[string]bool{}
	for _, f := range pred.PackFiles {
		signed[f.Path] = true
	}
	for _, f := range p.Index.Files {
		if !signed[f.Path] && path.Dir(f.Path) != DirAttestations {
			mismatched = append(mismatched, fmt.Sprintf("%s is in index.json but not in the signed predicate", f.Path))
		}
	}
	if got := p.Index.CreatedAt.UTC().Format(time.RFC3339); got != pred.CreatedAt {
		mismatched = append(mismatched, fmt.Sprintf("index.json has createdAt %s, the signed predicate says %s", got, pred.CreatedAt))
	}
	if p.Index.Tool.Name != pred.Tool.Name || p.Index.Tool.Version != pred.Tool.Version {
		mismatched = append(mismatched, fmt.Sprintf("index.json names the tool %s %s, the signed predicate says %s %s",
			p.Index.Tool.Name, p.Index.Tool.Version, pred.Tool.Name, pred.Tool.Version))
	}
	if len(mismatched) > 0 {
		report.add("signed files", fmt.Errorf("%s: %s", bundle, strings.Join(mismatched, "; ")), "")
		return
	}
	report.add("signed files", nil, fmt.Sprintf("%s: %d pack files match the signed predicate", bundle, len(pred.PackFiles)))
}

func bundleNames(index *pack.Index) []string {
	var names []string
	for _, f := range index.Files {
		if path.Dir(f.Path) == DirAttestations && strings.HasSuffix(f.Path, ".sigstore.json") {
			names = append(names, f.Path)
		}
	}
	slices.Sort(names)
	return names
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
