package cli

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/auditpack/auditpack/internal/actions"
	"github.com/auditpack/auditpack/internal/config"
)

// Values of the sign input.
const (
	signAuto    = "auto"
	signKeyless = "keyless"
	signKey     = "key"
	signNone    = "none"
)

// Values of the fail-on input.
const (
	failOnBlock = "block"
	failOnWarn  = "warn"
	failOnNever = "never"
)

// actionInputs holds the inputs that action.yml declares, read from the
// INPUT_* variables the runner sets.
type actionInputs struct {
	config      string
	outDir      string
	sign        string
	key         string
	keyPassword string
	token       string
	comment     bool
	upload      bool
	baseline    string
	failOn      string

	// Sigstore services for keyless signing. Empty means the public-good
	// instance. trustedRoot also verifies a keyless baseline.
	fulcioURL     string
	rekorURL      string
	rekorVersion  uint32
	tsaURL        string
	trustedRoot   string
	signingConfig string
}

// readActionInputs reads and checks every input, masking the secret ones,
// and reports every bad value at once. Relative paths are taken from the
// workspace.
func readActionInputs(rt *actions.Runtime, workspace string) (actionInputs, error) {
	in := actionInputs{
		config:   orDefault(rt.Input("config"), config.DefaultPath),
		outDir:   orDefault(rt.Input("output-dir"), "auditpack-out"),
		sign:     orDefault(rt.Input("sign"), signAuto),
		key:      rt.Input("key"),
		baseline: rt.Input("baseline"),
		failOn:   orDefault(rt.Input("fail-on"), failOnBlock),

		fulcioURL:     rt.Input("fulcio-url"),
		rekorURL:      rt.Input("rekor-url"),
		tsaURL:        rt.Input("tsa-url"),
		trustedRoot:   rt.Input("trusted-root"),
		signingConfig: rt.Input("signing-config"),
	}
	var errs []string
	var err error
	if in.token, err = rt.SecretInput("github-token"); err != nil {
		return in, err
	}
	if in.keyPassword, err = rt.SecretInput("key-password"); err != nil {
		return in, err
	}
	if in.comment, err = boolInput(rt, "comment", true); err != nil {
		errs = append(errs, err.Error())
	}
	if in.upload, err = boolInput(rt, "upload-release-assets", true); err != nil {
		errs = append(errs, err.Error())
	}
	switch in.sign {
	case signAuto, signKeyless, signKey, signNone:
	default:
		errs = append(errs, fmt.Sprintf("input sign is %q: use auto, keyless, key or none", in.sign))
	}
	switch in.failOn {
	case failOnBlock, failOnWarn, failOnNever:
	default:
		errs = append(errs, fmt.Sprintf("input fail-on is %q: use block, warn or never", in.failOn))
	}
	if in.baseline != "" {
		if _, err := config.ParseBaselineSource(in.baseline); err != nil {
			errs = append(errs, "input baseline: "+err.Error())
		}
	}
	switch v := rt.Input("rekor-version"); v {
	case "":
	case "1", "2":
		in.rekorVersion = uint32(v[0] - '0')
	default:
		errs = append(errs, fmt.Sprintf("input rekor-version is %q: use 1 or 2, or leave it empty for the signing config's (else 1)", v))
	}
	for _, u := range []struct{ name, value string }{
		{"fulcio-url", in.fulcioURL}, {"rekor-url", in.rekorURL}, {"tsa-url", in.tsaURL},
	} {
		if err := checkServiceURL(u.value); err != nil {
			errs = append(errs, fmt.Sprintf("input %s: %v", u.name, err))
		}
	}
	if len(errs) > 0 {
		return in, fmt.Errorf("invalid action inputs: %s", strings.Join(errs, "; "))
	}

	in.config = inWorkspace(workspace, in.config)
	in.outDir = inWorkspace(workspace, in.outDir)
	for _, p := range []*string{&in.key, &in.trustedRoot, &in.signingConfig} {
		if *p != "" {
			*p = inWorkspace(workspace, *p)
		}
	}
	return in, nil
}

// checkServiceURL rejects a Sigstore service URL that is not absolute
// http(s) or that contains credentials. Empty is allowed.
func checkServiceURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("the value is not a valid URL")
	case u.User != nil:
		return errors.New("the URL must not contain credentials")
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// boolInput parses a boolean input as the YAML 1.2 core schema spells
// true and false, which is what the Actions toolkit accepts.
func boolInput(rt *actions.Runtime, name string, fallback bool) (bool, error) {
	switch rt.Input(name) {
	case "":
		return fallback, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("input %s is %q: use true or false", name, rt.Input(name))
}

// inWorkspace returns p relative to the workspace when it is relative.
func inWorkspace(workspace, p string) string {
	if workspace == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(workspace, p)
}
