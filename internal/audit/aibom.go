package audit

import (
	"time"

	"github.com/auditpack/auditpack/internal/aibom"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/lineage"
)

// FileAIBOM is the pack's CycloneDX 1.6 AI bill of materials.
const FileAIBOM = "aibom.cdx.json"

// PredicateCycloneDX is the predicate type of the AI-BOM statement: the
// unversioned CycloneDX URI, which cosign's "cyclonedx" alias also names.
const PredicateCycloneDX = "https://cyclonedx.org/bom"

func renderAIBOM(cfg *config.Config, opts RunOptions, metricsJSON []byte, lin *lineage.Lineage, created time.Time) ([]byte, error) {
	m := cfg.Model
	in := aibom.Input{
		Model: aibom.Model{
			Name: m.Name, Version: m.Version, Description: m.Description, License: m.License,
			IntendedUse: m.IntendedUse, Limitations: m.Limitations,
		},
		Lineage: lin, Metrics: metricsJSON,
		ToolName: "auditpack", ToolVersion: opts.ToolVersion, Created: created,
	}
	for _, o := range m.Owners {
		in.Model.Owners = append(in.Model.Owners, aibom.Owner{Name: o.Name, Contact: o.Contact})
	}
	if len(cfg.Evaluations) > 0 {
		in.Model.Task = cfg.Evaluations[0].Task
	}
	for _, e := range cfg.Evaluations {
		if e.Fairness.PositiveOutcome == "" {
			continue
		}
		if in.PositiveOutcomes == nil {
			in.PositiveOutcomes = map[string]string{}
		}
		in.PositiveOutcomes[e.Name] = e.Fairness.PositiveOutcome
	}
	bom, err := aibom.Build(in)
	if err != nil {
		return nil, err
	}
	return aibom.Encode(bom)
}

// aibomStatement attests the AI-BOM, with the BOM itself as predicate.
func (b *build) aibomStatement() (statement, error) {
	return statement{name: "aibom", predicateType: PredicateCycloneDX, predicate: jsonDocument(b.files[FileAIBOM])}, nil
}
