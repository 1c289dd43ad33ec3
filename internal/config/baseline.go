package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Baseline selects the pack that a run compares its metrics with, and how
// that pack must be signed before its numbers are trusted:
//
//	baseline:
//	  source: latest-release        # or tag:v1.2.0, path:baseline.tar.gz, none
//	  asset: auditpack-out.tar.gz   # release asset holding the pack
//	  public_key: keys/cosign.pub   # the baseline must verify with this key
//	  allow_unverified: false
//
// A baseline signed keylessly names its signer instead of public_key:
//
//	baseline:
//	  identity_regexp: ^https://github\.com/org/repo/\.github/workflows/release\.yml@refs/tags/v.*$
//	  issuer: https://token.actions.githubusercontent.com
type Baseline struct {
	// Source is a BaselineSource in its written form; empty means
	// latest-release.
	Source string `yaml:"source"`
	// Asset is the name of the release asset that holds the pack. Empty
	// means the archive name of the run's own pack, such as
	// auditpack-out.tar.gz, so that a release's pack is the next run's
	// baseline.
	Asset string `yaml:"asset"`
	// PublicKey is a PEM public key, relative to the configuration file,
	// that the baseline pack's attestations must verify with.
	PublicKey string `yaml:"public_key"`
	// Identity is the keyless signer (the Fulcio certificate's SAN) the
	// baseline pack must be signed by, exactly; IdentityRegexp is a Go
	// regular expression the whole SAN must match instead. A release
	// workflow's SAN ends in the release's ref, so IdentityRegexp is the
	// one that matches every release. Set at most one, with Issuer.
	Identity       string `yaml:"identity"`
	IdentityRegexp string `yaml:"identity_regexp"`
	// Issuer is the OIDC issuer the certificate must name, such as
	// https://token.actions.githubusercontent.com.
	Issuer string `yaml:"issuer"`
	// AllowUnverified uses a baseline whose signature cannot be verified,
	// marked as unverified in the report, instead of refusing it. The
	// default false refuses it.
	AllowUnverified bool `yaml:"allow_unverified"`
}

// Keyless reports whether the baseline must be verified by a keyless
// signer rather than a public key.
func (b *Baseline) Keyless() bool {
	return b != nil && (b.Identity != "" || b.IdentityRegexp != "")
}

// Kinds of baseline source.
const (
	BaselineLatestRelease = "latest-release"
	BaselineTag           = "tag"
	BaselinePath          = "path"
	BaselineNone          = "none"
)

// BaselineSource is a parsed baseline source: the latest release, the
// release of a tag, a local pack, or none.
type BaselineSource struct {
	// Kind is one of the Baseline* kinds.
	Kind string
	// Value is the tag for BaselineTag and the path for BaselinePath.
	Value string
}

func (s BaselineSource) String() string {
	if s.Value == "" {
		return s.Kind
	}
	return s.Kind + ":" + s.Value
}

// ParseBaselineSource parses "latest-release", "tag:NAME", "path:PATH" or
// "none"; empty means latest-release.
func ParseBaselineSource(s string) (BaselineSource, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", BaselineLatestRelease:
		return BaselineSource{Kind: BaselineLatestRelease}, nil
	case BaselineNone:
		return BaselineSource{Kind: BaselineNone}, nil
	}
	kind, value, ok := strings.Cut(s, ":")
	value = strings.TrimSpace(value)
	if ok && (kind == BaselineTag || kind == BaselinePath) {
		if value == "" {
			return BaselineSource{}, fmt.Errorf("baseline source %q names no %s after the colon", s, kind)
		}
		return BaselineSource{Kind: kind, Value: value}, nil
	}
	return BaselineSource{}, errors.New("baseline source " + fmt.Sprintf("%q", s) +
		" is not one of latest-release, tag:NAME, path:PATH or none")
}

// BaselineSource returns the configured source; a configuration without a
// baseline section compares with the latest release.
func (c *Config) BaselineSource() BaselineSource {
	if c.Baseline == nil {
		return BaselineSource{Kind: BaselineLatestRelease}
	}
	src, err := ParseBaselineSource(c.Baseline.Source)
	if err != nil {
		// validateBaseline has rejected it already.
		return BaselineSource{Kind: BaselineNone}
	}
	return src
}

func (c *Config) validateBaseline(doc *strictyaml.Document) []error {
	b := c.Baseline
	if b == nil {
		return nil
	}
	var errs []error
	if _, err := ParseBaselineSource(b.Source); err != nil {
		errs = append(errs, doc.Errorf("baseline.source", "%v", err))
	}
	if b.Asset != "" && strings.ContainsAny(b.Asset, "/\\") {
		errs = append(errs, doc.Errorf("baseline.asset", "%q is a path; give the release asset's file name, such as auditpack-out.tar.gz", b.Asset))
	}
	switch {
	case b.Identity != "" && b.IdentityRegexp != "":
		errs = append(errs, doc.Errorf("baseline.identity_regexp", "identity is set too; give the exact identity or the regular expression, not both"))
	case b.Issuer != "" && !b.Keyless():
		errs = append(errs, doc.Errorf("baseline.issuer", "set identity too (or identity_regexp): an issuer alone does not name a signer"))
	case b.Keyless() && b.Issuer == "":
		field := "baseline.identity"
		if b.Identity == "" {
			field = "baseline.identity_regexp"
		}
		errs = append(errs, doc.Errorf(field, "set issuer too, the OIDC issuer of the signer's certificate, such as https://token.actions.githubusercontent.com"))
	}
	if b.IdentityRegexp != "" {
		if _, err := regexp.Compile(b.IdentityRegexp); err != nil {
			errs = append(errs, doc.Errorf("baseline.identity_regexp", "%q is not a valid Go regular expression: %v", b.IdentityRegexp, err))
		}
	}
	if b.Keyless() && b.PublicKey != "" {
		errs = append(errs, doc.Errorf("baseline.public_key", "a keyless signer (identity or identity_regexp) is set too; a pack is signed either with a key or keylessly, so give one"))
	}
	return errs
}
