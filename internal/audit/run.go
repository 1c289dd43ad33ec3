// Package audit runs the main job: it gathers the evidence a configuration
// names, computes metrics, evaluates the policies, renders the model card
// and summary, signs the attestations and writes the pack. It also verifies
// a pack. The command line and the GitHub Action both call it.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/modelcard"
	"github.com/auditpack/auditpack/internal/pack"
	"github.com/auditpack/auditpack/internal/policy"
)

// Pack file names.
const (
	FileMetrics       = "metrics.json"
	FilePolicy        = "policy.json"
	FileLineage       = "lineage.json"
	FileModelCardMD   = "model-card.md"
	FileModelCardJSON = "model-card.json"
	FileSummary       = "summary.md"
	// DirAttestations holds one file per statement: NAME.sigstore.json when
	// signed, NAME.intoto.json when written unsigned.
	DirAttestations = "attestations"
)

// SignMode selects how attestations are signed.
type SignMode string

// Signing modes.
const (
	SignKey  SignMode = "key"
	SignNone SignMode = "none"
)

// RunOptions configures Run.
type RunOptions struct {
	// ConfigPath is the configuration file; it defaults to
	// config.DefaultPath.
	ConfigPath string
	// OutDir is the pack directory to write; the archive is OutDir.tar.gz.
	OutDir string
	// Sign is the signing mode; SignKey needs KeyPath.
	Sign SignMode
	// UnsignedReason explains in the summary of a pack made with SignNone
	// why it is unsigned, such as "no key and no OIDC token were
	// available". Empty means that --sign none was chosen.
	UnsignedReason string
	// KeyPath is an ECDSA P-256 private key in PEM, plain or in cosign's
	// encrypted format.
	KeyPath string
	// KeyPassword decrypts an encrypted key; nil for a plain one.
	KeyPassword []byte
	// SourceDateEpoch is the value of SOURCE_DATE_EPOCH, seconds since the
	// Unix epoch; empty to use the commit time.
	SourceDateEpoch string
	// ToolVersion is recorded in the pack.
	ToolVersion string
	// Builtins holds the built-in policy presets.
	Builtins fs.FS
	// Now returns the current time; used only when neither
	// SourceDateEpoch nor a commit time is available.
	Now    func() time.Time
	Logger *slog.Logger
	// Progress receives hashing progress: a bar on a terminal, a line
	// every few seconds otherwise; nil for none.
	Progress io.Writer
	// Policies, when not nil, are applied instead of the policy files the
	// configuration names (the Action reads them at a pull request's base
	// commit). Nil loads them with policy.Load.
	Policies []policy.File
	// Baseline is the baseline to compare with (see ResolveBaseline); nil
	// resolves only a configured path source.
	Baseline *Baseline

	// Keyless signing (Sign == SignKeyless); see docs/attestations.md.
	//
	// IdentityToken is an OIDC token for the audience "sigstore" (white
	// space around it is ignored). IdentityTokenSource fetches one when
	// the certificate is requested, after the evidence is gathered, such
	// as actions.Runtime.IDToken with that audience. Set exactly one.
	IdentityToken       string
	IdentityTokenSource attest.TokenSource
	// FulcioURL, RekorURL and TSAURL override the services; empty takes
	// them from SigningConfigPath, else the public-good Fulcio and Rekor
	// v1 with no timestamp authority. TSAURL is the full RFC 3161
	// endpoint, such as https://tsa.example/api/v1/timestamp.
	FulcioURL string
	RekorURL  string
	TSAURL    string
	// RekorVersion is Rekor's major API version, 1 or 2; 0 keeps the
	// signing config's (1 without one). Rekor v2 needs a TSAURL.
	RekorVersion uint32
	// TrustedRootPath is a trusted_root.json that every bundle is checked
	// against right after signing; empty fetches the public-good root
	// through TUF.
	TrustedRootPath string
	// SigningConfigPath is a Sigstore signing config
	// (application/vnd.dev.sigstore.signingconfig.v0.2+json) that names
	// the services; optional.
	SigningConfigPath string

	// Build describes the CI run for the SLSA provenance statement; nil
	// for a run outside CI.
	Build *BuildContext
}

