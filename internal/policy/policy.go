// Package policy loads policy files and evaluates their rules against the
// metrics document of a pack.
//
// A policy file is YAML:
//
//	rules:
//	  - id: accuracy-floor
//	    description: Accuracy on the held-out set is at least 0.7.
//	    metric: evaluations.*.metrics.accuracy
//	    min: 0.7
//	    severity: block
//
// A rule's metric is a dotted path into metrics.json; a "*" segment matches
// every key of a map. A failed rule is a finding, not an error: errors are
// reserved for policies that cannot be evaluated at all, such as a metric
// path that names a key the metrics document does not have.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Severity says whether a failed rule blocks.
type Severity string

// Severities a rule may have.
const (
	SeverityBlock Severity = "block"
	SeverityWarn  Severity = "warn"
)

// BuiltinPrefix marks a policy reference that names a preset shipped with
// auditpack, such as "builtin:default".
const BuiltinPrefix = "builtin:"

// File is one loaded policy file.
type File struct {
	// Path is the file as referenced in the configuration, such as
	// "policies/default.yaml" or "builtin:default".
	Path string `json:"path"`
	// SHA256 is the hex digest of the file's bytes.
	SHA256 string `json:"sha256"`
	// Source says where the bytes were read when not from the working
	// tree, such as "base commit 1a2b3c4" on a pull request.
	Source string `json:"source,omitempty"`
	Rules  []Rule `json:"-"`
	// Licenses is the file's licence allow-list and deny-list; nil when
	// the file has none.
	Licenses *LicensePolicy `json:"licenses,omitempty"`
}

