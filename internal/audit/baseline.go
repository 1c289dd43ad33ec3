package audit

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/pack"
	"github.com/auditpack/auditpack/internal/policy"
)

// ErrBaselineNotFound means the release or asset that should hold the
// baseline pack does not exist. A ReleaseFetcher wraps it.
var ErrBaselineNotFound = errors.New("baseline pack not found")

// ReleaseFetcher downloads a pack attached to a release.
type ReleaseFetcher interface {
	// FetchReleaseAsset writes the asset name of the release of tag (the
	// latest release when tag is empty) to the file dst, and returns the
	// release's tag. A missing release or asset wraps ErrBaselineNotFound.
	FetchReleaseAsset(ctx context.Context, tag, name, dst string) (string, error)
}

// BaselineOptions says where the baseline pack is and how to verify it.
type BaselineOptions struct {
	// Source selects the pack.
	Source config.BaselineSource
	// Settings is the configuration's baseline section; nil means the
	// defaults (the run's own archive name, no key, unverified refused).
	Settings *config.Baseline
	// Resolve turns a path from the configuration into a file path.
	Resolve func(string) string
	// AssetName is the release asset to use when Settings names none.
	AssetName string
	// FallbackKey verifies the pack when Settings names no public key;
	// the Action passes the public half of its signing key, because the
	// release's pack was signed by the same pipeline. Nil for none.
	FallbackKey *ecdsa.PublicKey
	// TrustedRootPath is the trusted_root.json that a baseline signed
	// keylessly (Settings names an identity) is verified against; empty
	// fetches the Sigstore public-good root through TUF, which needs
	// network access. It is read only when such a pack is found.
	TrustedRootPath string
	// Releases fetches release assets; nil outside GitHub, where release
	// sources are reported as missing.
	Releases ReleaseFetcher
	// TempDir receives a downloaded pack.
	TempDir string
	// SourceFrom names where Source came from, such as "the baseline
	// input"; empty means the configuration.
	SourceFrom string
	// TrustedRootFrom names where a trusted root is given, for the error
	// when TUF cannot be reached, such as "the trusted-root input"; empty
	// names both the flag and the Action's input.
	TrustedRootFrom string
	// SourceError locates a problem with Source, such as a path that does
	// not exist, at the key that set it. Nil names baseline.source.
	SourceError func(msg string) error
}

// sourceError returns the error for a problem with the source.
func (o BaselineOptions) sourceError(msg string) error {
	if o.SourceError != nil {
		return o.SourceError(msg)
	}
	return errors.New("baseline.source: " + msg)
}

// Baseline is the outcome of looking for the baseline pack.
type Baseline struct {
	Info policy.BaselineInfo
	// Metrics is the baseline pack's metrics.json; nil unless Info.Used().
	Metrics []byte
}

// metrics returns the metrics to compare with, nil for none.
func (b *Baseline) metrics() []byte {
	if b == nil || !b.Info.Used() {
		return nil
	}
	return b.Metrics
}

// info returns what the verdict records, nil when no baseline was sought.
func (b *Baseline) info() *policy.BaselineInfo {
	if b == nil {
		return nil
	}
	info := b.Info
	return &info
}

