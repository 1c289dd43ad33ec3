// Command trustroot writes the Sigstore trusted root (media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1) and signing
// config (application/vnd.dev.sigstore.signingconfig.v0.2+json) that
// describe a Sigstore stack running on loopback: Fulcio, a Rekor v2 log, a
// timestamp authority and, optionally, a certificate transparency log.
//
// It downloads Fulcio's trust bundle and the timestamp authority's
// certificate chain, reads the logs' public keys from PEM files, and checks
// both documents by loading them with sigstore-go before writing them.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Media types of the documents this command writes.
const (
	trustedRootMediaType   = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
	signingConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
)

// operator names the operator of every service in the signing config.
const operator = "auditpack-test"

// errBadUsage marks command-line errors, which exit with status 2.
var errBadUsage = errors.New("bad usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case errors.Is(err, errBadUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "trustroot:", err)
		os.Exit(1)
	}
}

// options holds the parsed command line.
type options struct {
	fulcioURL      string
	rekorURL       string
	rekorKeyPath   string
	tsaURL         string
	ctlogURL       string
	ctlogKeyPath   string
	oidcURL        string
	trustedRootOut string
	signingOut     string
	validFrom      time.Time
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	var validFrom string
	fs := flag.NewFlagSet("trustroot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.fulcioURL, "fulcio-url", "", "Fulcio base `URL` (required)")
	fs.StringVar(&opts.rekorURL, "rekor-url", "", "Rekor v2 base `URL` (required); its host name must be the log's checkpoint origin (rekor-server --hostname)")
	fs.StringVar(&opts.rekorKeyPath, "rekor-key", "", "PEM `file` with the Rekor v2 log's public or private key (required)")
	fs.StringVar(&opts.tsaURL, "tsa-url", "", "timestamp authority base `URL` (required)")
	fs.StringVar(&opts.ctlogURL, "ctlog-url", "", "certificate transparency log base `URL`; empty leaves ctlogs out of the trusted root")
	fs.StringVar(&opts.ctlogKeyPath, "ctlog-key", "", "PEM `file` with the CT log's public or private key (required with -ctlog-url)")
	fs.StringVar(&opts.oidcURL, "oidc-url", "", "OIDC issuer `URL` listed in the signing config (optional)")
	fs.StringVar(&opts.trustedRootOut, "trusted-root", "", "output `file` for the trusted root (required)")
	fs.StringVar(&opts.signingOut, "signing-config", "", "output `file` for the signing config (optional)")
	fs.StringVar(&validFrom, "valid-from", "", "RFC 3339 `time` written as the logs' validFor.start (default one minute before now); certificate authorities use their root's NotBefore")

	if err := fs.Parse(args); err != nil {
		return options{}, fmt.Errorf("%w: %w", errBadUsage, err)
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	required := []struct{ flag, value string }{
		{"-fulcio-url", opts.fulcioURL},
		{"-rekor-url", opts.rekorURL},
		{"-rekor-key", opts.rekorKeyPath},
		{"-tsa-url", opts.tsaURL},
		{"-trusted-root", opts.trustedRootOut},
	}
	for _, r := range required {
		if r.value == "" {
			problems = append(problems, r.flag+" is required")
		}
	}
	if (opts.ctlogURL == "") != (opts.ctlogKeyPath == "") {
		problems = append(problems, "-ctlog-url and -ctlog-key must be given together")
	}
	for _, u := range []struct{ flag, value string }{
		{"-fulcio-url", opts.fulcioURL}, {"-rekor-url", opts.rekorURL}, {"-tsa-url", opts.tsaURL},
		{"-ctlog-url", opts.ctlogURL}, {"-oidc-url", opts.oidcURL},
	} {
		if u.value == "" {
			continue
		}
		if parsed, err := url.Parse(u.value); err != nil || parsed.Scheme == "" || parsed.Host == "" {
			problems = append(problems, fmt.Sprintf("%s %q is not an absolute URL such as http://127.0.0.1:8080", u.flag, u.value))
		}
	}
	opts.validFrom = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	if validFrom != "" {
		t, err := time.Parse(time.RFC3339, validFrom)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-valid-from %q is not an RFC 3339 time such as 2025-01-01T00:00:00Z", validFrom))
		}
		opts.validFrom = t.UTC()
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "trustroot:", p)
		}
		return options{}, errBadUsage
	}
	opts.fulcioURL = strings.TrimSuffix(opts.fulcioURL, "/")
	opts.rekorURL = strings.TrimSuffix(opts.rekorURL, "/")
	opts.tsaURL = strings.TrimSuffix(opts.tsaURL, "/")
	opts.ctlogURL = strings.TrimSuffix(opts.ctlogURL, "/")
	opts.oidcURL = strings.TrimSuffix(opts.oidcURL, "/")
	return opts, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}

	trustedRoot, err := buildTrustedRoot(ctx, client, opts)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(trustedRoot, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding trusted root: %w", err)
	}
	if _, err := root.NewTrustedRootFromJSON(data); err != nil {
		return fmt.Errorf("checking trusted root with sigstore-go: %w", err)
	}
	if err := writeFileAtomic(opts.trustedRootOut, append(data, '\n')); err != nil {
		return err
	}

	if opts.signingOut == "" {
		return nil
	}
	data, err = json.MarshalIndent(buildSigningConfig(opts), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding signing config: %w", err)
	}
	if _, err := root.NewSigningConfigFromJSON(data); err != nil {
		return fmt.Errorf("checking signing config with sigstore-go: %w", err)
	}
	return writeFileAtomic(opts.signingOut, append(data, '\n'))
}

