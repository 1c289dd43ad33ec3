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

// QuantitativeAnalysis holds every measured metric, overall and per slice,
// and the comparison of each stressed evaluation with its baseline.
type QuantitativeAnalysis struct {
	PerformanceMetrics []PerformanceMetric `json:"performanceMetrics"`
	Robustness         []Robustness        `json:"robustness"`
}

// PerformanceMetric is one value. Slice is empty for the whole evaluation
// set, "column=value" for a group, "class=name" for one class of a
// multiclass evaluation, "task=name" for an lm-evaluation-harness task,
// "provider=name" for a promptfoo provider, or "probe=name" and
// "probe=name,detector=name" for garak. A nil Value is undefined, and
// Reason explains why.
type PerformanceMetric struct {
	Evaluation string   `json:"evaluation"`
	Type       string   `json:"type"`
	Slice      string   `json:"slice,omitempty"`
	Value      *float64 `json:"value"`
	Reason     string   `json:"undefinedReason,omitempty"`
	// StandardError is the standard error a harness reported with the
	// value, when it reported one.
	StandardError *float64 `json:"standardError,omitempty"`
	// ConfidenceInterval is the bootstrap interval of the value, when the
	// evaluation computed one.
	ConfidenceInterval *ConfidenceInterval `json:"confidenceInterval,omitempty"`
}

// ConfidenceInterval is a bootstrap interval and how it was computed. A
// nil bound is undefined, and Reason explains why.
type ConfidenceInterval struct {
	LowerBound      *float64 `json:"lowerBound"`
	UpperBound      *float64 `json:"upperBound"`
	Reason          string   `json:"undefinedReason,omitempty"`
	ConfidenceLevel float64  `json:"confidenceLevel"`
	Method          string   `json:"method"`
	Resamples       int      `json:"resamples"`
	Seed            int64    `json:"seed"`
}

