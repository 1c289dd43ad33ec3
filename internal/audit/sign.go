package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/auditpack/auditpack/internal/attest"
)

// SignKeyless signs with a short-lived Fulcio certificate for the OIDC
// identity of the run (in GitHub Actions, the workflow), records each
// signature in Rekor and, when a timestamp authority is configured, adds
// an RFC 3161 timestamp. Such packs are not byte-identical between runs.
const SignKeyless SignMode = "keyless"

// rekorAPIVersions are the Rekor major API versions sigstore-go v1.3.0 can
// write to.
var rekorAPIVersions = []uint32{1, 2}

// validateKeyless reports keyless options that contradict each other.
func (o RunOptions) validateKeyless() []error {
	var errs []error
	if o.KeyPath != "" {
		errs = append(errs, errors.New("--key is given but --sign is keyless; drop one of them"))
	}
	if o.IdentityToken != "" && o.IdentityTokenSource != nil {
		errs = append(errs, errors.New("internal: IdentityToken and IdentityTokenSource are both set"))
	}
	if o.IdentityToken == "" && o.IdentityTokenSource == nil {
		errs = append(errs, errors.New("keyless signing needs an OIDC identity token: run in GitHub Actions with permissions: id-token: write, or pass --identity-token (or SIGSTORE_ID_TOKEN)"))
	}
	switch o.RekorVersion {
	case 0, 1, 2:
	default:
		errs = append(errs, fmt.Errorf("--rekor-version must be 1 or 2, got %d", o.RekorVersion))
	}
	return errs
}

// newKeylessSigner resolves the services (explicit URLs, else the signing
// config, else the public-good instance) and the trusted root, and
// returns a signer that has not yet contacted any service.
func newKeylessSigner(ctx context.Context, opts RunOptions) (*attest.KeylessSigner, error) {
	services, err := keylessServices(opts)
	if err != nil {
		return nil, err
	}
	trusted, err := LoadTrustedRoot(ctx, opts.TrustedRootPath)
	if err != nil {
		return nil, err
	}
	token := opts.IdentityTokenSource
	if token == nil {
		token = attest.StaticToken(opts.IdentityToken)
	}
	signer, err := attest.NewKeylessSigner(attest.KeylessOptions{
		FulcioURL:    services.fulcio,
		RekorURL:     services.rekor,
		RekorVersion: services.rekorVersion,
		TSAURLs:      services.tsa,
		Token:        token,
		TrustedRoot:  trusted,
	})
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	opts.Logger.InfoContext(ctx, "keyless signing", "fulcio", services.fulcio, "rekor", services.rekor,
		"rekorVersion", services.rekorVersion, "tsa", services.tsa)
	return signer, nil
}

// keylessServiceURLs are the services a keyless signature uses.
type keylessServiceURLs struct {
	fulcio       string
	rekor        string
	rekorVersion uint32
	tsa          []string
}

// keylessServices picks each service: the explicit option when set, else
// the signing config's choice when one is given, else the public-good
// instance (Fulcio and Rekor v1, no timestamp authority).
func keylessServices(opts RunOptions) (keylessServiceURLs, error) {
	s := keylessServiceURLs{fulcio: attest.PublicFulcioURL, rekor: attest.PublicRekorURL, rekorVersion: 1}
	if opts.SigningConfigPath != "" {
		config, err := root.NewSigningConfigFromPath(opts.SigningConfigPath)
		if err != nil {
			return s, fmt.Errorf("reading signing config %s: %w", opts.SigningConfigPath, err)
		}
		now := time.Now()
		fulcio, err := root.SelectService(config.FulcioCertificateAuthorityURLs(), []uint32{1}, now)
		if err != nil {
			return s, fmt.Errorf("signing config %s: no usable Fulcio service: %w", opts.SigningConfigPath, err)
		}
		rekor, err := root.SelectService(config.RekorLogURLs(), rekorAPIVersions, now)
		if err != nil {
			return s, fmt.Errorf("signing config %s: no usable Rekor service: %w", opts.SigningConfigPath, err)
		}
		s.fulcio, s.rekor, s.rekorVersion = fulcio.URL, rekor.URL, rekor.MajorAPIVersion
		s.tsa = nil
		if tsa, err := root.SelectService(config.TimestampAuthorityURLs(), []uint32{1}, now); err == nil {
			s.tsa = []string{tsa.URL}
		}
	}
	if opts.FulcioURL != "" {
		s.fulcio = opts.FulcioURL
	}
	if opts.RekorURL != "" {
		s.rekor = opts.RekorURL
		s.rekorVersion = 1
	}
	if opts.RekorVersion != 0 {
		s.rekorVersion = opts.RekorVersion
	}
	if opts.TSAURL != "" {
		s.tsa = []string{opts.TSAURL}
	}
	return s, nil
}

// LoadTrustedRoot reads a trusted_root.json file, or, when path is empty,
// fetches the Sigstore public-good trusted root through TUF (cached under
// the user's home directory by sigstore-go). Without network access the
// second fails, and the error says to pass a file.
func LoadTrustedRoot(ctx context.Context, path string) (root.TrustedMaterial, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if path != "" {
		trusted, err := root.NewTrustedRootFromPath(path)
		if err != nil {
			return nil, fmt.Errorf("reading trusted root %s: %w", path, err)
		}
		return trusted, nil
	}
	// NOTE: sigstore-go v1.3.0's TUF client takes no context, so a
	// cancelled run waits for its own timeouts here.
	trusted, err := root.FetchTrustedRoot()
	if err != nil {
		return nil, fmt.Errorf("fetching the Sigstore public-good trusted root through TUF (for a private or offline deployment, give a trusted root: --trusted-root FILE, or the trusted-root input of the Action): %w", err)
	}
	return trusted, nil
}

// certify fetches the keyless certificate, so that the pack's documents
// can name the identity that signs them; for other signers it returns
// described unchanged.
func certify(ctx context.Context, signer attest.Signer, described string) (string, error) {
	keyless, ok := signer.(*attest.KeylessSigner)
	if !ok {
		return described, nil
	}
	cert, err := keyless.Certify(ctx)
	if err != nil {
		return "", fmt.Errorf("keyless signing: %w", err)
	}
	return fmt.Sprintf("signed keylessly with a Sigstore certificate for %s (OIDC issuer %s), each signature recorded in a transparency log",
		cert.SubjectAlternativeName, cert.Issuer), nil
}