// The types below mirror the protobuf-specs JSON encoding (lowerCamelCase
// field names, base64 bytes, RFC 3339 times, enum names as strings).

type trustedRootJSON struct {
	MediaType              string                 `json:"mediaType"`
	Tlogs                  []transparencyLog      `json:"tlogs"`
	CertificateAuthorities []certificateAuthority `json:"certificateAuthorities"`
	Ctlogs                 []transparencyLog      `json:"ctlogs"`
	TimestampAuthorities   []certificateAuthority `json:"timestampAuthorities"`
}

type transparencyLog struct {
	BaseURL       string    `json:"baseUrl"`
	HashAlgorithm string    `json:"hashAlgorithm"`
	PublicKey     publicKey `json:"publicKey"`
	LogID         logID     `json:"logId"`
}

type publicKey struct {
	RawBytes   []byte   `json:"rawBytes"`
	KeyDetails string   `json:"keyDetails"`
	ValidFor   validity `json:"validFor"`
}

type logID struct {
	KeyID []byte `json:"keyId"`
}

type validity struct {
	Start time.Time `json:"start"`
}

type certificateAuthority struct {
	Subject   distinguishedName `json:"subject"`
	URI       string            `json:"uri"`
	CertChain certChain         `json:"certChain"`
	ValidFor  validity          `json:"validFor"`
}

type distinguishedName struct {
	Organization string `json:"organization,omitempty"`
	CommonName   string `json:"commonName,omitempty"`
}

type certChain struct {
	Certificates []rawCertificate `json:"certificates"`
}

type rawCertificate struct {
	RawBytes []byte `json:"rawBytes"`
}

type signingConfigJSON struct {
	MediaType       string          `json:"mediaType"`
	CAURLs          []service       `json:"caUrls"`
	OIDCURLs        []service       `json:"oidcUrls"`
	RekorTlogURLs   []service       `json:"rekorTlogUrls"`
	RekorTlogConfig serviceSelector `json:"rekorTlogConfig"`
	TSAURLs         []service       `json:"tsaUrls"`
	TSAConfig       serviceSelector `json:"tsaConfig"`
}

type service struct {
	URL             string   `json:"url"`
	MajorAPIVersion uint32   `json:"majorApiVersion"`
	ValidFor        validity `json:"validFor"`
	Operator        string   `json:"operator"`
}

type serviceSelector struct {
	Selector string `json:"selector"`
}