// Rule is one threshold on a metric path.
type Rule struct {
	ID          string   `yaml:"id" json:"id"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Metric      string   `yaml:"metric" json:"metric"`
	Min         *float64 `yaml:"min" json:"min,omitempty"`
	Max         *float64 `yaml:"max" json:"max,omitempty"`
	// MaxDrop and MaxIncrease bound the change from the baseline pack's
	// value of the same metric path; see baseline.go.
	MaxDrop     *float64 `yaml:"max_drop" json:"maxDrop,omitempty"`
	MaxIncrease *float64 `yaml:"max_increase" json:"maxIncrease,omitempty"`
	Severity    Severity `yaml:"severity" json:"severity"`
	// Tasks limits the evaluations that an evaluations.NAME or
	// evaluations.* path matches to those of these tasks, such as
	// binary-classification; empty means every evaluation. See scope in
	// scope.go.
	Tasks []string `yaml:"tasks" json:"tasks,omitempty"`
	// Stressed limits the evaluations that an evaluations.NAME or
	// evaluations.* path matches to the stressed variants, those with a
	// stress section, whose metrics have a robustness object. False means
	// every evaluation.
	Stressed bool `yaml:"stressed" json:"stressed,omitempty"`

	// file and line locate the rule for messages, and metricLine its
	// metric key, for messages about the path.
	file       string
	line       int
	metricLine int
}

type fileSchema struct {
	Rules    []Rule         `yaml:"rules"`
	Licenses *LicensePolicy `yaml:"licenses"`
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Load reads the policy files refs. A ref is a path (resolved with resolve)
// or BuiltinPrefix followed by the name of a preset in builtins. Rule ids
// must be unique across all files.
func Load(refs []string, resolve func(string) string, builtins fs.FS) ([]File, error) {
	return LoadFrom(refs, DiskReader(resolve), builtins)
}

// LoadFrom is Load with the policy files read through readFile, so that a
// caller can read them from elsewhere than the working tree, such as a
// pull request's base commit. Built-in presets still come from builtins.
func LoadFrom(refs []string, readFile ReadFunc, builtins fs.FS) ([]File, error) {
	var files []File
	var errs []error
	ids := map[string]string{}
	for _, ref := range refs {
		data, err := read(ref, readFile, builtins)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := Parse(ref, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range f.Rules {
			if prev, ok := ids[r.ID]; ok {
				errs = append(errs, &strictyaml.Error{File: ref, Line: r.line, Key: "rules",
					Msg: fmt.Sprintf("rule id %q is already used in %s; rule ids must be unique across policy files", r.ID, prev)})
			}
			ids[r.ID] = ref
		}
		files = append(files, *f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, &LoadError{Err: err}
	}
	return files, nil
}

// LoadError is the error of Load and LoadFrom: a policy file that is not
// found, cannot be read or is invalid, or a rule id repeated across files.
// It is a mistake in the policies, so a caller can tell it from a failure
// of what the policies judge. Err joins every problem, most of them a
// *strictyaml.Error.
type LoadError struct {
	Err error
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

func read(ref string, readFile ReadFunc, builtins fs.FS) ([]byte, error) {
	if name, ok := strings.CutPrefix(ref, BuiltinPrefix); ok {
		data, err := fs.ReadFile(builtins, name+".yaml")
		if err != nil {
			return nil, &strictyaml.Error{File: ref, Msg: fmt.Sprintf("no built-in policy named %q; see docs/policies.md for the presets", name)}
		}
		return data, nil
	}
	data, err := readFile(ref)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &strictyaml.Error{File: ref, Msg: "policy file not found; paths in policies are relative to the configuration file"}
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy %q: %w", ref, err)
	}
	return data, nil
}

// Parse parses and validates one policy file; ref names it in messages.
func Parse(ref string, data []byte) (*File, error) {
	var schema fileSchema
	doc, shapeErrs := strictyaml.DecodeAll(ref, data, &schema)
	if doc == nil {
		return nil, errors.Join(shapeErrs...)
	}

	var errs []error
	if len(schema.Rules) == 0 && schema.Licenses == nil {
		errs = append(errs, doc.Errorf("rules", "required: list at least one rule"))
	}
	errs = append(errs, validateLicensePolicy(doc, schema.Licenses)...)
	ids := map[string]bool{}
	for i := range schema.Rules {
		r := &schema.Rules[i]
		key := fmt.Sprintf("rules[%d]", i)
		r.file, r.line, r.metricLine = ref, doc.Line(key), doc.Line(key+".metric")
		switch {
		case r.ID == "":
			errs = append(errs, doc.Errorf(key+".id", "required: give the rule a short id such as accuracy-floor"))
		case !idRE.MatchString(r.ID):
			errs = append(errs, doc.Errorf(key+".id", "%q is not a valid id: use lower-case letters, digits, '.', '-' and '_'", r.ID))
		case ids[r.ID]:
			errs = append(errs, doc.Errorf(key+".id", "duplicate rule id %q", r.ID))
		}
		ids[r.ID] = true
		if r.Metric == "" {
			errs = append(errs, doc.Errorf(key+".metric", "required: a metric path such as evaluations.*.metrics.accuracy"))
		} else if err := checkPath(r.Metric); err != nil {
			errs = append(errs, doc.Errorf(key+".metric", "%v", err))
		}
		errs = append(errs, validateTasks(doc, key, r)...)
		errs = append(errs, validateStressed(doc, key, r)...)
		if r.Min == nil && r.Max == nil && r.MaxDrop == nil && r.MaxIncrease == nil {
			errs = append(errs, doc.Errorf(key, "set min, max or both, or max_drop or max_increase to bound the change from the baseline"))
		}
		errs = append(errs, validateBaselineBounds(doc, key, r)...)
		for _, bound := range []struct {
			name  string
			value *float64
		}{{"min", r.Min}, {"max", r.Max}, {"max_drop", r.MaxDrop}, {"max_increase", r.MaxIncrease}} {
			if bound.value != nil && (math.IsNaN(*bound.value) || math.IsInf(*bound.value, 0)) {
				errs = append(errs, doc.Errorf(key+"."+bound.name, "must be a finite number, got %v", *bound.value))
			}
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			errs = append(errs, doc.Errorf(key+".min", "min %v is greater than max %v", *r.Min, *r.Max))
		}
		switch r.Severity {
		case SeverityBlock, SeverityWarn:
		case "":
			errs = append(errs, doc.Errorf(key+".severity", "required: %q or %q", SeverityBlock, SeverityWarn))
		default:
			errs = append(errs, doc.Errorf(key+".severity", "must be %q or %q, got %q", SeverityBlock, SeverityWarn, r.Severity))
		}
	}
	// Unknown keys and values of the wrong type are reported with the
	// invalid values, so that one run shows every problem of the file.
	errs = append(shapeErrs, doc.Filter(errs)...)
	strictyaml.SortByLine(errs)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	sum := sha256.Sum256(data)
	return &File{Path: ref, SHA256: hex.EncodeToString(sum[:]), Rules: schema.Rules, Licenses: schema.Licenses}, nil
}

// validateTasks checks a rule's tasks: known task names, no duplicates,
// and a metric path that starts at an evaluation, which is what tasks
// filters.
func validateTasks(doc *strictyaml.Document, key string, r *Rule) []error {
	if r.Tasks == nil {
		return nil
	}
	var errs []error
	if len(r.Tasks) == 0 {
		errs = append(errs, doc.Errorf(key+".tasks", "empty list: name at least one task, such as %s, or leave the key out to apply the rule to every evaluation", config.TaskBinaryClassification))
	}
	seen := map[string]bool{}
	for j, task := range r.Tasks {
		tkey := fmt.Sprintf("%s.tasks[%d]", key, j)
		switch {
		case !slices.Contains(config.Tasks, task):
			errs = append(errs, doc.Errorf(tkey, "unknown task %q: tasks are %s", task, strings.Join(config.Tasks, ", ")))
		case seen[task]:
			errs = append(errs, doc.Errorf(tkey, "duplicate task %q", task))
		}
		seen[task] = true
	}
	if !startsAtEvaluation(r.Metric) {
		errs = append(errs, doc.Errorf(key+".tasks", "tasks selects evaluations, so the metric path must start with evaluations.NAME or evaluations.*, got %q", r.Metric))
	}
	return errs
}

// validateStressed checks a rule's stressed: an explicit false, which
// would read as "only clean evaluations" but selects every evaluation, and
// a metric path that does not start at an evaluation.
func validateStressed(doc *strictyaml.Document, key string, r *Rule) []error {
	if !slices.Contains(doc.Keys(key), "stressed") || doc.HasProblem(key+".stressed") {
		return nil
	}
	if !r.Stressed {
		return []error{doc.Errorf(key+".stressed", "false is the default and applies the rule to every evaluation, clean or stressed: remove the key, or set it to true to apply the rule only to stressed evaluations")}
	}
	if !startsAtEvaluation(r.Metric) {
		return []error{doc.Errorf(key+".stressed", "stressed selects evaluations, so the metric path must start with evaluations.NAME or evaluations.*, got %q", r.Metric)}
	}
	return nil
}

// startsAtEvaluation reports whether the metric path p reads below
// evaluations.NAME or evaluations.*. A path that cannot be read counts as
// starting there, because checkPath reports it.
func startsAtEvaluation(p string) bool {
	path, err := splitPath(p)
	return err != nil || (len(path) >= 2 && !path[0].wildcard && path[0].key == "evaluations")
}

// checkPath reports a metric path that splitPath cannot read.
func checkPath(p string) error {
	_, err := splitPath(p)
	return err
}
