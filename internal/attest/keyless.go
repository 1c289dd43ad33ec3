package attest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
)

// Addresses of the Sigstore public-good instance, the keyless defaults.
const (
	PublicFulcioURL = "https://fulcio.sigstore.dev"
	PublicRekorURL  = "https://rekor.sigstore.dev"
)

// ErrIdentityToken marks a missing or unusable OIDC identity token.
var ErrIdentityToken = errors.New("no usable OIDC identity token")

// TokenSource returns an OIDC identity token for the audience "sigstore".
// It is called once per KeylessSigner, when the first statement is signed,
// so that a short-lived token is fetched as late as possible.
type TokenSource func(ctx context.Context) (string, error)

// StaticToken returns a TokenSource that always returns token, with
// surrounding white space (such as the trailing newline of a token file)
// removed.
func StaticToken(token string) TokenSource {
	return func(context.Context) (string, error) { return token, nil }
}

// KeylessOptions configures a KeylessSigner.
type KeylessOptions struct {
	// FulcioURL is the base URL of the Fulcio certificate authority.
	FulcioURL string
	// RekorURL is the base URL of the Rekor transparency log.
	RekorURL string
	// RekorVersion is the log's major API version, 1 or 2; 0 means 1.
	// Rekor v2 gives no integrated time, so it needs TSAURLs.
	RekorVersion uint32
	// TSAURLs are the RFC 3161 timestamp endpoints (for example
	// https://tsa.example/api/v1/timestamp); each adds one timestamp to
	// every bundle. Empty adds none.
	TSAURLs []string
	// Token supplies the OIDC identity token; required.
	Token TokenSource
	// TrustedRoot, when not nil, verifies every bundle right after it is
	// made, so that a misconfigured service fails the run and not a
	// later verification.
	TrustedRoot root.TrustedMaterial
	// Transport carries the requests to Fulcio and the timestamp
	// authorities; nil uses http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each request; 0 means 30 seconds.
	Timeout time.Duration
}

