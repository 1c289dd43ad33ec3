package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
// does. When one of artifacts has the signed files, the report names it.
// The comparison is file by file, because the subject is a digest over the
// files.
//
// verifyManifest checks the bundle's signature and returns the signed
// manifest (modelsign.Verify for a key; the keyless path verifies with
// attest.Verify and parses the verified payload).
func checkModelSignature(ctx context.Context, p *pack.Pack, name string, verifyManifest func([]byte) (modelsign.Manifest, error), artifacts []string, report *Report) {
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
	if len(artifacts) == 0 {
		report.add("model signing", nil, fmt.Sprintf("%s: model %s, %d file(s), in the OpenSSF model signing format", name, signed.ModelName, len(signed.Resources)))
		return
	}
	var mismatches []error
	for _, a := range artifacts {
		entry, err := lineage.HashPath(ctx, ".", a)
		if err != nil {
			report.add("model signing", fmt.Errorf("--artifact %s: %w", a, err), "")
			return
		}
		local, err := modelsign.FromEntry(a, entry)
		if err != nil {
			report.add("model signing", err, "")
			return
		}
		if err := modelsign.Compare(signed, local); err != nil {
			mismatches = append(mismatches, fmt.Errorf("%s: %w", a, err))
			continue
		}
		report.add("model signing", nil, fmt.Sprintf("%s: %s matches the signed model %s (%d file(s))", name, a, signed.ModelName, len(signed.Resources)))
		return
	}
	// Every --artifact is matched against the other statements' subjects,
	// so a model signature that none of them is describes a model the
	// caller did not ask about.
	report.add("model signing", nil, fmt.Sprintf("%s: signs model %s, which is none of the --artifact paths; not compared (%v)", name, signed.ModelName, errors.Join(mismatches...)))
}

// jsonDocument marks bytes that already hold a JSON document, so that a
// predicate can carry them unchanged.
func jsonDocument(data []byte) json.RawMessage { return json.RawMessage(data) }