// ResolveBaseline finds, downloads when needed, and verifies the baseline
// pack. A release or asset that does not exist, and a refused or unreadable
// pack, are not errors: the returned Baseline says why it is not used. An
// error means that no decision about the baseline could be reached: the
// options are unusable (a public key file that cannot be read, a path source
// that does not exist), or the release lookup failed for another reason
// than a missing release, such as a server error or a token without the
// permission, which would otherwise turn off every rule that compares with
// the baseline without a word.
func ResolveBaseline(ctx context.Context, opts BaselineOptions) (*Baseline, error) {
	settings := opts.Settings
	if settings == nil {
		settings = &config.Baseline{}
	}

	// The key to verify with.
	key := opts.FallbackKey
	if settings.PublicKey != "" {
		k, err := attest.LoadPublicKey(opts.Resolve(settings.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("baseline.public_key: %w", err)
		}
		key = k
	}

	// Locate the pack.
	src := opts.Source
	var path string
	switch src.Kind {
	case config.BaselineNone:
		reason := "disabled in the configuration"
		if opts.SourceFrom != "" {
			reason = "disabled by " + opts.SourceFrom
		}
		return &Baseline{Info: policy.BaselineInfo{Source: "none", Status: policy.BaselineDisabled, Reason: reason}}, nil
	case config.BaselinePath:
		path = opts.Resolve(src.Value)
		if _, err := os.Stat(path); err != nil {
			// The source names this file on purpose, so its absence is a
			// mistake to fix rather than a first run without a baseline.
			cause := err
			if errors.Is(err, fs.ErrNotExist) {
				cause = fs.ErrNotExist
			} else if u := errors.Unwrap(err); u != nil {
				cause = u
			}
			return nil, opts.sourceError(fmt.Sprintf("the baseline pack %s cannot be read: %v; give the path of a pack (a .tar.gz archive or a pack directory), or use latest-release, tag:NAME or none", src.Value, cause))
		}
	case config.BaselineLatestRelease, config.BaselineTag:
		asset := settings.Asset
		if asset == "" {
			asset = opts.AssetName
		}
		where := "the latest release"
		if src.Kind == config.BaselineTag {
			where = "release " + src.Value
		}
		if opts.Releases == nil {
			return missing(where, "no GitHub API to read releases from; outside GitHub Actions use baseline source path:PACK"), nil
		}
		path = filepath.Join(opts.TempDir, "baseline-"+asset)
		tag, err := opts.Releases.FetchReleaseAsset(ctx, src.Value, asset, path)
		if err != nil {
			if errors.Is(err, ErrBaselineNotFound) {
				return missing(where+", asset "+asset, err.Error()), nil
			}
			return nil, fmt.Errorf("finding the baseline pack (%s, asset %s) failed, so the rules that compare with the baseline cannot be checked: %w", where, asset, err)
		}
		src.Value = tag
		path = filepath.Clean(path)
		return verifyBaseline(ctx, path, "release "+tag+", asset "+asset, key, settings, opts)
	default:
		return nil, fmt.Errorf("unknown baseline source kind %q", src.Kind)
	}
	return verifyBaseline(ctx, path, "path "+src.Value, key, settings, opts)
}

func missing(source, reason string) *Baseline {
	return &Baseline{Info: policy.BaselineInfo{Source: source, Status: policy.BaselineMissing, Reason: reason}}
}

// verifyBaseline reads the pack, checks its signature, by the keyless
// signer the settings name or else with key, and keeps its metrics. A file
// that is not a pack is refused whatever the settings. A pack that does not
// verify is refused unless settings allow it. The error is a trusted root
// that cannot be loaded.
func verifyBaseline(ctx context.Context, path, source string, key *ecdsa.PublicKey, settings *config.Baseline, bopts BaselineOptions) (*Baseline, error) {
	b := &Baseline{Info: policy.BaselineInfo{Source: source}}
	digest, err := packDigest(path)
	if err != nil {
		b.Info.Status, b.Info.Reason = policy.BaselineMissing, err.Error()
		return b, nil
	}
	b.Info.SHA256 = digest

	// Read the pack first, so that a file that is no pack is reported as
	// such rather than as a failed signature. Only the metrics are kept
	// from it while Verify reads the pack again.
	p, err := pack.Open(ctx, path)
	switch {
	case errors.Is(err, pack.ErrInvalidPack):
		b.Info.Status, b.Info.Reason = policy.BaselineRefused, "it is not an audit pack: "+invalidPackReason(path, err)
		return b, nil
	case err != nil:
		b.Info.Status, b.Info.Reason = policy.BaselineMissing, "reading the baseline pack: "+err.Error()
		return b, nil
	}
	metrics, metricsErr := p.ReadFile(FileMetrics)

	// Verify the signature before trusting a number.
	var opts VerifyOptions
	var signer, problem string
	switch {
	case settings.Keyless():
		trusted, err := baselineTrustedRoot(ctx, settings, bopts)
		if err != nil {
			return nil, err
		}
		opts = VerifyOptions{
			TrustedMaterial: trusted,
			Identity: attest.Identity{
				SubjectAlternativeName:       settings.Identity,
				SubjectAlternativeNameRegexp: settings.IdentityRegexp,
				Issuer:                       settings.Issuer,
			},
			TransparencyLogThreshold: 1,
		}
		signer = "keyless " + settings.Identity + settings.IdentityRegexp + " (issuer " + settings.Issuer + ")"
	case key != nil:
		opts = VerifyOptions{PublicKey: key}
		id, _ := attest.KeyID(key)
		signer = "key " + id
	default:
		problem = "there is no key to verify it with: set baseline.public_key, or baseline.identity and baseline.issuer for a keyless signer, or sign runs with a key"
	}
	if problem == "" {
		report, err := Verify(ctx, path, opts)
		switch {
		case errors.Is(err, ErrVerification):
			problem = "it did not verify: " + firstFailure(report)
		case err != nil:
			problem = "it could not be verified: " + err.Error()
		case report.Signer != "":
			// The identity the certificate names, not the pattern it
			// matched.
			b.Info.Signer = "keyless " + report.Signer
		default:
			b.Info.Signer = signer
		}
	}
	switch {
	case problem == "":
		b.Info.Status = policy.BaselineVerified
	case settings.AllowUnverified:
		b.Info.Status, b.Info.Reason = policy.BaselineUnverified, "baseline.allow_unverified is true, so it is used although "+problem
	default:
		b.Info.Status, b.Info.Reason = policy.BaselineRefused, problem
		return b, nil
	}

	// Keep the numbers.
	if metricsErr != nil {
		b.Info.Status, b.Info.Reason = policy.BaselineMissing, "the baseline pack has no readable metrics.json: "+metricsErr.Error()
		return b, nil
	}
	b.Metrics = metrics
	return b, nil
}

// baselineTrustedRoot loads the trusted root that a keyless baseline is
// verified against. Its error names the configuration key that asked for a
// keyless signer and where a trusted root can be given.
func baselineTrustedRoot(ctx context.Context, settings *config.Baseline, opts BaselineOptions) (root.TrustedMaterial, error) {
	keyName := "baseline.identity"
	if settings.Identity == "" {
		keyName = "baseline.identity_regexp"
	}
	if opts.TrustedRootPath != "" {
		trusted, err := LoadTrustedRoot(ctx, opts.TrustedRootPath)
		if err != nil {
			return nil, fmt.Errorf("verifying the baseline by its keyless signer (%s): %w", keyName, err)
		}
		return trusted, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	trusted, err := root.FetchTrustedRoot()
	if err != nil {
		from := opts.TrustedRootFrom
		if from == "" {
			from = "--trusted-root FILE, or the trusted-root input of the Action"
		}
		return nil, fmt.Errorf("verifying the baseline by its keyless signer (%s) needs the Sigstore trusted root, and fetching the public-good one through TUF failed: %w; for a private or offline Sigstore deployment, give its trusted_root.json with %s", keyName, err, from)
	}
	return trusted, nil
}

// invalidPackReason describes why pack.Open rejected path, without the
// path, which the baseline's source names already. A file that does not
// start as gzip data is "not a gzip file", whatever the decoder's error.
func invalidPackReason(path string, err error) string {
	msg := strings.TrimPrefix(err.Error(), path+": ")
	if strings.Contains(msg, "not a gzip stream") &&
		(errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return "not a gzip file"
	}
	return strings.TrimPrefix(msg, pack.ErrInvalidPack.Error()+": ")
}

// packDigest returns the SHA-256 of an archive, or of a directory's
// index.json.
func packDigest(path string) (string, error) {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		path = filepath.Join(path, pack.IndexName)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the baseline pack: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading the baseline pack: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func firstFailure(r *Report) string {
	if r == nil {
		return "no report"
	}
	for _, c := range r.Checks {
		if !c.OK {
			return c.Name + ": " + c.Detail
		}
	}
	return "no check passed"
}

// localBaseline resolves a baseline that Run can find without GitHub: a
// configured path source. Other sources are left to the caller (the
// Action), so a plain run records no baseline.
func localBaseline(ctx context.Context, cfg *config.Config) (*Baseline, error) {
	if cfg.Baseline == nil || cfg.BaselineSource().Kind != config.BaselinePath {
		return nil, nil
	}
	return ResolveBaseline(ctx, BaselineOptions{Source: cfg.BaselineSource(), Settings: cfg.Baseline, Resolve: cfg.Resolve,
		SourceError: func(msg string) error { return cfg.Errorf("baseline.source", "%s", msg) }})
}

// loadPolicies returns opts.Policies, or loads the configured files.
func loadPolicies(cfg *config.Config, opts RunOptions) ([]policy.File, error) {
	if opts.Policies != nil {
		return opts.Policies, nil
	}
	return policy.Load(cfg.Policies, cfg.Resolve, opts.Builtins)
}

// evaluatePolicies evaluates the policies against the metrics and the
// baseline, and records the baseline in the verdict.
func evaluatePolicies(ctx context.Context, cfg *config.Config, opts RunOptions, metricsJSON []byte, policies []policy.File) (*policy.Verdict, error) {
	baseline := opts.Baseline
	if baseline == nil {
		var err error
		if baseline, err = localBaseline(ctx, cfg); err != nil {
			return nil, err
		}
	}
	verdict, err := policy.EvaluateBaseline(metricsJSON, baseline.metrics(), policies)
	if err != nil {
		return nil, err
	}
	verdict.Baseline = baseline.info()
	return verdict, nil
}
