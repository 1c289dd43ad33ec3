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

// otherStatements returns every statement of the pack but the evaluation
// statement, in a fixed order. They are signed first, because the
// evaluation statement records the digest of each one's payload.
func (b *build) otherStatements() ([]statement, error) {
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
	return append([]statement{aibom, b.testResultStatement(), provenance}, modelSigning...), nil
}

// signAll signs the other statements, then the evaluation statement that
// names them with their payload digests, adds every file to b.files and
// returns the paths written, the evaluation statement's first.
func (b *build) signAll(ctx context.Context, signer attest.Signer, subjects []attest.Subject) ([]string, error) {
	others, err := b.otherStatements()
	if err != nil {
		return nil, err
	}
	signed, err := signStatements(ctx, signer, subjects, others, b.files)
	if err != nil {
		return nil, err
	}
	evaluation, err := signStatements(ctx, signer, subjects, []statement{b.evaluationStatement(others, signed)}, b.files)
	if err != nil {
		return nil, err
	}
	paths := []string{evaluation[0].path}
	for _, s := range signed {
		paths = append(paths, s.path)
	}
	return paths, nil
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

// signedStatement is a statement as written to the pack.
type signedStatement struct {
	// path is the file under attestations/.
	path string
	// payloadSHA256 is the hex SHA-256 of the statement bytes: the DSSE
	// payload of a bundle, or the whole file of an unsigned statement.
	payloadSHA256 string
}

// signStatements serializes each statement once, signs it when signer is
// not nil (else writes it unsigned), adds it to files and returns what was
// written, in the order of statements.
func signStatements(ctx context.Context, signer attest.Signer, subjects []attest.Subject, statements []statement, files map[string][]byte) ([]signedStatement, error) {
	var written []signedStatement
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
		sum := sha256.Sum256(raw)
		out := signedStatement{path: attestationPath(st.name, signer != nil), payloadSHA256: hex.EncodeToString(sum[:])}
		if signer == nil {
			var buf bytes.Buffer
			if err := attest.WriteUnsigned(&buf, raw); err != nil {
				return nil, err
			}
			files[out.path] = buf.Bytes()
		} else {
			bundle, err := attest.Sign(ctx, raw, stSigner)
			if err != nil {
				return nil, fmt.Errorf("signing the %s statement: %w", st.name, err)
			}
			files[out.path] = bundle
		}
		written = append(written, out)
	}
	return written, nil
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
	// with this statement, with its statement's predicate type and payload
	// digest.
	Attestations []AttestationFile `json:"attestations"`
}

// AttestationFile is one attestation file of the pack other than the
// evaluation statement's own. PayloadSHA256 is the SHA-256 of the
// statement bytes, which are the DSSE payload that the file's own
// signature covers. The digest binds the file to this evaluation
// statement, so that a statement signed in another run cannot replace it.
type AttestationFile struct {
	Path          string `json:"path"`
	PredicateType string `json:"predicateType"`
	PayloadSHA256 string `json:"payloadSha256"`
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
// every pack document, and the file name, predicate type and payload
// digest of each other statement, so that its signature covers the whole
// pack. others and written are the other statements and what
// signStatements wrote for them, in the same order.
func (b *build) evaluationStatement(others []statement, written []signedStatement) statement {
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
		if inAttestations(name) {
			continue
		}
		sum := sha256.Sum256(b.files[name])
		pred.PackFiles = append(pred.PackFiles, PackFile{Path: name, SHA256: hex.EncodeToString(sum[:])})
	}
	pred.Attestations = []AttestationFile{}
	for i, st := range others {
		pred.Attestations = append(pred.Attestations, AttestationFile{
			Path: written[i].path, PredicateType: st.predicateType, PayloadSHA256: written[i].payloadSHA256,
		})
	}
	slices.SortFunc(pred.Attestations, func(a, b AttestationFile) int { return strings.Compare(a.Path, b.Path) })
	return statement{name: "evaluation", predicateType: attest.PredicateEvaluation, predicate: pred}
}
