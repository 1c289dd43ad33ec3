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

// readActionInputs reads and checks every input, masking the secret ones
// first, and reports every bad value at once. Relative paths are taken from
// the workspace, which is absolute; an empty workspace is an error.
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
	if workspace == "" {
		return in, fmt.Errorf("%s is not set: the runner sets it to the checkout directory for every step, so run auditpack action only as a step of a workflow, and auditpack run elsewhere", actions.VarGitHubWorkspace)
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

	// Paths. The inputs that are only read may name any file the container
	// can read; the pack must be written inside the workspace.
	in.config = inWorkspace(workspace, in.config)
	in.outDir = inWorkspace(workspace, in.outDir)
	for _, p := range []*string{&in.key, &in.trustedRoot, &in.signingConfig} {
		if *p != "" {
			*p = inWorkspace(workspace, *p)
		}
	}
	if err := checkOutputDir(workspace, in.outDir, in.config); err != nil {
		errs = append(errs, err.Error())
	}

	if len(errs) > 0 {
		return in, fmt.Errorf("invalid action inputs: %s", strings.Join(errs, "; "))
	}
	return in, nil
}

// checkOutputDir rejects an output-dir input outside the workspace. Only
// the workspace is shared with the later steps of the job: the container
// action's other files are lost when the step ends, and the pack-dir and
// archive outputs could not be given relative to the workspace. Symbolic
// links in the existing part of the path are followed. outDir and config
// are absolute or relative to the working directory.
func checkOutputDir(workspace, outDir, config string) error {
	ws, out := absPath(workspace), absPath(outDir)
	rel, err := filepath.Rel(ws, out)
	switch {
	case err != nil || !filepath.IsLocal(rel):
		return fmt.Errorf("input output-dir %s is outside the workspace %s, where the pack would be lost when this container step ends: give a directory relative to the workspace, such as auditpack-out", out, ws)
	case rel == ".":
		return fmt.Errorf("input output-dir names the workspace %s itself, and writing a pack replaces its whole directory: give a directory of its own, such as auditpack-out", ws)
	}
	if realWS, err := filepath.EvalSymlinks(ws); err == nil {
		if realOut := resolveExisting(out); !isWithin(realWS, realOut) {
			return fmt.Errorf("input output-dir %s leads outside the workspace %s through a symbolic link (to %s): give a directory inside the workspace", out, ws, realOut)
		}
	}
	if isWithin(out, absPath(config)) {
		return fmt.Errorf("input output-dir %s contains the configuration file %s, and writing a pack replaces the whole directory: give a directory of its own, such as auditpack-out", out, config)
	}
	return nil
}

// resolveExisting returns p with the symbolic links of its longest
// existing prefix resolved; the missing rest is appended unchanged.
func resolveExisting(p string) string {
	missing := ""
	for dir := p; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, missing)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return p
		}
		missing = filepath.Join(filepath.Base(dir), missing)
	}
}

// isWithin reports whether p is dir or lies below it; both are absolute
// and clean.
func isWithin(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel)
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
