// Package config loads and validates the auditpack configuration file,
// `.auditpack.yml` by default.
//
// Loading is strict: an unknown key, a value of the wrong type and a missing
// required field are all errors that name the file, the line and the key.
// Every problem in a file is reported at once. Relative paths in the file are
// resolved against the directory that contains it.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// DefaultPath is the configuration file read when none is given.
const DefaultPath = ".auditpack.yml"

// DefaultPolicy is applied when the configuration has no policies key.
const DefaultPolicy = "builtin:default"

// Task names accepted in evaluations[].task.
const (
	TaskBinaryClassification = "binary-classification"
)

// Dataset roles accepted in datasets[].role.
const (
	RoleTraining   = "training"
	RoleEvaluation = "evaluation"
)

// Config is the parsed configuration file.
type Config struct {
	Model       Model        `yaml:"model"`
	Datasets    []Dataset    `yaml:"datasets"`
	Evaluations []Evaluation `yaml:"evaluations"`
	// Policies lists policy files, relative to the configuration file, or
	// built-in presets written as "builtin:NAME".
	Policies []string `yaml:"policies"`
	// Baseline selects the pack to compare with; nil means the latest release's.
	Baseline *Baseline `yaml:"baseline"`

	// Path is the configuration file as given by the user.
	Path string `yaml:"-"`
	// Dir is the absolute directory that relative paths are resolved against.
	Dir string `yaml:"-"`

	// doc is the parsed file, for the lines of later errors.
	doc *strictyaml.Document
}

// Model describes the model under audit.
type Model struct {
	Name        string  `yaml:"name"`
	Version     string  `yaml:"version"`
	Description string  `yaml:"description"`
	Owners      []Owner `yaml:"owners"`
	IntendedUse string  `yaml:"intended_use"`
	Limitations string  `yaml:"limitations"`
	// License is an SPDX license expression.
	License string `yaml:"license"`
	// Artifacts are files or directories, relative to the configuration
	// file. Their digests become the subjects of the attestations.
	Artifacts []string `yaml:"artifacts"`
	// Subjects is SubjectsArtifact (default) or SubjectsPerFile.
	Subjects string `yaml:"subjects"`
}

// Owner is a person or team accountable for the model.
type Owner struct {
	Name    string `yaml:"name"`
	Contact string `yaml:"contact"`
}

// Load reads, parses and validates the configuration file at path, and
// checks that every file and directory it names exists, relative to the
// file's directory. The returned error joins every problem found, each a
// *strictyaml.Error.
func Load(path string) (*Config, error) {
	return LoadWith(path, nil)
}

// LoadWith is Load that also calls loadPolicies, unless it is nil, so that
// the problems of the policy files are reported after the configuration's
// own, in the same error. loadPolicies runs even when the configuration has
// other problems, but not when its policies key is invalid, so it may use
// only cfg.Policies, cfg.Path and cfg.Resolve.
func LoadWith(path string, loadPolicies func(cfg *Config) error) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &strictyaml.Error{File: path, Msg: "configuration file not found; pass --config or create .auditpack.yml (see docs/config.md)"}
		}
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", path, err)
	}
	cfg, errs := parse(path, data)
	if cfg == nil {
		return nil, errors.Join(errs...)
	}
	cfg.Dir = filepath.Dir(abs)
	errs = append(errs, cfg.doc.Filter(cfg.checkPaths(cfg.doc))...)
	strictyaml.SortByLine(errs)
	if loadPolicies != nil && cfg.policiesValid() {
		if err := loadPolicies(cfg); err != nil {
			errs = append(errs, flatten(err)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse parses and validates configuration bytes; file is used in messages.
// Unknown keys, values of the wrong type and invalid values are reported
// together, so that one run shows every problem of the file. Parse does
// not look at the files the configuration names; Load does.
func Parse(file string, data []byte) (*Config, error) {
	cfg, errs := parse(file, data)
	strictyaml.SortByLine(errs)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parse decodes and validates data. It returns the configuration decoded
// so far with every problem found, or a nil configuration when data is not
// a YAML mapping.
func parse(file string, data []byte) (*Config, []error) {
	var cfg Config
	doc, errs := strictyaml.DecodeAll(file, data, &cfg)
	if doc == nil {
		return nil, errs
	}
	cfg.Path = file
	cfg.doc = doc
	if err := cfg.validate(doc); err != nil {
		errs = append(errs, doc.Filter(flatten(err))...)
	}
	return &cfg, errs
}

// policiesValid reports whether the policies key could be read and names
// only non-empty references.
func (c *Config) policiesValid() bool {
	if c.doc.HasProblem("policies") || len(c.Policies) == 0 {
		return false
	}
	for _, p := range c.Policies {
		if strings.TrimSpace(p) == "" {
			return false
		}
	}
	return true
}

// flatten returns the errors that err joins, or err alone.
func flatten(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

// Errorf returns a configuration error located at key, a path such as
// "evaluations[0].fairness.reference_groups.race", for problems found after
// loading, such as a reference group that the data does not have. The
// location is the key's line, or its nearest present parent's.
func (c *Config) Errorf(key, format string, args ...any) error {
	if c.doc == nil {
		return &strictyaml.Error{File: c.Path, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	return c.doc.Errorf(key, format, args...)
}

// validate reports every missing or invalid field at once.
func (c *Config) validate(doc *strictyaml.Document) error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, doc.Errorf(key, format, args...))
	}

	if c.Model.Name == "" {
		add("model.name", "required: set the model's name")
	}
	if len(c.Model.Artifacts) == 0 {
		add("model.artifacts", "required: list at least one model file or directory; their digests become the attestation subjects")
	}
	for i, a := range c.Model.Artifacts {
		if strings.TrimSpace(a) == "" {
			add(fmt.Sprintf("model.artifacts[%d]", i), "empty path")
		}
	}
	for i, o := range c.Model.Owners {
		if o.Name == "" {
			add(fmt.Sprintf("model.owners[%d].name", i), "required: name the owner")
		}
	}

	errs = append(errs, c.validateDatasets(doc)...)
	errs = append(errs, c.validateEvaluations(doc)...)
	errs = append(errs, c.validateBaseline(doc)...)

	if len(c.Evaluations) == 0 {
		add("evaluations", "required: list at least one evaluation, so that the pack has metrics for its policies to judge")
	}
	// Leaving policies out applies the default preset; an explicitly empty
	// list would make a gate that passes everything, which is a mistake.
	switch {
	case c.Policies == nil:
		c.Policies = []string{DefaultPolicy}
	case len(c.Policies) == 0:
		add("policies", "empty list: name at least one policy file or preset, or leave the key out to apply %s", DefaultPolicy)
	}
	for i, p := range c.Policies {
		if strings.TrimSpace(p) == "" {
			add(fmt.Sprintf("policies[%d]", i), "empty path")
		}
	}

	return errors.Join(errs...)
}

// Resolve returns p as an absolute path, relative paths taken from the
// configuration file's directory.
func (c *Config) Resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Dir, filepath.FromSlash(p))
}

// EvaluationNames returns the evaluation names in configuration order.
func (c *Config) EvaluationNames() []string {
	names := make([]string, 0, len(c.Evaluations))
	for _, e := range c.Evaluations {
		names = append(names, e.Name)
	}
	return slices.Clip(names)
}
