package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// newCA returns a self-signed CA certificate and its key.
func newCA(t *testing.T, name string, notBefore time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"test"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// newTSALeaf returns a timestamping certificate issued by the CA.
func newTSALeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "test TSA leaf"},
		NotBefore:    ca.NotBefore,
		NotAfter:     ca.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pemCertificate(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

func writePEM(t *testing.T, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeStack serves a Fulcio trust bundle and a TSA certificate chain.
type fakeStack struct {
	fulcio, tsa      *httptest.Server
	fulcioRoot       *x509.Certificate
	tsaLeaf, tsaRoot *x509.Certificate
	fulcioStatus     int
}

func newFakeStack(t *testing.T) *fakeStack {
	t.Helper()
	notBefore := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	stack := &fakeStack{fulcioStatus: http.StatusOK}
	stack.fulcioRoot, _ = newCA(t, "fulcio root", notBefore)
	var tsaKey *ecdsa.PrivateKey
	stack.tsaRoot, tsaKey = newCA(t, "tsa root", notBefore.Add(-time.Hour))
	stack.tsaLeaf = newTSALeaf(t, stack.tsaRoot, tsaKey)

	stack.fulcio = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/trustBundle" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(stack.fulcioStatus)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"chains": []map[string]any{{"certificates": []string{pemCertificate(stack.fulcioRoot)}}},
		})
	}))
	t.Cleanup(stack.fulcio.Close)
	stack.tsa = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/timestamp/certchain" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, pemCertificate(stack.tsaLeaf)+pemCertificate(stack.tsaRoot))
	}))
	t.Cleanup(stack.tsa.Close)
	return stack
}