func buildTrustedRoot(ctx context.Context, client *http.Client, opts options) (*trustedRootJSON, error) {
	fulcioChain, err := fetchFulcioChain(ctx, client, opts.fulcioURL)
	if err != nil {
		return nil, err
	}
	tsaChain, err := fetchTSAChain(ctx, client, opts.tsaURL)
	if err != nil {
		return nil, err
	}

	// sigstore-go verifies a Rekor v2 checkpoint with the host name of the
	// log's baseUrl as the note origin, so the log ID must be computed with
	// that name too.
	rekorURL, err := url.Parse(opts.rekorURL)
	if err != nil {
		return nil, fmt.Errorf("parsing -rekor-url: %w", err)
	}
	rekorKey, err := readPublicKey(opts.rekorKeyPath)
	if err != nil {
		return nil, err
	}
	_, rekorLogID, err := note.KeyHash(rekorURL.Hostname(), rekorKey)
	if err != nil {
		return nil, fmt.Errorf("computing Rekor log ID from %q: %w", opts.rekorKeyPath, err)
	}
	rekorLog, err := newTransparencyLog(opts.rekorURL, rekorKey, rekorLogID, opts.validFrom)
	if err != nil {
		return nil, fmt.Errorf("Rekor key %q: %w", opts.rekorKeyPath, err)
	}

	trustedRoot := &trustedRootJSON{
		MediaType:              trustedRootMediaType,
		Tlogs:                  []transparencyLog{rekorLog},
		CertificateAuthorities: []certificateAuthority{newCertificateAuthority(opts.fulcioURL, fulcioChain)},
		Ctlogs:                 []transparencyLog{},
		TimestampAuthorities:   []certificateAuthority{newCertificateAuthority(opts.tsaURL, tsaChain)},
	}

	if opts.ctlogURL != "" {
		ctlogKey, err := readPublicKey(opts.ctlogKeyPath)
		if err != nil {
			return nil, err
		}
		// RFC 6962 section 3.2: the log ID is the SHA-256 hash of the
		// log's DER-encoded SubjectPublicKeyInfo.
		der, err := x509.MarshalPKIXPublicKey(ctlogKey)
		if err != nil {
			return nil, fmt.Errorf("encoding CT log key %q: %w", opts.ctlogKeyPath, err)
		}
		id := sha256.Sum256(der)
		ctlog, err := newTransparencyLog(opts.ctlogURL, ctlogKey, id[:], opts.validFrom)
		if err != nil {
			return nil, fmt.Errorf("CT log key %q: %w", opts.ctlogKeyPath, err)
		}
		trustedRoot.Ctlogs = append(trustedRoot.Ctlogs, ctlog)
	}
	return trustedRoot, nil
}

func buildSigningConfig(opts options) *signingConfigJSON {
	svc := func(u string, version uint32) service {
		return service{URL: u, MajorAPIVersion: version, ValidFor: validity{Start: opts.validFrom}, Operator: operator}
	}
	config := &signingConfigJSON{
		MediaType:       signingConfigMediaType,
		CAURLs:          []service{svc(opts.fulcioURL, 1)},
		OIDCURLs:        []service{},
		RekorTlogURLs:   []service{svc(opts.rekorURL, 2)},
		RekorTlogConfig: serviceSelector{Selector: "ANY"},
		TSAURLs:         []service{svc(opts.tsaURL+"/api/v1/timestamp", 1)},
		TSAConfig:       serviceSelector{Selector: "ANY"},
	}
	if opts.oidcURL != "" {
		config.OIDCURLs = append(config.OIDCURLs, svc(opts.oidcURL, 1))
	}
	return config
}