// Validate reports every missing or contradictory option.
func (o KeylessOptions) Validate() error {
	var errs []error
	for _, u := range []struct{ name, value string }{{"Fulcio", o.FulcioURL}, {"Rekor", o.RekorURL}} {
		if err := checkServiceURL(u.name, u.value); err != nil {
			errs = append(errs, err)
		}
	}
	for _, u := range o.TSAURLs {
		if err := checkServiceURL("timestamp authority", u); err != nil {
			errs = append(errs, err)
		}
	}
	switch o.RekorVersion {
	case 0, 1:
	case 2:
		if len(o.TSAURLs) == 0 {
			errs = append(errs, errors.New("Rekor v2 records no signing time, so keyless signing with it needs a timestamp authority URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("Rekor API version %d is not supported; use 1 or 2", o.RekorVersion))
	}
	if o.Token == nil {
		errs = append(errs, fmt.Errorf("%w: no token source given", ErrIdentityToken))
	}
	return errors.Join(errs...)
}

// checkServiceURL rejects an empty or relative service URL.
func checkServiceURL(service, value string) error {
	if value == "" {
		return fmt.Errorf("the %s URL is empty", service)
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("the %s URL %q is not an absolute http or https URL", service, value)
	}
	return nil
}

// KeylessSigner signs with an ephemeral ECDSA P-256 key and a short-lived
// certificate that Fulcio issues for the OIDC identity of the token. Every
// signature is recorded in Rekor and, when timestamp authorities are set,
// timestamped. One key and one certificate serve every statement signed
// with the same KeylessSigner.
//
// Keyless bundles differ from run to run (new key, certificate, log entry
// and timestamps), so packs signed this way are not byte-identical.
type KeylessSigner struct {
	opts    KeylessOptions
	keypair sign.Keypair
	cert    *certificateCache
}

var _ Signer = (*KeylessSigner)(nil)

// NewKeylessSigner checks opts and generates the ephemeral key. It makes
// no network request: the token and the certificate are fetched when the
// first statement is signed, or by Certify.
func NewKeylessSigner(opts KeylessOptions) (*KeylessSigner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.RekorVersion == 0 {
		opts.RekorVersion = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	keypair, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, fmt.Errorf("generating ephemeral signing key: %w", err)
	}
	fulcio := sign.NewFulcio(&sign.FulcioOptions{BaseURL: opts.FulcioURL, Timeout: opts.Timeout, Retries: 1, Transport: opts.Transport})
	return &KeylessSigner{
		opts:    opts,
		keypair: keypair,
		cert:    &certificateCache{fulcio: fulcio, fulcioURL: opts.FulcioURL, token: opts.Token},
	}, nil
}

// Keypair returns the ephemeral key pair.
func (s *KeylessSigner) Keypair(context.Context) (sign.Keypair, error) {
	return s.keypair, nil
}

// BundleOptions names Fulcio (through a cache, so the certificate is
// requested once), Rekor and the timestamp authorities.
func (s *KeylessSigner) BundleOptions(context.Context) (sign.BundleOptions, error) {
	opts := sign.BundleOptions{
		CertificateProvider: s.cert,
		// The cache fetches the token itself; this only satisfies callers
		// that expect the field.
		CertificateProviderOptions: &sign.CertificateProviderOptions{},
		TransparencyLogs: []sign.Transparency{sign.NewRekor(&sign.RekorOptions{
			BaseURL: s.opts.RekorURL, Timeout: s.opts.Timeout, Retries: 1, Version: s.opts.RekorVersion,
		})},
		TrustedRoot: s.opts.TrustedRoot,
	}
	for _, u := range s.opts.TSAURLs {
		opts.TimestampAuthorities = append(opts.TimestampAuthorities, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{
			URL: u, Timeout: s.opts.Timeout, Retries: 1, Transport: s.opts.Transport,
		}))
	}
	return opts, nil
}

// Certify fetches the identity token and the signing certificate now,
// unless that has happened already, and returns the certificate's
// identity. Calling it before the first Sign is optional; it lets a caller
// report the identity, and fail early on a bad token.
func (s *KeylessSigner) Certify(ctx context.Context) (certificate.Summary, error) {
	der, err := s.cert.GetCertificate(ctx, s.keypair, nil)
	if err != nil {
		return certificate.Summary{}, err
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return certificate.Summary{}, fmt.Errorf("parsing the certificate Fulcio issued: %w", err)
	}
	return certificate.SummarizeCertificate(parsed)
}

// certificateCache is a sign.CertificateProvider that requests one
// certificate from Fulcio and returns it for every later signature. The
// key pair is the signer's, so the certificate stays valid for it.
type certificateCache struct {
	fulcio    *sign.Fulcio
	fulcioURL string
	token     TokenSource

	mu   sync.Mutex
	cert []byte
}

var _ sign.CertificateProvider = (*certificateCache)(nil)

// GetCertificate returns the cached certificate, or fetches the token and
// requests the certificate. opts is ignored: the token comes from the
// cache's TokenSource.
func (c *certificateCache) GetCertificate(ctx context.Context, keypair sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil {
		return c.cert, nil
	}

	token, err := c.token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIdentityToken, err)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, fmt.Errorf("%w: the token is empty", ErrIdentityToken)
	}
	if strings.Count(token, ".") != 2 {
		return nil, fmt.Errorf("%w: the token is not a JWT (three dot-separated parts)", ErrIdentityToken)
	}

	cert, err := c.fulcio.GetCertificate(ctx, keypair, &sign.CertificateProviderOptions{IDToken: token})
	if err != nil {
		return nil, fmt.Errorf("requesting a signing certificate from Fulcio at %s: %w", c.fulcioURL, err)
	}
	c.cert = cert
	return cert, nil
}