func TestRunWritesTrustMaterial(t *testing.T) {
	stack := newFakeStack(t)
	rekorPub, rekorPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rekorDER, err := x509.MarshalPKCS8PrivateKey(rekorPriv)
	if err != nil {
		t.Fatal(err)
	}
	ctKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctDER, err := x509.MarshalECPrivateKey(ctKey)
	if err != nil {
		t.Fatal(err)
	}
	ctPublicDER, err := x509.MarshalPKIXPublicKey(&ctKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	trustedRootPath := filepath.Join(out, "trusted_root.json")
	signingConfigPath := filepath.Join(out, "signing_config.json")
	const rekorURL = "http://127.0.0.1:3000"
	const ctlogURL = "http://127.0.0.1:6962"
	args := []string{
		"-fulcio-url", stack.fulcio.URL,
		"-rekor-url", rekorURL + "/",
		"-rekor-key", writePEM(t, "PRIVATE KEY", rekorDER),
		"-tsa-url", stack.tsa.URL,
		"-ctlog-url", ctlogURL,
		"-ctlog-key", writePEM(t, "EC PRIVATE KEY", ctDER),
		"-oidc-url", "http://127.0.0.1:5556",
		"-valid-from", "2026-01-01T00:00:00Z",
		"-trusted-root", trustedRootPath,
		"-signing-config", signingConfigPath,
	}
	if err := run(t.Context(), args, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}

	trustedRoot, err := root.NewTrustedRootFromPath(trustedRootPath)
	if err != nil {
		t.Fatalf("loading trusted root: %v", err)
	}

	// Rekor v2's log ID for an Ed25519 key is SHA-256 over the origin, a
	// newline, the signature type byte 0x01 and the raw key (C2SP
	// signed-note), with the URL's host name as the origin.
	rekorID := sha256.Sum256(append([]byte("127.0.0.1\n\x01"), rekorPub...))
	rekorLog, ok := trustedRoot.RekorLogs()[hex.EncodeToString(rekorID[:])]
	if !ok {
		t.Fatalf("no Rekor log with ID %x; logs: %v", rekorID, trustedRoot.RekorLogs())
	}
	if rekorLog.BaseURL != rekorURL {
		t.Errorf("Rekor baseUrl = %q, want %q", rekorLog.BaseURL, rekorURL)
	}
	if !rekorLog.ValidityPeriodStart.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Rekor validFor.start = %v, want 2026-01-01T00:00:00Z", rekorLog.ValidityPeriodStart)
	}

	ctID := sha256.Sum256(ctPublicDER)
	ctlog, ok := trustedRoot.CTLogs()[hex.EncodeToString(ctID[:])]
	if !ok {
		t.Fatalf("no CT log with ID %x", ctID)
	}
	if ctlog.BaseURL != ctlogURL {
		t.Errorf("CT log baseUrl = %q, want %q", ctlog.BaseURL, ctlogURL)
	}

	cas := trustedRoot.FulcioCertificateAuthorities()
	if len(cas) != 1 {
		t.Fatalf("got %d certificate authorities, want 1", len(cas))
	}
	fulcio, ok := cas[0].(*root.FulcioCertificateAuthority)
	if !ok {
		t.Fatalf("certificate authority has type %T", cas[0])
	}
	if !fulcio.Root.Equal(stack.fulcioRoot) {
		t.Error("Fulcio root differs from the trust bundle's certificate")
	}
	if !fulcio.ValidityPeriodStart.Equal(stack.fulcioRoot.NotBefore) {
		t.Errorf("Fulcio validFor.start = %v, want the root's NotBefore %v", fulcio.ValidityPeriodStart, stack.fulcioRoot.NotBefore)
	}

	tsas := trustedRoot.TimestampingAuthorities()
	if len(tsas) != 1 {
		t.Fatalf("got %d timestamp authorities, want 1", len(tsas))
	}
	tsa, ok := tsas[0].(*root.SigstoreTimestampingAuthority)
	if !ok {
		t.Fatalf("timestamp authority has type %T", tsas[0])
	}
	if !tsa.Leaf.Equal(stack.tsaLeaf) || !tsa.Root.Equal(stack.tsaRoot) {
		t.Error("TSA leaf or root differs from the served chain")
	}

	signingConfig, err := root.NewSigningConfigFromPath(signingConfigPath)
	if err != nil {
		t.Fatalf("loading signing config: %v", err)
	}
	rekorServices := signingConfig.RekorLogURLs()
	if len(rekorServices) != 1 || rekorServices[0].URL != rekorURL || rekorServices[0].MajorAPIVersion != 2 {
		t.Errorf("Rekor services = %+v, want one at %s with API version 2", rekorServices, rekorURL)
	}
	tsaServices := signingConfig.TimestampAuthorityURLs()
	if len(tsaServices) != 1 || tsaServices[0].URL != stack.tsa.URL+"/api/v1/timestamp" {
		t.Errorf("TSA services = %+v, want one at %s/api/v1/timestamp", tsaServices, stack.tsa.URL)
	}
	caServices := signingConfig.FulcioCertificateAuthorityURLs()
	if len(caServices) != 1 || caServices[0].URL != stack.fulcio.URL {
		t.Errorf("CA services = %+v, want one at %s", caServices, stack.fulcio.URL)
	}
}