// Validate rejects missing and contradictory options.
func (o RunOptions) Validate() error {
	var errs []error
	if o.OutDir == "" {
		errs = append(errs, errors.New("--out must not be empty: pass the directory to write the pack to, such as --out auditpack-out"))
	}
	switch o.Sign {
	case SignKey:
		if o.KeyPath == "" {
			errs = append(errs, errors.New("--sign key needs --key with the path of a private key (or pass --sign none)"))
		}
	case SignNone:
		if o.KeyPath != "" {
			errs = append(errs, errors.New("--key is given but --sign is none; drop one of them"))
		}
	case SignKeyless:
		errs = append(errs, o.validateKeyless()...)
	default:
		errs = append(errs, fmt.Errorf("--sign must be %q or %q, or %q for Sigstore keyless signing; got %q", SignKey, SignNone, SignKeyless, o.Sign))
	}
	if o.Builtins == nil || o.Now == nil || o.Logger == nil {
		errs = append(errs, errors.New("internal: Builtins, Now and Logger must be set"))
	}
	return errors.Join(errs...)
}

// Outcome is what Run produced.
type Outcome struct {
	Verdict *policy.Verdict
	// PackDir and Archive are the paths written.
	PackDir string
	Archive string
	// Bundles lists the attestation files, relative to PackDir.
	Bundles []string
	Summary []byte
	Index   *pack.Index
	// Repository is the Git state the pack records; nil outside a
	// repository.
	Repository *lineage.Repo
}

