package cli

import (
	"fmt"
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
	if len(errs) > 0 {
		return in, fmt.Errorf("invalid action inputs: %s", strings.Join(errs, "; "))
	}

	in.config = inWorkspace(workspace, in.config)
	in.outDir = inWorkspace(workspace, in.outDir)
	if in.key != "" {
		in.key = inWorkspace(workspace, in.key)
	}
	return in, nil
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