func TestRunWithoutCTLog(t *testing.T) {
	stack := newFakeStack(t)
	_, rekorPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publicDER, err := x509.MarshalPKIXPublicKey(rekorPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "trusted_root.json")
	args := []string{
		"-fulcio-url", stack.fulcio.URL, "-tsa-url", stack.tsa.URL,
		"-rekor-url", "http://127.0.0.1:3000", "-rekor-key", writePEM(t, "PUBLIC KEY", publicDER),
		"-trusted-root", out,
	}
	if err := run(t.Context(), args, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	trustedRoot, err := root.NewTrustedRootFromPath(out)
	if err != nil {
		t.Fatalf("loading trusted root: %v", err)
	}
	if n := len(trustedRoot.CTLogs()); n != 0 {
		t.Errorf("got %d CT logs, want 0", n)
	}
	if n := len(trustedRoot.RekorLogs()); n != 1 {
		t.Errorf("got %d Rekor logs, want 1", n)
	}
}

func TestRunReportsFulcioError(t *testing.T) {
	stack := newFakeStack(t)
	stack.fulcioStatus = http.StatusServiceUnavailable
	_, rekorPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rekorPriv)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "trusted_root.json")
	args := []string{
		"-fulcio-url", stack.fulcio.URL, "-tsa-url", stack.tsa.URL,
		"-rekor-url", "http://127.0.0.1:3000", "-rekor-key", writePEM(t, "PRIVATE KEY", der),
		"-trusted-root", out,
	}
	err = run(t.Context(), args, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "/api/v2/trustBundle") || !strings.Contains(err.Error(), "503") {
		t.Errorf("run error = %v, want one naming the trust bundle URL and status 503", err)
	}
	if _, statErr := os.Stat(out); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("trusted root was written despite the error (stat: %v)", statErr)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	valid := []string{
		"-fulcio-url", "http://127.0.0.1:1", "-rekor-url", "http://127.0.0.1:2",
		"-rekor-key", "k.pem", "-tsa-url", "http://127.0.0.1:3", "-trusted-root", "t.json",
	}
	tests := []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{name: "nothing", args: nil, wantErr: []string{"-fulcio-url is required", "-rekor-url is required", "-rekor-key is required", "-tsa-url is required", "-trusted-root is required"}},
		{name: "relative URL", args: append(append([]string{}, valid...), "-tsa-url", "127.0.0.1:3"), wantErr: []string{`-tsa-url "127.0.0.1:3" is not an absolute URL`}},
		{name: "CT log without key", args: append([]string{"-ctlog-url", "http://127.0.0.1:4"}, valid...), wantErr: []string{"-ctlog-url and -ctlog-key must be given together"}},
		{name: "bad time", args: append([]string{"-valid-from", "yesterday"}, valid...), wantErr: []string{`-valid-from "yesterday" is not an RFC 3339 time`}},
		{name: "extra argument", args: append(append([]string{}, valid...), "extra"), wantErr: []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			_, err := parseFlags(tt.args, &stderr)
			if !errors.Is(err, errBadUsage) {
				t.Fatalf("error = %v, want errBadUsage", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("output %q does not contain %q", stderr.String(), want)
				}
			}
		})
	}

	if _, err := parseFlags(valid, io.Discard); err != nil {
		t.Errorf("parseFlags(valid): %v", err)
	}
}

func TestReadPublicKey(t *testing.T) {
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		path        string
		want        crypto.PublicKey
		wantDetails string
		wantErr     string
	}{
		{name: "PKIX public key", path: writePEM(t, "PUBLIC KEY", pkix), want: edPub, wantDetails: "PKIX_ED25519"},
		{name: "PKCS8 private key", path: writePEM(t, "PRIVATE KEY", pkcs8), want: edPub, wantDetails: "PKIX_ED25519"},
		{name: "SEC1 private key", path: writePEM(t, "EC PRIVATE KEY", sec1), want: &ecKey.PublicKey, wantDetails: "PKIX_ECDSA_P384_SHA_384"},
		{name: "certificate block", path: writePEM(t, "CERTIFICATE", pkix), wantErr: `PEM block of type "CERTIFICATE"`},
		{name: "garbage key", path: writePEM(t, "PUBLIC KEY", []byte("nope")), wantErr: "parsing public key"},
		{name: "missing file", path: filepath.Join(t.TempDir(), "absent.pem"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPublicKey(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readPublicKey: %v", err)
			}
			equal, ok := got.(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !equal.Equal(tt.want) {
				t.Errorf("key = %v, want %v", got, tt.want)
			}
			details, err := keyDetails(got)
			if err != nil {
				t.Fatalf("keyDetails: %v", err)
			}
			if details != tt.wantDetails {
				t.Errorf("keyDetails = %q, want %q", details, tt.wantDetails)
			}
		})
	}
}
