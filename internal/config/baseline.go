package config

import (
	"errors"
	"fmt"
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
	// Identity and Issuer name the keyless signer (certificate SAN and
	// OIDC issuer) a baseline must be signed by.
	// NOTE: keyless verification is not implemented yet; a baseline that
	// names only an identity is refused unless AllowUnverified is set.
	Identity string `yaml:"identity"`
	Issuer   string `yaml:"issuer"`
	// AllowUnverified uses a baseline whose signature cannot be verified,
	// marked as unverified in the report, instead of refusing it. The
	// default false refuses it.
	AllowUnverified bool `yaml:"allow_unverified"`
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
	if b.Issuer != "" && b.Identity == "" {
		errs = append(errs, doc.Errorf("baseline.issuer", "set identity too: an issuer alone does not name a signer"))
	}
	return errs
}
