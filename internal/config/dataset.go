package config

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Dataset is a training or evaluation dataset recorded in the lineage,
// with its provenance.
type Dataset struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
	// Path is the dataset's file or directory, relative to the
	// configuration file.
	Path string `yaml:"path"`
	// Source is the data's origin, usually a URL.
	Source string `yaml:"source"`
	// License is an SPDX license expression, such as "CC-BY-4.0" or
	// "MIT OR Apache-2.0"; LicenseRef-… names a licence of one's own.
	License     string `yaml:"license"`
	Description string `yaml:"description"`
	// Terms states usage rights beyond the licence, such as "research use
	// only; no re-identification".
	Terms string `yaml:"terms"`
	// Collection is the period the data was collected in.
	Collection Period `yaml:"collection"`
	// Preprocessing lists the code (files or directories) that produced
	// the dataset; each is hashed and its last commit recorded.
	Preprocessing []string `yaml:"preprocessing"`
	// Composition gives the dataset's shares by origin, which must add up
	// to 1.
	Composition []Share `yaml:"composition"`
	// DVC lists the .dvc or dvc.lock files that track the dataset. Empty
	// means PATH.dvc and the dvc.lock beside the configuration file, when
	// they exist.
	DVC []string `yaml:"dvc"`
}

// Period is a time span; each bound is YYYY, YYYY-MM or YYYY-MM-DD.
type Period struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

// Share is the fraction of a dataset from one origin.
type Share struct {
	Origin string  `yaml:"origin"`
	Share  float64 `yaml:"share"`
}

// Values of model.subjects.
const (
	// SubjectsArtifact makes each configured artifact one subject (a
	// directory's subject is its manifest digest). It is the default.
	SubjectsArtifact = "artifact"
	// SubjectsPerFile makes every file of every artifact its own subject,
	// for sharded models whose shards are verified one by one.
	SubjectsPerFile = "per-file"
)

// compositionTolerance is how far the shares may add up away from 1,
// which allows for shares written with a few decimals, such as thirds.
const compositionTolerance = 0.001

var dateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// validDate reports whether s is YYYY, YYYY-MM or YYYY-MM-DD and names a
// real month and day, so that 2020-13 and 2021-02-30 are rejected. Such
// dates compare correctly as strings.
func validDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(s)]
	_, err := time.Parse(layout, s)
	return err == nil
}

func (c *Config) validateDatasets(doc *strictyaml.Document) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, doc.Errorf(key, format, args...))
	}

	// model.subjects and model.license are checked here too, beside the
	// other lineage settings, so that config.go keeps its shape.
	switch c.Model.Subjects {
	case "", SubjectsArtifact, SubjectsPerFile:
	default:
		add("model.subjects", "must be %q (default) or %q, got %q", SubjectsArtifact, SubjectsPerFile, c.Model.Subjects)
	}
	if c.Model.License != "" {
		if msg := checkLicense(c.Model.License); msg != "" {
			add("model.license", "%s", msg)
		}
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
		switch d.Role {
		case RoleTraining, RoleEvaluation:
		case "":
			add(key+".role", "required: %q or %q", RoleTraining, RoleEvaluation)
		default:
			add(key+".role", "must be %q or %q, got %q", RoleTraining, RoleEvaluation, d.Role)
		}
		if d.Path == "" {
			add(key+".path", "required: the dataset's file or directory")
		}
		if d.License != "" {
			if msg := checkLicense(d.License); msg != "" {
				add(key+".license", "%s", msg)
			}
		}

		validDates := true
		for _, bound := range []struct{ name, value string }{{"start", d.Collection.Start}, {"end", d.Collection.End}} {
			if bound.value != "" && !validDate(bound.value) {
				add(key+".collection."+bound.name, "%q is not a valid date: write YYYY, YYYY-MM or YYYY-MM-DD", bound.value)
				validDates = false
			}
		}
		if validDates && d.Collection.Start != "" && d.Collection.End != "" && d.Collection.End < d.Collection.Start {
			add(key+".collection.end", "%s is before the start %s", d.Collection.End, d.Collection.Start)
		}

		for j, p := range d.Preprocessing {
			if strings.TrimSpace(p) == "" {
				add(fmt.Sprintf("%s.preprocessing[%d]", key, j), "empty path")
			}
		}
		for j, p := range d.DVC {
			if strings.TrimSpace(p) == "" {
				add(fmt.Sprintf("%s.dvc[%d]", key, j), "empty path")
			}
		}
		errs = append(errs, validateComposition(doc, key, d.Composition)...)
	}
	return errs
}

// validateComposition checks that every share has an origin and a value in
// (0, 1], that origins are unique and that the shares add up to 1.
func validateComposition(doc *strictyaml.Document, key string, shares []Share) []error {
	if len(shares) == 0 {
		return nil
	}
	var errs []error
	origins := map[string]bool{}
	total := 0.0
	for j, s := range shares {
		skey := fmt.Sprintf("%s.composition[%d]", key, j)
		switch {
		case s.Origin == "":
			errs = append(errs, doc.Errorf(skey+".origin", "required: name the origin, such as synthetic or proprietary"))
		case origins[s.Origin]:
			errs = append(errs, doc.Errorf(skey+".origin", "duplicate origin %q", s.Origin))
		}
		origins[s.Origin] = true
		if s.Share <= 0 || s.Share > 1 || math.IsNaN(s.Share) {
			errs = append(errs, doc.Errorf(skey+".share", "must be a fraction greater than 0 and at most 1, got %v", s.Share))
		}
		total += s.Share
	}
	if math.Abs(total-1) > compositionTolerance {
		errs = append(errs, doc.Errorf(key+".composition", "the shares add up to %.4g, not 1; give every origin's fraction of the dataset", total))
	}
	return errs
}

// checkLicense returns why expr is not a valid SPDX license expression,
// or "" when it is. go-spdx knows the SPDX license list and its
// exceptions; LicenseRef- identifiers are accepted as SPDX allows.
func checkLicense(expr string) string {
	if _, err := spdxexp.ExtractLicenses(expr); err != nil {
		return fmt.Sprintf("%q is not a valid SPDX license expression (%v); use identifiers from https://spdx.org/licenses/ such as CC-BY-4.0, or LicenseRef-NAME for your own", expr, err)
	}
	ok, invalid := spdxexp.ValidateLicenses([]string{expr})
	if !ok {
		return fmt.Sprintf("%q is not a valid SPDX license expression (unknown: %s); use identifiers from https://spdx.org/licenses/ such as CC-BY-4.0, or LicenseRef-NAME for your own", expr, strings.Join(invalid, ", "))
	}
	return ""
}