// Run executes the main job. A returned error means no pack could be made
// (bad usage, configuration or input, or an I/O failure); a failed policy is
// not an error but Outcome.Verdict.Result == policy.OutcomeFail, and the
// pack is written in full either way.
func Run(ctx context.Context, opts RunOptions) (*Outcome, error) {
	if opts.ConfigPath == "" {
		opts.ConfigPath = config.DefaultPath
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := checkOutsideOutput(opts.ConfigPath, opts.OutDir); err != nil {
		return nil, err
	}
	log := opts.Logger

	// Configuration, policies and the signing key are checked before any
	// long work, so that a typo fails in milliseconds.
	var policies []policy.File
	cfg, err := config.LoadWith(opts.ConfigPath, func(cfg *config.Config) error {
		var err error
		policies, err = loadPolicies(cfg, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	signer, signing, err := newSigner(ctx, opts)
	if err != nil {
		return nil, err
	}

	log.InfoContext(ctx, "hashing artifacts and datasets", "config", cfg.Path)
	lin, err := gatherLineage(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}

	metricsJSON, err := evaluate(ctx, cfg, log)
	if err != nil {
		return nil, err
	}

	verdict, err := evaluatePolicies(ctx, cfg, opts, metricsJSON, policies)
	if err != nil {
		return nil, err
	}
	if err := policy.EvaluateLicenses(verdict, policies, licensed(cfg)); err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "policy verdict", "result", verdict.Result,
		"passed", verdict.Counts.Passed, "warned", verdict.Counts.Warned, "failed", verdict.Counts.Failed)

	created, err := creationTime(opts, lin.Repository)
	if err != nil {
		return nil, err
	}
	if signing, err = certify(ctx, signer, signing); err != nil {
		return nil, err
	}
	files, err := renderDocuments(cfg, opts, metricsJSON, lin, verdict, signing)
	if err != nil {
		return nil, err
	}
	if files[FileAIBOM], err = renderAIBOM(cfg, opts, metricsJSON, lin, created); err != nil {
		return nil, err
	}

	state := &build{cfg: cfg, opts: opts, lin: lin, verdict: verdict, files: files, created: created}
	bundles, err := state.signAll(ctx, signer, subjects(cfg, lin))
	if err != nil {
		return nil, err
	}

	// An interrupt before this point leaves no output; writing the pack
	// itself is not interrupted, so that an earlier pack is never lost.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	index, archive, err := writePack(opts.OutDir, files, pack.Info{Tool: pack.Tool{Name: "auditpack", Version: opts.ToolVersion}, CreatedAt: created})
	if err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "pack written", "dir", opts.OutDir, "archive", archive, "files", len(index.Files))

	return &Outcome{
		Verdict:    verdict,
		PackDir:    opts.OutDir,
		Archive:    archive,
		Bundles:    bundles,
		Summary:    files[FileSummary],
		Index:      index,
		Repository: lin.Repository,
	}, nil
}

// checkOutsideOutput rejects an output directory that contains the
// configuration file, because writing the pack replaces the whole
// directory.
func checkOutsideOutput(configPath, outDir string) error {
	config, err := filepath.Abs(configPath)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", configPath, err)
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", outDir, err)
	}
	if rel, err := filepath.Rel(out, config); err == nil && filepath.IsLocal(rel) {
		return fmt.Errorf("output directory %s contains the configuration file %s, and writing a pack replaces the whole directory: choose a directory of its own, such as --out auditpack-out", outDir, configPath)
	}
	return nil
}

// newSigner loads the signing key, and returns the signer (nil for unsigned
// packs) and a sentence saying how the pack is signed.
func newSigner(ctx context.Context, opts RunOptions) (attest.Signer, string, error) {
	switch opts.Sign {
	case SignNone:
		reason := opts.UnsignedReason
		if reason == "" {
			reason = "made with --sign none"
		}
		return nil, "unsigned (" + reason + "); the statements cannot be verified", nil
	case SignKeyless:
		signer, err := newKeylessSigner(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		return signer, "signed keylessly with a Sigstore certificate", nil
	}
	key, err := attest.LoadPrivateKey(opts.KeyPath, opts.KeyPassword)
	if err != nil {
		return nil, "", err
	}
	signer, err := attest.NewKeySigner(key)
	if err != nil {
		return nil, "", fmt.Errorf("signing key %s: %w", opts.KeyPath, err)
	}
	return signer, fmt.Sprintf("signed with the ECDSA P-256 key %s", signer.KeyID()), nil
}

// creationTime picks the pack's timestamp: SOURCE_DATE_EPOCH, else the
// commit time, else the current time (the only case that is not
// reproducible).
func creationTime(opts RunOptions, repo *lineage.Repo) (time.Time, error) {
	if opts.SourceDateEpoch != "" {
		// RFC 3339 timestamps, and so index.json, end at the year 9999.
		const maxEpoch = 253402300799 // 9999-12-31T23:59:59Z
		secs, err := strconv.ParseInt(opts.SourceDateEpoch, 10, 64)
		if err != nil || secs < 0 || secs > maxEpoch {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is invalid: set it to a whole number of seconds since 1970-01-01 UTC, from 0 to %d (the end of the year 9999)", opts.SourceDateEpoch, int64(maxEpoch))
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	if repo != nil && !repo.CommitTime.IsZero() {
		return repo.CommitTime.UTC(), nil
	}
	return opts.Now().UTC().Truncate(time.Second), nil
}

// renderDocuments returns every pack file but the attestations, by name.
func renderDocuments(cfg *config.Config, opts RunOptions, metricsJSON []byte, lin *lineage.Lineage, verdict *policy.Verdict, signing string) (map[string][]byte, error) {
	lineageJSON, err := marshal(lin)
	if err != nil {
		return nil, err
	}
	verdictJSON, err := marshal(verdict)
	if err != nil {
		return nil, err
	}

	owners := make([]modelcard.Owner, 0, len(cfg.Model.Owners))
	for _, o := range cfg.Model.Owners {
		owners = append(owners, modelcard.Owner{Name: o.Name, Contact: o.Contact})
	}
	in := modelcard.Input{
		Model: modelcard.Model{
			Name: cfg.Model.Name, Version: cfg.Model.Version, Description: cfg.Model.Description,
			Owners: owners, License: cfg.Model.License,
			IntendedUse: cfg.Model.IntendedUse, Limitations: cfg.Model.Limitations,
		},
		Metrics: metricsJSON,
		Lineage: lineageJSON,
		Verdict: verdict,
		Signing: signing,
		Tool:    "auditpack " + opts.ToolVersion,
		// Names the source when the verdict records no baseline, which
		// happens for a source that Run does not resolve.
		BaselineSource: cfg.BaselineSource().String(),
	}
	cardMD, err := modelcard.Markdown(in)
	if err != nil {
		return nil, err
	}
	cardJSON, err := modelcard.JSON(in)
	if err != nil {
		return nil, err
	}
	summary, err := modelcard.Summary(in)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		FileMetrics:       metricsJSON,
		FilePolicy:        verdictJSON,
		FileLineage:       lineageJSON,
		FileModelCardMD:   cardMD,
		FileModelCardJSON: cardJSON,
		FileSummary:       summary,
	}, nil
}

func writePack(outDir string, files map[string][]byte, info pack.Info) (*pack.Index, string, error) {
	w, err := pack.Create(outDir)
	if err != nil {
		return nil, "", err
	}
	defer w.Abort()
	for _, name := range sortedKeys(files) {
		if err := w.WriteFile(name, files[name]); err != nil {
			return nil, "", err
		}
	}
	index, err := w.Finish(info)
	if err != nil {
		return nil, "", err
	}
	return index, filepath.Clean(outDir) + ".tar.gz", nil
}

// marshal renders v as indented JSON with sorted map keys and a trailing
// newline, the form of every JSON document in a pack.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return b.Bytes(), nil
}
