package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
// pack. A missing, refused or unreadable baseline is not an error: the
// returned Baseline says why it is not used. An error means the options
// are unusable, such as a public key file that cannot be read.
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
		return &Baseline{Info: policy.BaselineInfo{Source: "none", Status: policy.BaselineDisabled,
			Reason: "the configuration asks for no baseline"}}, nil
	case config.BaselinePath:
		path = opts.Resolve(src.Value)
		if _, err := os.Stat(path); err != nil {
			return missing("path "+src.Value, fmt.Sprintf("no pack at %s: %v", src.Value, errors.Unwrap(err))), nil
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
			return missing(where+", asset "+asset, "downloading the baseline failed: "+err.Error()), nil
		}
		src.Value = tag
		path = filepath.Clean(path)
		return verifyBaseline(ctx, path, "release "+tag+", asset "+asset, key, settings, opts.TrustedRootPath)
	default:
		return nil, fmt.Errorf("unknown baseline source kind %q", src.Kind)
	}
	return verifyBaseline(ctx, path, "path "+src.Value, key, settings, opts.TrustedRootPath)
}

func missing(source, reason string) *Baseline {
	return &Baseline{Info: policy.BaselineInfo{Source: source, Status: policy.BaselineMissing, Reason: reason}}
}

// verifyBaseline reads the pack, checks its signature, by the keyless
// signer the settings name or else with key, and keeps its metrics. A file
// that is not a pack is refused whatever the settings. A pack that does not
// verify is refused unless settings allow it. The error is a trusted root
// that cannot be loaded.
func verifyBaseline(ctx context.Context, path, source string, key *ecdsa.PublicKey, settings *config.Baseline, trustedRootPath string) (*Baseline, error) {
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
		b.Info.Status, b.Info.Reason = policy.BaselineRefused, "it is not an audit pack: "+err.Error()
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
		trusted, err := LoadTrustedRoot(ctx, trustedRootPath)
		if err != nil {
			return nil, fmt.Errorf("verifying the baseline by its keyless signer (baseline.identity; the Action takes the trusted root from its trusted-root input): %w", err)
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
	return ResolveBaseline(ctx, BaselineOptions{Source: cfg.BaselineSource(), Settings: cfg.Baseline, Resolve: cfg.Resolve})
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
