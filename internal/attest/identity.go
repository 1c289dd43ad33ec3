package attest

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Identity is what a keyless certificate must certify: the signer's
// subject alternative name (for GitHub Actions,
// https://github.com/OWNER/REPO/.github/workflows/FILE@REF), the OIDC
// issuer, and optionally GitHub claims that Fulcio copies from the token.
//
// Regular expressions use Go's syntax and are always matched against the
// whole value (Identity wraps them in ^(?:…)$), so that "org/repo" cannot
// match "org/repo-evil".
type Identity struct {
	// SubjectAlternativeName must equal the certificate's SAN exactly.
	SubjectAlternativeName string
	// SubjectAlternativeNameRegexp must match the whole SAN.
	SubjectAlternativeNameRegexp string
	// Issuer must equal the certificate's OIDC issuer (OID
	// 1.3.6.1.4.1.57264.1.8) exactly.
	Issuer string
	// IssuerRegexp must match the whole issuer.
	IssuerRegexp string
	// GitHubRepository, when set, is "owner/name" and must equal the path
	// of the source repository URI (OID .12), or the legacy workflow
	// repository claim (OID .5) when the certificate has no URI.
	GitHubRepository string
	// GitHubRef, when set, must equal the source repository ref (OID .14,
	// for example refs/tags/v1.0.0), or the legacy workflow ref (OID .6).
	GitHubRef string
	// GitHubSHA, when set, must equal the commit the workflow ran on: the
	// source repository digest (OID .13) or the legacy workflow SHA (OID .3).
	GitHubSHA string
}

// Validate checks that exactly one of the SAN and its regexp and exactly
// one of the issuer and its regexp are set, and that the regexps compile.
func (id Identity) Validate() error {
	var errs []error
	switch {
	case id.SubjectAlternativeName == "" && id.SubjectAlternativeNameRegexp == "":
		errs = append(errs, errors.New("no certificate identity given: set the exact identity or a regular expression for it"))
	case id.SubjectAlternativeName != "" && id.SubjectAlternativeNameRegexp != "":
		errs = append(errs, errors.New("both an exact certificate identity and a regular expression for it are given; use one"))
	}
	switch {
	case id.Issuer == "" && id.IssuerRegexp == "":
		errs = append(errs, errors.New("no certificate OIDC issuer given: set the exact issuer or a regular expression for it"))
	case id.Issuer != "" && id.IssuerRegexp != "":
		errs = append(errs, errors.New("both an exact OIDC issuer and a regular expression for it are given; use one"))
	}
	for _, re := range []struct{ name, value string }{
		{"certificate identity", id.SubjectAlternativeNameRegexp}, {"OIDC issuer", id.IssuerRegexp},
	} {
		if re.value == "" {
			continue
		}
		if _, err := regexp.Compile(anchored(re.value)); err != nil {
			errs = append(errs, fmt.Errorf("%s regular expression %q: %w", re.name, re.value, err))
		}
	}
	if id.GitHubRepository != "" && strings.Count(id.GitHubRepository, "/") != 1 {
		errs = append(errs, fmt.Errorf("GitHub repository %q is not of the form owner/name", id.GitHubRepository))
	}
	return errors.Join(errs...)
}

// anchored wraps a regular expression so that it matches whole values only.
func anchored(expr string) string {
	return "^(?:" + expr + ")$"
}

// Match checks a verified certificate's summary against the identity. The
// issuer is checked first, then the SAN, then the GitHub claims; the error
// wraps ErrIssuerMismatch or ErrIdentityMismatch and names the value found.
func (id Identity) Match(cert certificate.Summary) error {
	if ok, err := matches(cert.Issuer, id.Issuer, id.IssuerRegexp); err != nil {
		return err
	} else if !ok {
		return failure(nil, fmt.Sprintf("certificate OIDC issuer is %q; want %s", cert.Issuer, describeWant(id.Issuer, id.IssuerRegexp)), ErrIssuerMismatch)
	}

	if ok, err := matches(cert.SubjectAlternativeName, id.SubjectAlternativeName, id.SubjectAlternativeNameRegexp); err != nil {
		return err
	} else if !ok {
		return failure(nil, fmt.Sprintf("certificate identity (SAN) is %q; want %s", cert.SubjectAlternativeName, describeWant(id.SubjectAlternativeName, id.SubjectAlternativeNameRegexp)), ErrIdentityMismatch)
	}

	claims := []struct {
		name, want, got string
	}{
		{"GitHub repository", id.GitHubRepository, certRepository(cert.Extensions)},
		{"GitHub ref", id.GitHubRef, firstNonEmpty(cert.SourceRepositoryRef, cert.GithubWorkflowRef)},
		{"GitHub commit", strings.ToLower(id.GitHubSHA), strings.ToLower(firstNonEmpty(cert.SourceRepositoryDigest, cert.GithubWorkflowSHA))},
	}
	for _, c := range claims {
		if c.want != "" && c.got != c.want {
			return failure(nil, fmt.Sprintf("certificate claim %s is %q; want %q", c.name, c.got, c.want), ErrIdentityMismatch)
		}
	}
	return nil
}

// matches compares value with exact, or with the anchored expression.
func matches(value, exact, expr string) (bool, error) {
	if expr == "" {
		return value == exact, nil
	}
	re, err := regexp.Compile(anchored(expr))
	if err != nil {
		return false, fmt.Errorf("regular expression %q: %w", expr, err)
	}
	return re.MatchString(value), nil
}

func describeWant(exact, expr string) string {
	if expr != "" {
		return fmt.Sprintf("a match of ^(?:%s)$", expr)
	}
	return fmt.Sprintf("%q", exact)
}

// certRepository returns "owner/name" from the source repository URI, or
// the legacy workflow repository claim.
func certRepository(ext certificate.Extensions) string {
	if ext.SourceRepositoryURI != "" {
		if u, err := url.Parse(ext.SourceRepositoryURI); err == nil {
			return strings.Trim(u.Path, "/")
		}
		return ext.SourceRepositoryURI
	}
	return ext.GithubWorkflowRepository
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
