package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
)

// AnchorPath is the evaluation statement's bundle, the anchor of a signed
// pack: it must be present and verify, and it names every other file of
// the pack (see docs/pack-format.md).
const AnchorPath = DirAttestations + "/evaluation" + attest.BundleExtension

// anchor is the verified evaluation statement of a pack.
type anchor struct {
	verified  *attest.Verified
	predicate EvaluationPredicate
	lineage   lineage.Lineage
	// types maps each attestation file the predicate names to the
	// predicate type it names with it, and payloads to the SHA-256 of its
	// statement (empty in a pack made before the digest was recorded).
	types    map[string]string
	payloads map[string]string
}

// verifyAnchor checks that the pack holds the evaluation statement and
// that it verifies, and returns it; nil when it does not.
func verifyAnchor(ctx context.Context, p *pack.Pack, opts VerifyOptions, report *Report) *anchor {
	if !listed(p.Index, AnchorPath) {
		msg := fmt.Sprintf("the pack has no %s; every pack is anchored to its signed evaluation statement, which names the pack's other files, so the pack cannot be trusted without it", AnchorPath)
		if listed(p.Index, attestationPath("evaluation", false)) {
			msg = fmt.Sprintf("the pack is unsigned: it has %s instead of the signed %s, and cannot be verified; make it again with a key or keyless signing", attestationPath("evaluation", false), AnchorPath)
		}
		report.add("anchor", errors.New(msg), "")
		return nil
	}
	v := verifySignature(ctx, p, AnchorPath, opts, false, report)
	if v == nil {
		return nil
	}
	if c := v.Certificate; c != nil {
		report.Signer = fmt.Sprintf("%s (issuer %s)", c.SubjectAlternativeName, c.Issuer)
	}
	if v.PredicateType != attest.PredicateEvaluation {
		report.add("anchor", fmt.Errorf("%s: the signed statement has predicate type %s, not %s", AnchorPath, v.PredicateType, attest.PredicateEvaluation), "")
		return nil
	}
	a := &anchor{verified: v, types: map[string]string{}, payloads: map[string]string{}}
	if err := json.Unmarshal(v.Predicate, &a.predicate); err != nil {
		report.add("anchor", fmt.Errorf("%s: reading the signed predicate: %w", AnchorPath, err), "")
		return nil
	}
	if err := json.Unmarshal(a.predicate.Lineage, &a.lineage); err != nil {
		report.add("anchor", fmt.Errorf("%s: reading the lineage of the signed predicate: %w", AnchorPath, err), "")
		return nil
	}
	for _, f := range a.predicate.Attestations {
		a.types[f.Path] = f.PredicateType
		a.payloads[f.Path] = f.PayloadSHA256
	}
	var names []string
	for _, s := range v.Subjects {
		names = append(names, s.Name)
	}
	report.add("anchor", nil, fmt.Sprintf("%s: evaluation statement about %s, naming %d pack file(s) and %d other attestation file(s)",
		AnchorPath, strings.Join(names, ", "), len(a.predicate.PackFiles), len(a.predicate.Attestations)))
	return a
}

// verifySignature reads one bundle of the pack, verifies it and reports
// the result. It returns nil when the bundle was rejected. modelSigning
// marks a model signature, whose key hint follows model_signing's scheme
// rather than attest.KeyID.
func verifySignature(ctx context.Context, p *pack.Pack, name string, opts VerifyOptions, modelSigning bool, report *Report) *attest.Verified {
	data, err := p.ReadFile(name)
	if err != nil {
		report.add("signature", fmt.Errorf("%s: %w", name, err), "")
		return nil
	}
	if err := checkMediaType(data); err != nil {
		report.add("signature", fmt.Errorf("%s: %w", name, err), "")
		return nil
	}
	v, err := attest.Verify(ctx, data, opts.attestOptions())
	if err != nil {
		if modelSigning && opts.PublicKey != nil && errors.Is(err, attest.ErrSignature) {
			err = modelSigningKeyError(data, opts, err)
		}
		report.add("signature", fmt.Errorf("%s: %w", name, err), "")
		return nil
	}
	report.add("signature", nil, describeVerified(name, v))
	return v
}

// reworded is an error with a message of its own and the cause of another.
type reworded struct {
	msg   string
	cause error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.cause }

// modelSigningKeyError restates a signature failure of a key-signed model
// signature so that it names the given key by the same id as the other
// bundles' messages do. Such a bundle's key hint is model_signing's (the
// SHA-256 of the public key in PEM), not attest.KeyID, so quoting it as a
// key id would name the signer differently from every other line.
func modelSigningKeyError(data []byte, opts VerifyOptions, err error) error {
	keyID, idErr := attest.KeyID(opts.PublicKey)
	pemHint, hintErr := modelsign.PublicKeyHint(opts.PublicKey)
	var b bundle.Bundle
	if idErr != nil || hintErr != nil || b.UnmarshalJSON(data) != nil {
		return err
	}
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	msg := fmt.Sprintf("signature does not verify with the given public key %s", keyID)
	switch hint {
	case "":
	case pemHint:
		msg += fmt.Sprintf(" (the bundle's key hint %s is model_signing's for that same key: the SHA-256 of the key in PEM form)", hint)
	default:
		msg += fmt.Sprintf(" (the bundle's key hint %s is model_signing's hint, not a key id as above: the SHA-256 of the signing key in PEM form; the given key's would be %s, so another key signed the bundle)", hint, pemHint)
	}
	return &reworded{msg: msg, cause: err}
}

