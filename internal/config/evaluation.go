package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Evaluation points at one predictions file and says how to read it.
type Evaluation struct {
	Name string `yaml:"name"`
	Task string `yaml:"task"`
	// Predictions is the CSV or JSONL file of predictions, relative to the
	// configuration file.
	Predictions string `yaml:"predictions"`
	// Format is "csv" or "jsonl"; empty means it is taken from the file
	// extension.
	Format        string   `yaml:"format"`
	Columns       Columns  `yaml:"columns"`
	PositiveLabel string   `yaml:"positive_label"`
	NegativeLabel string   `yaml:"negative_label"`
	Groups        []string `yaml:"groups"`
}

// Columns names the columns of a predictions file.
type Columns struct {
	Label      string `yaml:"label"`
	Prediction string `yaml:"prediction"`
	// Score is optional; without it, ROC AUC and the Brier score are
	// reported as undefined.
	Score string `yaml:"score"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func (c *Config) validateEvaluations(doc *strictyaml.Document) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, doc.Errorf(key, format, args...))
	}
	seen := map[string]bool{}
	for i, e := range c.Evaluations {
		key := fmt.Sprintf("evaluations[%d]", i)
		switch {
		case e.Name == "":
			add(key+".name", "required: name the evaluation")
		case !nameRE.MatchString(e.Name):
			add(key+".name", "%q is not a valid name: use letters, digits, '-' and '_' (policy rules address evaluations by name)", e.Name)
		case seen[e.Name]:
			add(key+".name", "duplicate evaluation name %q", e.Name)
		}
		seen[e.Name] = true
		if e.Task != TaskBinaryClassification {
			add(key+".task", "unsupported task %q: supported tasks are %q", e.Task, TaskBinaryClassification)
		}
		if e.Predictions == "" {
			add(key+".predictions", "required: the CSV or JSONL file of predictions")
		}
		if e.Format != "" && e.Format != "csv" && e.Format != "jsonl" {
			add(key+".format", "must be \"csv\" or \"jsonl\" (or left out to use the file extension), got %q", e.Format)
		}
		if e.Columns.Label == "" {
			add(key+".columns.label", "required: the column holding the true label")
		}
		if e.Columns.Prediction == "" {
			add(key+".columns.prediction", "required: the column holding the predicted label")
		}
		if e.PositiveLabel == "" {
			add(key+".positive_label", "required: the label value of the positive class, such as \"1\"")
		}
		if e.NegativeLabel != "" && e.NegativeLabel == e.PositiveLabel {
			add(key+".negative_label", "must differ from positive_label %q", e.PositiveLabel)
		}
		groups := map[string]bool{}
		for j, g := range e.Groups {
			gkey := fmt.Sprintf("%s.groups[%d]", key, j)
			switch {
			case g == "":
				add(gkey, "empty column name")
			case strings.ContainsAny(g, ".*"):
				add(gkey, "column name %q contains '.' or '*', which policy metric paths use as separators; rename the column", g)
			case groups[g]:
				add(gkey, "duplicate group column %q", g)
			}
			groups[g] = true
		}
	}
	return errs
}
