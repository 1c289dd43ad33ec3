package attest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

const (
	testIdentity = "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0"
	testIssuer   = "https://token.actions.githubusercontent.com"
)

// otherCA is trusted material that is another virtual Sigstore's, except
// for the certificate authorities, which replace exactly one thing.
type otherCA struct {
	root.TrustedMaterial
	authorities []root.CertificateAuthority
}

func (o otherCA) FulcioCertificateAuthorities() []root.CertificateAuthority { return o.authorities }

// noTSA is trusted material without timestamp authorities.
type noTSA struct{ root.TrustedMaterial }

func (noTSA) TimestampingAuthorities() []root.TimestampingAuthority { return nil }

// withoutLogEntries drops the transparency log entries of an entity.
type withoutLogEntries struct{ verify.SignedEntity }

func (withoutLogEntries) TlogEntries() ([]*tlog.Entry, error) { return nil, nil }
func (withoutLogEntries) HasInclusionProof() bool             { return false }
func (withoutLogEntries) HasInclusionPromise() bool           { return false }

// withoutTimestamps drops the RFC 3161 timestamps of an entity.
type withoutTimestamps struct{ verify.SignedEntity }

func (withoutTimestamps) Timestamps() ([][]byte, error) { return nil, nil }

// withPayload replaces the DSSE payload of an entity, keeping its signature.
type withPayload struct {
	verify.SignedEntity
	payload []byte
}

func (w withPayload) SignatureContent() (verify.SignatureContent, error) {
	content, err := w.SignedEntity.SignatureContent()
	if err != nil {
		return nil, err
	}
	original := content.EnvelopeContent().RawEnvelope()
	altered := *original
	altered.Payload = base64.StdEncoding.EncodeToString(w.payload)
	altered.Signatures = append([]dsse.Signature(nil), original.Signatures...)
	return &bundle.Envelope{Envelope: &altered}, nil
}