// Robustness compares a stressed evaluation with its clean baseline: each
// metric's drop (positive means worse) and the share of changed
// predictions.
type Robustness struct {
	Evaluation  string              `json:"evaluation"`
	Baseline    string              `json:"baseline"`
	Kind        string              `json:"kind"`
	Description string              `json:"description,omitempty"`
	FlipRate    *float64            `json:"flipRate"`
	Reason      string              `json:"undefinedReason,omitempty"`
	Drops       []PerformanceMetric `json:"drops"`
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
	// MinGroupSize is the number of rows below which a group is left out
	// of the measures (0 for none), and ExcludedGroups lists those groups.
	MinGroupSize   int64    `json:"minGroupSize"`
	ExcludedGroups []string `json:"excludedGroups"`
	// Reference is metrics.json's comparison of every included group with
	// the configured reference group, as written there; absent without a
	// reference group.
	Reference json.RawMessage `json:"reference,omitempty"`
	// ConfidenceIntervals holds the bootstrap interval of each measure
	// that has one.
	ConfidenceIntervals map[string]ConfidenceInterval `json:"confidenceIntervals,omitempty"`
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
		QuantitativeAnalysis: QuantitativeAnalysis{PerformanceMetrics: []PerformanceMetric{}, Robustness: []Robustness{}},
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
		qa := &card.QuantitativeAnalysis
		qa.PerformanceMetrics = append(qa.PerformanceMetrics, performanceMetrics(name, ev)...)
		for _, col := range slices.Sorted(maps.Keys(ev.Groups)) {
			g := ev.Groups[col]
			assessment := FairnessAssessment{Evaluation: name, Attribute: col, Measures: g.Fairness,
				MinGroupSize: g.MinGroupSize, ExcludedGroups: append([]string{}, g.ExcludedGroups...), Reference: g.RawReference}
			if ev.Bootstrap != nil && len(g.ConfidenceIntervals) > 0 {
				assessment.ConfidenceIntervals = map[string]ConfidenceInterval{}
				for key, ci := range g.ConfidenceIntervals {
					assessment.ConfidenceIntervals[key] = *confidenceInterval(ci, *ev.Bootstrap, g.Undefined, key)
				}
			}
			card.Considerations.Fairness = append(card.Considerations.Fairness, assessment)
		}
		if r := ev.Robustness; r != nil {
			result := Robustness{Evaluation: name, Baseline: r.Baseline, Kind: r.Kind, Description: r.Description,
				FlipRate: r.FlipRate, Reason: reasonIfNil(r.FlipRate, r.Undefined["flipRate"]), Drops: []PerformanceMetric{}}
			for _, key := range slices.Sorted(maps.Keys(r.Drop)) {
				result.Drops = append(result.Drops, PerformanceMetric{Evaluation: name, Type: key, Value: r.Drop[key],
					Reason: reasonIfNil(r.Drop[key], r.Undefined["drop."+key])})
			}
			qa.Robustness = append(qa.Robustness, result)
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

// performanceMetrics lists every value of one evaluation: the overall
// metrics with their intervals, then per group, per class, per harness
// task, per promptfoo provider and per garak probe and detector, each
// sorted by slice and then by metric.
func performanceMetrics(name string, ev evaluation) []PerformanceMetric {
	var out []PerformanceMetric
	add := func(slice string, values map[string]*float64, reason func(key string) string) {
		for _, key := range slices.Sorted(maps.Keys(values)) {
			out = append(out, PerformanceMetric{Evaluation: name, Type: key, Slice: slice, Value: values[key],
				Reason: reasonIfNil(values[key], reason(key))})
		}
	}

	add("", ev.Metrics, func(key string) string { return ev.Undefined[key] })
	if ev.Bootstrap != nil {
		for i := range out {
			if ci, ok := ev.ConfidenceIntervals[out[i].Type]; ok {
				out[i].ConfidenceInterval = confidenceInterval(ci, *ev.Bootstrap, ev.Undefined, out[i].Type)
			}
		}
	}
	for _, col := range slices.Sorted(maps.Keys(ev.Groups)) {
		g := ev.Groups[col]
		for _, group := range slices.Sorted(maps.Keys(g.Groups)) {
			add(col+"="+group, g.Groups[group], func(key string) string { return g.Undefined["groups."+group+"."+key] })
		}
	}
	for _, class := range slices.Sorted(maps.Keys(ev.PerClass)) {
		add("class="+class, ev.PerClass[class], func(key string) string { return ev.Undefined["perClass."+class+"."+key] })
	}
	for _, task := range slices.Sorted(maps.Keys(ev.Tasks)) {
		t := ev.Tasks[task]
		first := len(out)
		add("task="+task, t.Metrics, func(key string) string { return ev.Undefined["tasks."+task+".metrics."+key] })
		for i := first; i < len(out); i++ {
			out[i].StandardError = t.Stderr[out[i].Type]
		}
	}
	for _, provider := range slices.Sorted(maps.Keys(ev.Providers)) {
		add("provider="+provider, ev.Providers[provider], func(key string) string { return ev.Undefined["providers."+provider+"."+key] })
	}
	for _, key := range slices.Sorted(maps.Keys(ev.Probes)) {
		p := ev.Probes[key]
		add("probe="+p.Probe, map[string]*float64{"maxAttackSuccessRate": p.MaxAttackSuccessRate},
			func(metric string) string { return ev.Undefined["probes."+key+"."+metric] })
		for _, dk := range slices.Sorted(maps.Keys(p.Detectors)) {
			d := p.Detectors[dk]
			evaluated, hits := float64(d.Evaluated), float64(d.Hits)
			add("probe="+p.Probe+",detector="+d.Detector,
				map[string]*float64{"evaluated": &evaluated, "hits": &hits, "attackSuccessRate": d.AttackSuccessRate},
				func(metric string) string { return ev.Undefined["probes."+key+".detectors."+dk+"."+metric] })
		}
	}
	return out
}

// confidenceInterval converts the interval of metric key, whose reasons
// for null bounds are under "confidenceIntervals.<key>.lower" in
// undefined.
func confidenceInterval(ci interval, info bootstrapInfo, undefined map[string]string, key string) *ConfidenceInterval {
	out := &ConfidenceInterval{
		LowerBound: ci.Lower, UpperBound: ci.Upper,
		ConfidenceLevel: info.Confidence, Method: info.Method, Resamples: info.Resamples, Seed: info.Seed,
	}
	if ci.Lower == nil || ci.Upper == nil {
		out.Reason = reasonIfNil(nil, undefined["confidenceIntervals."+key+".lower"])
	}
	return out
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