func newTransparencyLog(baseURL string, key crypto.PublicKey, id []byte, validFrom time.Time) (transparencyLog, error) {
	details, err := keyDetails(key)
	if err != nil {
		return transparencyLog{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return transparencyLog{}, fmt.Errorf("encoding public key: %w", err)
	}
	return transparencyLog{
		BaseURL:       baseURL,
		HashAlgorithm: "SHA2_256",
		PublicKey:     publicKey{RawBytes: der, KeyDetails: details, ValidFor: validity{Start: validFrom}},
		LogID:         logID{KeyID: id},
	}, nil
}

// newCertificateAuthority describes a chain ordered leaf first, as the
// trusted root format requires. It is valid from its root's NotBefore.
func newCertificateAuthority(uri string, chain []*x509.Certificate) certificateAuthority {
	rootCert := chain[len(chain)-1]
	ca := certificateAuthority{
		Subject: distinguishedName{
			CommonName: rootCert.Subject.CommonName,
		},
		URI:      uri,
		ValidFor: validity{Start: rootCert.NotBefore.UTC()},
	}
	if len(rootCert.Subject.Organization) > 0 {
		ca.Subject.Organization = rootCert.Subject.Organization[0]
	}
	for _, cert := range chain {
		ca.CertChain.Certificates = append(ca.CertChain.Certificates, rawCertificate{RawBytes: cert.Raw})
	}
	return ca
}

// keyDetails returns the protobuf-specs PublicKeyDetails name for key.
func keyDetails(key crypto.PublicKey) (string, error) {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return "PKIX_ED25519", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "PKIX_ECDSA_P256_SHA_256", nil
		case elliptic.P384():
			return "PKIX_ECDSA_P384_SHA_384", nil
		case elliptic.P521():
			return "PKIX_ECDSA_P521_SHA_512", nil
		}
		return "", fmt.Errorf("unsupported ECDSA curve %s: use P-256, P-384 or P-521", k.Curve.Params().Name)
	}
	return "", fmt.Errorf("unsupported key type %T: use an Ed25519 or ECDSA key", key)
}

// readPublicKey reads a PEM public key, or the public half of a PEM
// private key in PKCS #8 or SEC 1 form.
func readPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("key file %q contains no PEM block", path)
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing public key %q: %w", path, err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing private key %q: %w", path, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key %q of type %T cannot sign", path, key)
		}
		return signer.Public(), nil
	case "EC PRIVATE KEY":
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing private key %q: %w", path, err)
		}
		return key.Public(), nil
	}
	return nil, fmt.Errorf("key file %q has a PEM block of type %q: use PUBLIC KEY, PRIVATE KEY or EC PRIVATE KEY", path, block.Type)
}

// fetchFulcioChain returns the first chain of Fulcio's trust bundle
// (GET /api/v2/trustBundle), leaf first.
func fetchFulcioChain(ctx context.Context, client *http.Client, baseURL string) ([]*x509.Certificate, error) {
	body, err := get(ctx, client, baseURL+"/api/v2/trustBundle")
	if err != nil {
		return nil, err
	}
	var bundle struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(body, &bundle); err != nil {
		return nil, fmt.Errorf("decoding Fulcio trust bundle: %w", err)
	}
	if len(bundle.Chains) == 0 || len(bundle.Chains[0].Certificates) == 0 {
		return nil, errors.New("Fulcio trust bundle contains no certificate chain")
	}
	return parseCertificates([]byte(strings.Join(bundle.Chains[0].Certificates, "\n")), "Fulcio trust bundle")
}

// fetchTSAChain returns the timestamp authority's signing chain
// (GET /api/v1/timestamp/certchain), leaf first.
func fetchTSAChain(ctx context.Context, client *http.Client, baseURL string) ([]*x509.Certificate, error) {
	body, err := get(ctx, client, baseURL+"/api/v1/timestamp/certchain")
	if err != nil {
		return nil, err
	}
	return parseCertificates(body, "timestamp authority chain")
}

func parseCertificates(data []byte, source string) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d of %s: %w", len(chain)+1, source, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s contains no PEM certificate", source)
	}
	return chain, nil
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("requesting %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading response of %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("requesting %s: status %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so that readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	_, writeErr := tmp.Write(data)
	closeErr := tmp.Close()
	if err := errors.Join(writeErr, closeErr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