// checkPackFiles compares the pack's documents with the digests the signed
// predicate lists, which makes the signature cover the whole pack, and
// checks that index.json names nothing else outside attestations/.
func checkPackFiles(ctx context.Context, p *pack.Pack, a *anchor, report *Report) {
	pred := a.predicate
	if len(pred.PackFiles) == 0 {
		report.add("signed files", fmt.Errorf("%s: the predicate lists no pack files", AnchorPath), "")
		return
	}
	var mismatched []string
	signed := map[string]bool{}
	for _, f := range pred.PackFiles {
		signed[f.Path] = true
		if inAttestations(f.Path) {
			mismatched = append(mismatched, fmt.Sprintf("the signed predicate lists %s among the documents, but attestations/ holds only the statements", f.Path))
			continue
		}
		got, _, err := p.Digest(ctx, f.Path)
		if errors.Is(err, fs.ErrNotExist) {
			mismatched = append(mismatched, fmt.Sprintf("%s is missing", f.Path))
			continue
		}
		if err != nil {
			mismatched = append(mismatched, fmt.Sprintf("%s cannot be read: %v", f.Path, err))
			continue
		}
		if got != f.SHA256 {
			mismatched = append(mismatched, fmt.Sprintf("%s has sha256 %s, the signed predicate says %s", f.Path, got, f.SHA256))
		}
	}
	// The unsigned index must agree with the signed predicate, so that no
	// part of index.json can change unnoticed. Attestation files are
	// checked against the predicate's list of them (checkAttestationFiles).
	for _, f := range p.Index.Files {
		if !signed[f.Path] && !inAttestations(f.Path) {
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
		report.add("signed files", fmt.Errorf("%s: %s", AnchorPath, strings.Join(mismatched, "; ")), "")
		return
	}
	report.add("signed files", nil, fmt.Sprintf("%s: %d pack files match the signed predicate", AnchorPath, len(pred.PackFiles)))
}

// checkAttestationFiles requires the files under attestations/ to be
// exactly the anchor and the attestation files its predicate names, so
// that no statement can be added, removed or replaced by an unsigned file.
func checkAttestationFiles(p *pack.Pack, a *anchor, report *Report) {
	if a.predicate.Attestations == nil {
		report.add("attestations", fmt.Errorf("%s: the signed predicate does not name the pack's attestation files (field attestations), so they cannot be checked; the pack was made by an earlier auditpack: make it again", AnchorPath), "")
		return
	}
	var problems []string
	for _, f := range a.predicate.Attestations {
		if f.Path == AnchorPath || !inAttestations(f.Path) || !strings.HasSuffix(f.Path, attest.BundleExtension) || pack.ValidatePath(f.Path) != nil {
			problems = append(problems, fmt.Sprintf("the signed predicate names %q, which is not another Sigstore bundle under %s/", f.Path, DirAttestations))
		}
	}
	present := map[string]bool{}
	for _, f := range p.Index.Files {
		if !inAttestations(f.Path) || f.Path == AnchorPath {
			continue
		}
		present[f.Path] = true
		if _, ok := a.types[f.Path]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not named by the signed evaluation statement", f.Path))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a.types)) {
		if !present[name] {
			problems = append(problems, fmt.Sprintf("%s is named by the signed evaluation statement but missing", name))
		}
	}
	if len(problems) > 0 {
		report.add("attestations", fmt.Errorf("%s: %s", AnchorPath, strings.Join(problems, "; ")), "")
		return
	}
	report.add("attestations", nil, fmt.Sprintf("the %d files under %s/ are the evaluation statement and the %d it names",
		len(present)+1, DirAttestations, len(present)))
}

// verifyBundle checks one bundle of the pack other than the anchor and
// returns the verified statement, or nil when it was rejected. With a
// verified anchor a (nil otherwise), the statement must have the predicate
// type a names for the file and a's subjects; a model signature must sign
// the files of the artifact the anchor's lineage records.
func verifyBundle(ctx context.Context, p *pack.Pack, name string, opts VerifyOptions, a *anchor, artifacts []attest.Artifact, report *Report) *attest.Verified {
	named, isNamed := "", false
	if a != nil {
		named, isNamed = a.types[name]
	}
	modelSigning := named == modelsign.PredicateType || (!isNamed && strings.HasPrefix(path.Base(name), "model-signing"))
	v := verifySignature(ctx, p, name, opts, modelSigning, report)
	if v == nil {
		return nil
	}
	if isNamed && v.PredicateType != named {
		report.add("attestations", fmt.Errorf("%s: the statement has predicate type %s, but the signed evaluation statement names the file with %s",
			name, v.PredicateType, named), "")
	}
	if isNamed {
		checkPayloadDigest(name, v, a.payloads, report)
	}

	// A model signing statement's subject is a digest over the model's
	// files, so its files are compared instead.
	if v.PredicateType == modelsign.PredicateType {
		verifyManifest := func(data []byte) (modelsign.Manifest, error) { return modelsign.Verify(data, opts.PublicKey) }
		if opts.PublicKey == nil {
			// The bundle was verified above; parse the same verified bytes.
			verifyManifest = func([]byte) (modelsign.Manifest, error) { return modelsign.ParseStatement(v.Raw) }
		}
		checkModelSignature(p, name, verifyManifest, a, artifacts, report)
		return v
	}
	if a == nil {
		return v
	}
	if got, want := subjectList(v.Subjects), subjectList(a.verified.Subjects); !slices.Equal(got, want) {
		report.add("subjects", &reworded{msg: fmt.Sprintf("%s: the subjects are %s, the evaluation statement's are %s",
			name, strings.Join(got, ", "), strings.Join(want, ", ")), cause: attest.ErrSubjectMismatch}, "")
	} else {
		report.add("subjects", nil, fmt.Sprintf("%s: the same %d subject(s) as the evaluation statement", name, len(got)))
	}
	return v
}

// checkPayloadDigest requires the verified statement of bundle name to be
// the one the evaluation statement signed, whose SHA-256 payloads maps
// from the file's path. A bundle signed with the same key for another
// pack, or for another path of this pack, verifies on its own, so only
// this digest distinguishes it.
func checkPayloadDigest(name string, v *attest.Verified, payloads map[string]string, report *Report) {
	sum := sha256.Sum256(v.Raw)
	got := hex.EncodeToString(sum[:])
	signed := payloads[name]
	switch {
	case signed == "":
		report.add("attestations", &checkError{cause: causeAttestationDigest, msg: fmt.Sprintf(
			"%s: the signed evaluation statement names the file without the SHA-256 of its statement (payloadSha256), so a statement signed for another pack could stand in for it; the pack was made by an earlier auditpack: make it again", name)}, "")
	case got != strings.ToLower(signed):
		origin := "it was signed for another pack"
		for _, other := range slices.Sorted(maps.Keys(payloads)) {
			if other != name && strings.EqualFold(payloads[other], got) {
				origin = fmt.Sprintf("it is the statement the evaluation statement signed for %s, another path of this pack", other)
				break
			}
		}
		report.add("attestations", &checkError{cause: causeAttestationDigest, msg: fmt.Sprintf(
			"%s is not the statement the evaluation statement signed: payload sha256 %s, signed %s; %s", name, got, signed, origin)}, "")
	default:
		report.add("attestations", nil, fmt.Sprintf("%s: payload sha256 %s, as the evaluation statement signed", name, got))
	}
}

// subjectList renders subjects as sorted "name digest" strings, each
// digest as sorted "algorithm:value" pairs, for comparison.
func subjectList(subjects []attest.Subject) []string {
	var out []string
	for _, s := range subjects {
		var digests []string
		for _, alg := range slices.Sorted(maps.Keys(s.Digest)) {
			digests = append(digests, alg+":"+strings.ToLower(s.Digest[alg]))
		}
		out = append(out, s.Name+" "+strings.Join(digests, ","))
	}
	slices.Sort(out)
	return out
}

// checkArtifacts requires each --artifact to match a subject of the
// anchor, which every other statement shares (or, for a model signature,
// describes file by file).
func checkArtifacts(a *anchor, artifacts []attest.Artifact, report *Report) {
	for _, art := range artifacts {
		if err := attest.MatchSubjects(a.verified.Subjects, []attest.Artifact{art}); err != nil {
			report.add("artifact", fmt.Errorf("%s: %w; run auditpack lineage verify to see which files differ", AnchorPath, err), "")
			continue
		}
		var subject string
		for _, s := range a.verified.Subjects {
			if strings.EqualFold(s.Digest["sha256"], art.SHA256) {
				subject = s.Name
				break
			}
		}
		report.add("artifact", nil, fmt.Sprintf("%s matches subject %s of the signed statements", art.Name, subject))
	}
}

// bundleNames lists the Sigstore bundles index.json names under
// attestations/, sorted.
func bundleNames(index *pack.Index) []string {
	var names []string
	for _, f := range index.Files {
		if inAttestations(f.Path) && strings.HasSuffix(f.Path, attest.BundleExtension) {
			names = append(names, f.Path)
		}
	}
	slices.Sort(names)
	return names
}

// inAttestations reports whether a pack path lies under attestations/, at
// any depth.
func inAttestations(name string) bool {
	return strings.HasPrefix(name, DirAttestations+"/")
}

// listed reports whether index.json lists name.
func listed(index *pack.Index, name string) bool {
	return slices.ContainsFunc(index.Files, func(f pack.File) bool { return f.Path == name })
}
