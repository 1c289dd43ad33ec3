package config

import (
	"fmt"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Dataset is a training or evaluation dataset recorded in the lineage.
type Dataset struct {
	Name        string `yaml:"name"`
	Role        string `yaml:"role"`
	Path        string `yaml:"path"`
	Source      string `yaml:"source"`
	License     string `yaml:"license"`
	Description string `yaml:"description"`
}

func (c *Config) validateDatasets(doc *strictyaml.Document) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, doc.Errorf(key, format, args...))
	}
	seen := map[string]bool{}
	for i, d := range c.Datasets {
		key := fmt.Sprintf("datasets[%d]", i)
		switch {
		case d.Name == "":
			add(key+".name", "required: name the dataset")
		case seen[d.Name]:
			add(key+".name", "duplicate dataset name %q", d.Name)
		}
		seen[d.Name] = true
		if d.Role != RoleTraining && d.Role != RoleEvaluation {
			add(key+".role", "must be %q or %q, got %q", RoleTraining, RoleEvaluation, d.Role)
		}
		if d.Path == "" {
			add(key+".path", "required: the dataset's file or directory")
		}
	}
	return errs
}
