package audit

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelsign"
	"github.com/auditpack/auditpack/internal/pack"
)

// modelSigningStatements signs each model artifact in the OpenSSF model
// signing format: attestations/model-signing.sigstore.json for a single
// artifact, model-signing-N (N from 1) for several.
func (b *build) modelSigningStatements() ([]statement, error) {
	var out []statement
	for i, a := range b.lin.Artifacts {
		manifest, err := modelsign.FromEntry(b.cfg.Resolve(b.cfg.Model.Artifacts[i]), a)
		if err != nil {
			return nil, err
		}
		subject, err := manifest.Subject()
		if err != nil {
			return nil, err
		}
		name := "model-signing"
		if len(b.lin.Artifacts) > 1 {
			name = fmt.Sprintf("model-signing-%d", i+1)
		}
		out = append(out, statement{
			name: name, predicateType: modelsign.PredicateType, predicate: manifest.Predicate,
			subjects: []attest.Subject{subject}, signer: modelsign.Signer,
		})
	}
	return out, nil
}

// checkModelSignature verifies a model signing bundle as model_signing
// does, and compares the signed files with the model artifact the verified
// anchor's lineage records for this bundle (model-signing for a single
// artifact, model-signing-N for the Nth). The comparison is file by file,
// because the statement's subject is a digest over the files. Without an
// anchor there is nothing trusted to compare with, and the missing anchor
// has already failed the verification.
//
// verifyManifest checks the bundle's signature and returns the signed
// manifest (modelsign.Verify for a key; the keyless path verifies with
// attest.Verify and parses the verified payload).
func checkModelSignature(p *pack.Pack, name string, verifyManifest func([]byte) (modelsign.Manifest, error), a *anchor, artifacts []attest.Artifact, report *Report) {
	data, err := p.ReadFile(name)
	if err != nil {
		report.add("model signing", fmt.Errorf("%s: %w", name, err), "")
		return
	}
	signed, err := verifyManifest(data)
	if err != nil {
		report.add("model signing", fmt.Errorf("%s: %w", name, err), "")
		return
	}
	if a == nil {
		return
	}
	i, ok := modelSigningArtifact(name, len(a.lineage.Artifacts))
	if !ok {
		report.add("model signing", fmt.Errorf("%s: %w: the file name matches none of the %d model artifact(s) of the signed lineage (model-signing%s for one artifact, model-signing-N%s for several)",
			name, modelsign.ErrManifest, len(a.lineage.Artifacts), attest.BundleExtension, attest.BundleExtension), "")
		return
	}
	entry := a.lineage.Artifacts[i]
	expected := modelsign.Manifest{Predicate: modelsign.Predicate{Resources: resources(entry)}}
	if err := compareModel(signed, expected, entry.Path); err != nil {
		report.add("model signing", fmt.Errorf("%s: the signed model %s differs from artifact %s of the signed lineage: %w", name, signed.ModelName, entry.Path, err), "")
		return
	}
	detail := fmt.Sprintf("%s: signs model %s, %d file(s), the files and digests of artifact %s in the signed lineage", name, signed.ModelName, len(signed.Resources), entry.Path)
	if n := ignoredFiles(entry, signed); n > 0 {
		detail += fmt.Sprintf("; model_signing ignores the artifact's %d file(s) under %s, which the lineage digest covers", n, strings.Join(modelsign.VerifyIgnorePaths(signed), ", "))
	}
	for _, art := range artifacts {
		if strings.EqualFold(art.SHA256, entry.SHA256) {
			detail += fmt.Sprintf("; --artifact %s matches the signed model", art.Name)
		}
	}
	report.add("model signing", nil, detail)
}

// compareModel compares a signed model manifest with the manifest of the
// model at path as model_signing does (modelsign.CompareModel), naming the
// resource of a single-file model, which the format calls ".", by path.
func compareModel(signed, local modelsign.Manifest, path string) error {
	return modelsign.CompareModel(signed, local, path)
}

// checkModelArtifacts compares the model signature of a verified bundle
// with each --artifact, file by file: the statement's subject is a digest
// over the model's files, which no artifact digest can match directly.
func checkModelArtifacts(bundlePath string, v *attest.Verified, artifacts []attest.Artifact, entries []lineage.Entry, report *Report) {
	signed, err := modelsign.ParseStatement(v.Raw)
	if err != nil {
		report.add("model signing", fmt.Errorf("%s: %w", bundlePath, err), "")
		return
	}
	signedFile := len(signed.Resources) == 1 && signed.Resources[0].Name == "."
	for i, art := range artifacts {
		if localFile := entries[i].Type == lineage.TypeFile; localFile != signedFile {
			kind := map[bool]string{true: "a single file", false: "a directory"}
			report.add("subjects", &reworded{msg: fmt.Sprintf("%s: --artifact %s is %s, but the signed model %s is %s",
				bundlePath, art.Name, kind[localFile], signed.ModelName, kind[signedFile]), cause: attest.ErrSubjectMismatch}, "")
			continue
		}
		local, err := modelsign.FromEntry(art.Name, entries[i])
		if err == nil {
			err = compareModel(signed, local, art.Name)
		}
		if err != nil {
			report.add("subjects", &reworded{msg: fmt.Sprintf("%s: --artifact %s is not the signed model %s: %v", bundlePath, art.Name, signed.ModelName, err), cause: attest.ErrSubjectMismatch}, "")
			continue
		}
		report.add("subjects", nil, fmt.Sprintf("--artifact %s matches the signed model %s: the same %d file(s) and digests", art.Name, signed.ModelName, len(signed.Resources)))
	}
}

// modelSigningArtifact returns the index of the lineage artifact that the
// model signing bundle name signs, given n artifacts: modelSigningStatements
// names the bundle model-signing for one artifact and model-signing-N
// (N from 1) for several.
func modelSigningArtifact(name string, n int) (int, bool) {
	base := strings.TrimSuffix(path.Base(name), attest.BundleExtension)
	if n == 1 {
		return 0, base == "model-signing"
	}
	suffix, ok := strings.CutPrefix(base, "model-signing-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 1 || i > n || strconv.Itoa(i) != suffix {
		return 0, false
	}
	return i - 1, true
}

// resources lists all of an artifact's files as model signing resources,
// from the lineage alone. Unlike modelsign.FromEntry, it keeps the git
// paths model_signing ignores, which compareModel leaves out.
func resources(e lineage.Entry) []modelsign.Resource {
	if e.Type == lineage.TypeFile {
		return []modelsign.Resource{{Name: ".", Algorithm: modelsign.HashSHA256, Digest: e.SHA256}}
	}
	out := make([]modelsign.Resource, 0, len(e.Files))
	for _, f := range e.Files {
		out = append(out, modelsign.Resource{Name: f.Path, Algorithm: modelsign.HashSHA256, Digest: f.SHA256})
	}
	return out
}

// ignoredFiles counts the files of a directory artifact that model_signing
// leaves out when it verifies the signed manifest.
func ignoredFiles(e lineage.Entry, signed modelsign.Manifest) int {
	ignore := modelsign.VerifyIgnorePaths(signed)
	n := 0
	for _, f := range e.Files {
		if modelsign.Ignored(f.Path, ignore) {
			n++
		}
	}
	return n
}

// jsonDocument marks bytes that already hold a JSON document, so that a
// predicate can carry them unchanged.
func jsonDocument(data []byte) json.RawMessage { return json.RawMessage(data) }