func keylessStatement(t *testing.T, digest string) []byte {
	t.Helper()
	raw, err := NewStatement([]Subject{{Name: "model.onnx", Digest: map[string]string{"sha256": digest}}},
		PredicateTestResult, map[string]any{"result": "PASSED"})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVerifyKeylessRejections(t *testing.T) {
	sum := sha256.Sum256([]byte("model"))
	digest := hex.EncodeToString(sum[:])
	statement := keylessStatement(t, digest)

	virtual, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	entity, err := virtual.Attest(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	late, err := virtual.AttestAtTime(testIdentity, testIssuer, statement, time.Now().Add(30*time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := virtual.Attest("https://github.com/org/repo-evil/.github/workflows/release.yml@refs/tags/v1.0.0", testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	rekorV2, err := virtual.AttestHashedRekordV2(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	altered := strings.Replace(string(statement), "PASSED", "FAILED", 1)

	base := func() VerifyOptions {
		return VerifyOptions{
			TrustedMaterial:          virtual,
			Identity:                 Identity{SubjectAlternativeName: testIdentity, Issuer: testIssuer},
			TransparencyLogThreshold: 1,
			WithoutSCT:               true,
			PredicateType:            PredicateTestResult,
			Artifacts:                []Artifact{{Name: "model.onnx", SHA256: digest}},
		}
	}
	tests := []struct {
		name   string
		entity verify.SignedEntity
		change func(*VerifyOptions)
		want   error
		cause  string
	}{
		{name: "valid", entity: entity},
		{name: "valid rekor v2 with timestamp", entity: rekorV2, change: func(o *VerifyOptions) { o.TimestampThreshold = 1 }},
		{name: "anchored regexp", entity: entity, change: func(o *VerifyOptions) {
			o.Identity = Identity{SubjectAlternativeNameRegexp: `https://github\.com/org/repo/.+`, Issuer: testIssuer}
		}},
		{name: "altered payload", entity: withPayload{entity, []byte(altered)}, want: ErrSignature, cause: "bad-signature"},
		{name: "untrusted chain", entity: entity, change: func(o *VerifyOptions) {
			o.TrustedMaterial = otherCA{TrustedMaterial: virtual, authorities: other.FulcioCertificateAuthorities()}
		}, want: ErrCertificateChain, cause: "untrusted-certificate-chain"},
		{name: "certificate expired at log time", entity: late, want: ErrCertificateTime, cause: "certificate-not-valid-at-signing-time"},
		{name: "other identity", entity: entity, change: func(o *VerifyOptions) {
			o.Identity.SubjectAlternativeName = strings.Replace(testIdentity, "org/repo", "org/other", 1)
		}, want: ErrIdentityMismatch, cause: "identity-mismatch"},
		{name: "regexp prefix of evil repository", entity: evil, change: func(o *VerifyOptions) {
			o.Identity = Identity{SubjectAlternativeNameRegexp: `https://github\.com/org/repo`, Issuer: testIssuer}
		}, want: ErrIdentityMismatch, cause: "identity-mismatch"},
		{name: "other issuer", entity: entity, change: func(o *VerifyOptions) {
			o.Identity.Issuer = "https://accounts.google.com"
		}, want: ErrIssuerMismatch, cause: "issuer-mismatch"},
		{name: "issuer regexp not anchored at end", entity: entity, change: func(o *VerifyOptions) {
			o.Identity.Issuer, o.Identity.IssuerRegexp = "", `https://token\.actions`
		}, want: ErrIssuerMismatch, cause: "issuer-mismatch"},
		{name: "missing log entry", entity: withoutLogEntries{entity}, want: ErrTransparencyLog, cause: "missing-log-entry"},
		{name: "log threshold above entries", entity: entity, change: func(o *VerifyOptions) { o.TransparencyLogThreshold = 2 },
			want: ErrTransparencyLog, cause: "missing-log-entry"},
		{name: "missing timestamp", entity: withoutTimestamps{entity}, change: func(o *VerifyOptions) { o.TimestampThreshold = 1 },
			want: ErrTimestamp, cause: "missing-timestamp"},
		{name: "subject digest mismatch", entity: entity, change: func(o *VerifyOptions) {
			o.Artifacts = []Artifact{{Name: "other.onnx", SHA256: strings.Repeat("0", 64)}}
		}, want: ErrSubjectMismatch, cause: "subject-digest-mismatch"},
		{name: "predicate type not found", entity: entity, change: func(o *VerifyOptions) { o.PredicateType = PredicateSLSAProvenance },
			want: ErrPredicateType, cause: "predicate-type-not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base()
			if tt.change != nil {
				tt.change(&opts)
			}
			if err := opts.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			v, err := verifyKeyless(tt.entity, opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("verifyKeyless: %v", err)
				}
				if v.Certificate == nil || v.Certificate.Issuer != testIssuer {
					t.Errorf("Certificate = %+v, want issuer %s", v.Certificate, testIssuer)
				}
				if v.PredicateType != PredicateTestResult {
					t.Errorf("PredicateType = %q", v.PredicateType)
				}
				if len(v.SignedAt) == 0 {
					t.Error("SignedAt is empty")
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if got := Cause(err); got != tt.cause {
				t.Errorf("Cause = %q, want %q (error: %v)", got, tt.cause, err)
			}
		})
	}
}

func TestVerifyKeylessTrustedRootWithoutTSA(t *testing.T) {
	sum := sha256.Sum256([]byte("model"))
	statement := keylessStatement(t, hex.EncodeToString(sum[:]))
	virtual, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rekorV1, err := virtual.Attest(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	rekorV2, err := virtual.AttestHashedRekordV2(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := rekorV2.Timestamps(); err != nil || len(ts) == 0 {
		t.Fatalf("the Rekor v2 test entity has no RFC 3161 timestamp (%v)", err)
	}

	tests := []struct {
		name      string
		entity    verify.SignedEntity
		threshold int
		// wantErr false means the bundle verifies. wantThresholdHint is
		// whether the message suggests a timestamp threshold of 0.
		wantErr           bool
		wantThresholdHint bool
	}{
		{name: "rekor v2, no other signing time", entity: rekorV2, wantErr: true},
		{name: "rekor v2 with timestamp threshold", entity: rekorV2, threshold: 1, wantErr: true, wantThresholdHint: true},
		{name: "rekor v1 with timestamp threshold", entity: rekorV1, threshold: 1, wantErr: true, wantThresholdHint: true},
		{name: "rekor v1 integrated time suffices", entity: rekorV1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := VerifyOptions{
				TrustedMaterial:          noTSA{virtual},
				Identity:                 Identity{SubjectAlternativeName: testIdentity, Issuer: testIssuer},
				TransparencyLogThreshold: 1,
				TimestampThreshold:       tt.threshold,
				WithoutSCT:               true,
			}
			_, err := verifyKeyless(tt.entity, opts)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("verifyKeyless: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTimestamp) {
				t.Fatalf("error = %v, want ErrTimestamp", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "the trusted root lists no timestamp authority, so the bundle's signed timestamps cannot be verified") {
				t.Errorf("error = %q, want the missing timestamp authority named", msg)
			}
			if strings.Contains(msg, "%!") {
				t.Errorf("error = %q contains a formatting artifact", msg)
			}
			if got := strings.Contains(msg, "--timestamp-threshold 0"); got != tt.wantThresholdHint {
				t.Errorf("error = %q; suggests --timestamp-threshold 0: %v, want %v", msg, got, tt.wantThresholdHint)
			}
		})
	}
}

func TestVerifyOptionsValidateKeyless(t *testing.T) {
	virtual, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{SubjectAlternativeName: testIdentity, Issuer: testIssuer}
	tests := []struct {
		name string
		opts VerifyOptions
		want string
	}{
		{"no identity", VerifyOptions{TrustedMaterial: virtual, TransparencyLogThreshold: 1, Identity: Identity{Issuer: testIssuer}}, "no certificate identity"},
		{"no issuer", VerifyOptions{TrustedMaterial: virtual, TransparencyLogThreshold: 1, Identity: Identity{SubjectAlternativeName: testIdentity}}, "no certificate OIDC issuer"},
		{"exact and regexp", VerifyOptions{TrustedMaterial: virtual, TransparencyLogThreshold: 1,
			Identity: Identity{SubjectAlternativeName: testIdentity, SubjectAlternativeNameRegexp: ".*", Issuer: testIssuer}}, "use one"},
		{"bad regexp", VerifyOptions{TrustedMaterial: virtual, TransparencyLogThreshold: 1,
			Identity: Identity{SubjectAlternativeNameRegexp: "(", Issuer: testIssuer}}, "regular expression"},
		{"no time source", VerifyOptions{TrustedMaterial: virtual, Identity: id}, "needs a transparency log entry or a timestamp"},
		{"bad repository", VerifyOptions{TrustedMaterial: virtual, TransparencyLogThreshold: 1,
			Identity: Identity{SubjectAlternativeName: testIdentity, Issuer: testIssuer, GitHubRepository: "repo"}}, "owner/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestVerifyKeylessTimestampMessages(t *testing.T) {
	sum := sha256.Sum256([]byte("model"))
	statement := keylessStatement(t, hex.EncodeToString(sum[:]))
	virtual, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rekorV1, err := virtual.Attest(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	rekorV2, err := virtual.AttestHashedRekordV2(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		entity    verify.SignedEntity
		threshold int
		want      string
	}{
		{"threshold above the timestamps", rekorV2, 2,
			"signing time: 1 verified RFC 3161 timestamp(s) from a timestamp authority of the trusted root, fewer than the timestamp threshold of 2"},
		{"timestamps removed, threshold 1", withoutTimestamps{rekorV1}, 1,
			"signing time: 0 verified RFC 3161 timestamp(s) from a timestamp authority of the trusted root, fewer than the timestamp threshold of 1"},
		{"rekor v2 with its timestamps removed", withoutTimestamps{rekorV2}, 0,
			"signing time: no verified signing time (0 found, 1 required): the bundle needs an RFC 3161 timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := VerifyOptions{
				TrustedMaterial:          virtual,
				Identity:                 Identity{SubjectAlternativeName: testIdentity, Issuer: testIssuer},
				TransparencyLogThreshold: 1,
				TimestampThreshold:       tt.threshold,
				WithoutSCT:               true,
			}
			_, err := verifyKeyless(tt.entity, opts)
			if !errors.Is(err, ErrTimestamp) {
				t.Fatalf("error = %v, want ErrTimestamp", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error = %q, want it to start with %q", msg, tt.want)
			}
			if strings.Contains(err.Error(), "%!") {
				t.Errorf("error = %q contains a formatting artifact", err)
			}
		})
	}
}

func TestTidyRemovesPrintedNilErrors(t *testing.T) {
	tests := []struct {
		msg  string
		want string
	}{
		{"failed to verify timestamps: threshold not met: 0 < 1; error: %!w(<nil>)", "failed to verify timestamps: threshold not met: 0 < 1"},
		{"unable to verify signed timestamps: %!w(<nil>)", "unable to verify signed timestamps"},
		{"failed to verify signature: bad", "failed to verify signature: bad"},
	}
	for _, tt := range tests {
		cause := errors.New(tt.msg)
		got := tidy(cause)
		if got.Error() != tt.want {
			t.Errorf("tidy(%q) = %q, want %q", tt.msg, got, tt.want)
		}
		if !errors.Is(got, cause) {
			t.Errorf("tidy(%q) drops the error from the chain", tt.msg)
		}
	}
}
