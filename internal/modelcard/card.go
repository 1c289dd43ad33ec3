package modelcard

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Card is model-card.json. Its sections follow the Model Card Toolkit
// schema, so the card maps onto a CycloneDX modelCard almost one to one.
type Card struct {
	ModelDetails         Details              `json:"modelDetails"`
	ModelParameters      Parameters           `json:"modelParameters"`
	QuantitativeAnalysis QuantitativeAnalysis `json:"quantitativeAnalysis"`
	Considerations       Considerations       `json:"considerations"`
}

// Details names the model, its owners and where it came from.
type Details struct {
	Name        string    `json:"name"`
	Version     string    `json:"version,omitempty"`
	Description string    `json:"description,omitempty"`
	Owners      []Owner   `json:"owners"`
	License     string    `json:"license,omitempty"`
	Artifacts   []Digests `json:"artifacts"`
	// SourceCommit is the repository commit the pack was built from.
	SourceCommit string `json:"sourceCommit,omitempty"`
}

// Digests identifies one file or directory by content.
type Digests struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Parameters lists the data the model was trained and evaluated on.
type Parameters struct {
	Datasets []Dataset `json:"datasets"`
}

// Dataset is one dataset of the lineage record.
type Dataset struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Source  string `json:"source,omitempty"`
	License string `json:"license,omitempty"`
	SHA256  string `json:"sha256"`
}

// QuantitativeAnalysis holds every measured metric, overall and per slice.
type QuantitativeAnalysis struct {
	PerformanceMetrics []PerformanceMetric `json:"performanceMetrics"`
}

// PerformanceMetric is one value; Slice is empty for the whole evaluation
// set, or "column=value" for a group. A nil Value is undefined, and Reason
// says why.
type PerformanceMetric struct {
	Evaluation string   `json:"evaluation"`
	Type       string   `json:"type"`
	Slice      string   `json:"slice,omitempty"`
	Value      *float64 `json:"value"`
	Reason     string   `json:"undefinedReason,omitempty"`
}

// Considerations states use, limits and the fairness assessment.
type Considerations struct {
	IntendedUse string               `json:"intendedUse,omitempty"`
	Limitations string               `json:"limitations,omitempty"`
	Fairness    []FairnessAssessment `json:"fairnessAssessments"`
}

// FairnessAssessment is the cross-group measures of one group column.
type FairnessAssessment struct {
	Evaluation string                     `json:"evaluation"`
	Attribute  string                     `json:"attribute"`
	Measures   map[string]json.RawMessage `json:"measures"`
}

// JSON renders model-card.json, indented, with a trailing newline.
func JSON(in Input) ([]byte, error) {
	d, err := decode(in)
	if err != nil {
		return nil, err
	}
	m := in.Model
	card := Card{
		ModelDetails: Details{
			Name: m.Name, Version: m.Version, Description: m.Description,
			Owners: append([]Owner{}, m.Owners...), License: m.License,
			Artifacts: []Digests{},
		},
		ModelParameters:      Parameters{Datasets: []Dataset{}},
		QuantitativeAnalysis: QuantitativeAnalysis{PerformanceMetrics: []PerformanceMetric{}},
		Considerations: Considerations{
			IntendedUse: m.IntendedUse, Limitations: m.Limitations,
			Fairness: []FairnessAssessment{},
		},
	}
	if r := d.lineage.Repository; r != nil {
		card.ModelDetails.SourceCommit = r.Commit
	}
	for _, a := range d.lineage.Artifacts {
		card.ModelDetails.Artifacts = append(card.ModelDetails.Artifacts, Digests{Path: a.Path, SHA256: a.SHA256})
	}
	for _, ds := range d.lineage.Datasets {
		card.ModelParameters.Datasets = append(card.ModelParameters.Datasets, Dataset{
			Name: ds.Name, Role: ds.Role, Source: ds.Source, License: ds.License, SHA256: ds.SHA256,
		})
	}

	for _, name := range d.names {
		ev := d.metrics.Evaluations[name]
		for _, k := range slices.Sorted(maps.Keys(ev.Metrics)) {
			card.QuantitativeAnalysis.PerformanceMetrics = append(card.QuantitativeAnalysis.PerformanceMetrics,
				PerformanceMetric{Evaluation: name, Type: k, Value: ev.Metrics[k], Reason: reasonIfNil(ev.Metrics[k], ev.Undefined[k])})
		}
		for _, col := range slices.Sorted(maps.Keys(ev.Groups)) {
			g := ev.Groups[col]
			for _, group := range slices.Sorted(maps.Keys(g.Groups)) {
				values := g.Groups[group]
				for _, k := range slices.Sorted(maps.Keys(values)) {
					card.QuantitativeAnalysis.PerformanceMetrics = append(card.QuantitativeAnalysis.PerformanceMetrics,
						PerformanceMetric{Evaluation: name, Type: k, Slice: col + "=" + group, Value: values[k],
							Reason: reasonIfNil(values[k], g.Undefined["groups."+group+"."+k])})
				}
			}
			card.Considerations.Fairness = append(card.Considerations.Fairness,
				FairnessAssessment{Evaluation: name, Attribute: col, Measures: g.Fairness})
		}
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(card); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func reasonIfNil(v *float64, reason string) string {
	if v != nil {
		return ""
	}
	if reason == "" {
		return "not computed"
	}
	return reason
}
