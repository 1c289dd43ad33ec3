package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelcard"
	"github.com/auditpack/auditpack/internal/policy"
)

// build carries what Run has gathered to the functions that make the
// pack's statements.
type build struct {
	cfg     *config.Config
	opts    RunOptions
	lin     *lineage.Lineage
	verdict *policy.Verdict
	// files holds every pack document but the attestations, by path.
	files   map[string][]byte
	created time.Time
}

// statement is one in-toto statement of the pack before signing.
type statement struct {
	// name is the file name under attestations/, without extension.
	name          string
	predicateType string
	predicate     any
	// subjects, when not nil, replace the model artifacts as subjects.
	subjects []attest.Subject
	// signer, when not nil, adapts the pack's signer for this statement.
	signer func(attest.Signer) attest.Signer
}

// statements returns every statement the pack carries, in a fixed order.
func (b *build) statements() ([]statement, error) {
	aibom, err := b.aibomStatement()
	if err != nil {
		return nil, err
	}
	provenance, err := b.provenanceStatement()
	if err != nil {
		return nil, err
	}
	modelSigning, err := b.modelSigningStatements()
	if err != nil {
		return nil, err
	}
	others := append([]statement{aibom, b.testResultStatement(), provenance}, modelSigning...)
	return append([]statement{b.evaluationStatement(others)}, others...), nil
}

// attestationPath returns the pack path of statement name: a Sigstore
// bundle when signed, else the unsigned statement.
func attestationPath(name string, signed bool) string {
	if signed {
		return DirAttestations + "/" + name + attest.BundleExtension
	}
	return DirAttestations + "/" + name + attest.UnsignedExtension
}

// subjects returns the model artifacts as statement subjects, or each of
// their files with model.subjects: per-file (see perFileSubjects).
func subjects(cfg *config.Config, lin *lineage.Lineage) []attest.Subject {
	if cfg.Model.Subjects == config.SubjectsPerFile {
		return perFileSubjects(lin)
	}
	var out []attest.Subject
	for _, a := range lin.Artifacts {
		out = append(out, attest.Subject{Name: a.Path, Digest: map[string]string{"sha256": a.SHA256}})
	}
	return out
}

// signStatements serializes each statement once, signs it when signer is
// not nil (else writes it unsigned), adds it to files and returns the
// paths written.
func signStatements(ctx context.Context, signer attest.Signer, subjects []attest.Subject, statements []statement, files map[string][]byte) ([]string, error) {
	var paths []string
	for _, st := range statements {
		stSubjects, stSigner := subjects, signer
		if st.subjects != nil {
			stSubjects = st.subjects
		}
		if st.signer != nil && signer != nil {
			stSigner = st.signer(signer)
		}
		raw, err := attest.NewStatement(stSubjects, st.predicateType, st.predicate)
		if err != nil {
			return nil, fmt.Errorf("building the %s statement: %w", st.name, err)
		}
		if signer == nil {
			var buf bytes.Buffer
			if err := attest.WriteUnsigned(&buf, raw); err != nil {
				return nil, err
			}
			path := attestationPath(st.name, false)
			files[path] = buf.Bytes()
			paths = append(paths, path)
			continue
		}
		bundle, err := attest.Sign(ctx, raw, stSigner)
		if err != nil {
			return nil, fmt.Errorf("signing the %s statement: %w", st.name, err)
		}
		path := attestationPath(st.name, true)
		files[path] = bundle
		paths = append(paths, path)
	}
	return paths, nil
}

// EvaluationPredicate is the predicate of the evaluation statement. It
// carries the documents of the pack, so that a verifier can trust them
// through the signature, and the digest of every other pack file, so that
// the signature covers the whole pack and not only the unsigned index. It
// is the anchor of the pack: it also names every other attestation file, so
// that a verifier can tell a file added to or removed from attestations/.
type EvaluationPredicate struct {
	Model     modelcard.Model `json:"model"`
	Tool      Tool            `json:"tool"`
	CreatedAt string          `json:"createdAt"`
	Metrics   json.RawMessage `json:"metrics"`
	Verdict   json.RawMessage `json:"verdict"`
	Lineage   json.RawMessage `json:"lineage"`
	PackFiles []PackFile      `json:"packFiles"`
	// Attestations names every other file of attestations/ that was made
	// with this statement, with its statement's predicate type.
	Attestations []AttestationFile `json:"attestations"`
}

// AttestationFile is one attestation file of the pack, other than the
// evaluation statement's own, and the predicate type of its statement.
type AttestationFile struct {
	Path          string `json:"path"`
	PredicateType string `json:"predicateType"`
}

// Tool names the program that made a pack.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PackFile is one file of the pack and its digest.
type PackFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// evaluationStatement carries metrics, verdict and lineage, the digest of
// every pack document, so that the signature covers the whole pack, and
// the file name and predicate type of each other statement.
func (b *build) evaluationStatement(others []statement) statement {
	m := b.cfg.Model
	pred := EvaluationPredicate{
		Model:     modelcard.Model{Name: m.Name, Version: m.Version, Description: m.Description, License: m.License},
		Tool:      Tool{Name: "auditpack", Version: b.opts.ToolVersion},
		CreatedAt: b.created.Format(time.RFC3339),
		Metrics:   b.files[FileMetrics],
		Verdict:   b.files[FilePolicy],
		Lineage:   b.files[FileLineage],
	}
	for _, name := range sortedKeys(b.files) {
		sum := sha256.Sum256(b.files[name])
		pred.PackFiles = append(pred.PackFiles, PackFile{Path: name, SHA256: hex.EncodeToString(sum[:])})
	}
	// The signer is nil exactly when the signing mode is none (newSigner),
	// so the extension is the one signStatements gives the file.
	signed := b.opts.Sign != SignNone
	pred.Attestations = []AttestationFile{}
	for _, st := range others {
		pred.Attestations = append(pred.Attestations, AttestationFile{Path: attestationPath(st.name, signed), PredicateType: st.predicateType})
	}
	slices.SortFunc(pred.Attestations, func(a, b AttestationFile) int { return strings.Compare(a.Path, b.Path) })
	return statement{name: "evaluation", predicateType: attest.PredicateEvaluation, predicate: pred}
}
