package aibom

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// evaluation is the part of one metrics.json evaluation the BOM uses. It
// covers every task: the binary evaluation, the summary of a multiclass,
// regression or latency evaluation, and the report of a harness.
type evaluation struct {
	Name string `json:"name"`
	Task string `json:"task"`
	// Metrics holds the overall metrics of every task.
	Metrics map[string]json.RawMessage `json:"metrics"`
	// ConfidenceIntervals contains the bootstrap intervals of Metrics, when
	// a bootstrap was configured.
	ConfidenceIntervals map[string]*interval `json:"confidenceIntervals"`
	// PerClass holds a multiclass evaluation's metrics of each class.
	PerClass map[string]map[string]json.RawMessage `json:"perClass"`
	// Tasks, Providers and Probes hold the results of lm-eval-harness,
	// promptfoo and garak.
	Tasks      map[string]*harnessTask               `json:"tasks"`
	Providers  map[string]map[string]json.RawMessage `json:"providers"`
	Probes     map[string]*garakProbe                `json:"probes"`
	Robustness *robustness                           `json:"robustness"`
	Groups     map[string]*groupColumn               `json:"groups"`
}

type harnessTask struct {
	Metrics map[string]json.RawMessage `json:"metrics"`
}

type garakProbe struct {
	MaxAttackSuccessRate json.RawMessage                       `json:"maxAttackSuccessRate"`
	Detectors            map[string]map[string]json.RawMessage `json:"detectors"`
}

// robustness compares a stressed evaluation with its baseline.
type robustness struct {
	Baseline   string                     `json:"baseline"`
	Kind       string                     `json:"kind"`
	Drop       map[string]json.RawMessage `json:"drop"`
	FlipRate   json.RawMessage            `json:"flipRate"`
	Flips      json.RawMessage            `json:"flips"`
	PairedRows json.RawMessage            `json:"pairedRows"`
}

// groupColumn is the results of one protected attribute or intersection.
type groupColumn struct {
	Column string `json:"column"`
	// MinGroupSize is the configured minimum group size, and
	// ExcludedGroups the groups smaller than it, which are left out of
	// Fairness.
	MinGroupSize   int64                                 `json:"minGroupSize"`
	ExcludedGroups []string                              `json:"excludedGroups"`
	Groups         map[string]map[string]json.RawMessage `json:"groups"`
	Fairness       map[string]json.RawMessage            `json:"fairness"`
	// Reference compares every included group with the reference group.
	Reference *reference `json:"reference"`
	// ConfidenceIntervals contains the bootstrap intervals of Fairness.
	ConfidenceIntervals map[string]*interval `json:"confidenceIntervals"`
}

// reference is a group column's comparison with its reference group. The
// measures over all groups (disparateImpactRatio and
// equalizedOddsDifference for binary classification) are the numeric
// fields of Measures.
type reference struct {
	Group    string
	Groups   map[string]map[string]json.RawMessage
	Measures map[string]json.RawMessage
}

func (r *reference) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if raw, ok := fields["group"]; ok {
		if err := json.Unmarshal(raw, &r.Group); err != nil {
			return err
		}
	}
	if raw, ok := fields["groups"]; ok {
		if err := json.Unmarshal(raw, &r.Groups); err != nil {
			return err
		}
	}
	delete(fields, "group")
	delete(fields, "groups")
	delete(fields, "undefined")
	r.Measures = fields
	return nil
}

// interval is a bootstrap confidence interval; a bound is nil when
// metrics.json records it as undefined.
type interval struct {
	Lower *float64 `json:"lower"`
	Upper *float64 `json:"upper"`
}

func (g *groupColumn) excluded(value string) bool {
	return slices.Contains(g.ExcludedGroups, value)
}

func parseMetrics(data []byte) ([]evaluation, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var doc struct {
		Evaluations map[string]evaluation `json:"evaluations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading metrics.json for the AI-BOM: %w", err)
	}
	var out []evaluation
	for _, name := range slices.Sorted(maps.Keys(doc.Evaluations)) {
		e := doc.Evaluations[name]
		e.Name = name
		out = append(out, e)
	}
	return out, nil
}

// predictionTasks are the tasks evaluated from a predictions file, as
// opposed to latency and the harness tasks.
var predictionTasks = []string{"binary-classification", "multiclass-classification", "regression"}

// modelTask returns the task for modelParameters.task, which CycloneDX
// defines as one string. It is the evaluations' task when they all agree.
// When they differ, it is the task of the binary, multiclass and
// regression evaluations if those agree, else "". Without evaluations it
// is fallback.
func modelTask(evals []evaluation, fallback string) string {
	if len(evals) == 0 {
		return fallback
	}
	var all, predictions []string
	for _, e := range evals {
		if e.Task == "" {
			continue
		}
		if !slices.Contains(all, e.Task) {
			all = append(all, e.Task)
		}
		if slices.Contains(predictionTasks, e.Task) && !slices.Contains(predictions, e.Task) {
			predictions = append(predictions, e.Task)
		}
	}
	switch {
	case len(all) == 0:
		return fallback
	case len(all) == 1:
		return all[0]
	case len(predictions) == 1:
		return predictions[0]
	}
	return ""
}

// performanceMetrics lists every defined number of every evaluation,
// evaluations in name order and, within one, metrics in name order:
//
//   - the overall metrics, slice "EVAL", with their bootstrap intervals;
//   - a multiclass evaluation's per-class metrics, slice "EVAL: class=C";
//   - a harness's results, slices "EVAL: task=T" (lm-eval-harness),
//     "EVAL: provider=P" (promptfoo), "EVAL: probe=P" and
//     "EVAL: probe=P, detector=D" (garak);
//   - a stressed evaluation's robustness, slice
//     "EVAL: KIND against BASELINE", with the drops as "drop.METRIC";
//   - for each group column, every per-group metric, slice
//     "EVAL: COLUMN=VALUE" (the slice of a group left out of the fairness
//     measures by min_group_size states it), the fairness measures, slice
//     "EVAL: COLUMN", with their bootstrap intervals, and the comparison
//     with a reference group, slices "EVAL: COLUMN, against COLUMN=REF"
//     and "EVAL: COLUMN=VALUE, against COLUMN=REF".
//
// Undefined (null) and non-numeric values are left out.
func performanceMetrics(evals []evaluation) []cdx.MLPerformanceMetric {
	var out []cdx.MLPerformanceMetric
	add := func(values map[string]json.RawMessage, slice string, intervals map[string]*interval) {
		for _, name := range slices.Sorted(maps.Keys(values)) {
			if v, ok := number(values[name]); ok {
				out = append(out, performanceMetric(name, v, slice, intervals[name]))
			}
		}
	}
	for _, e := range evals {
		add(e.Metrics, e.Name, e.ConfidenceIntervals)
		for _, class := range slices.Sorted(maps.Keys(e.PerClass)) {
			add(e.PerClass[class], fmt.Sprintf("%s: class=%s", e.Name, class), nil)
		}
		for _, task := range slices.Sorted(maps.Keys(e.Tasks)) {
			if t := e.Tasks[task]; t != nil {
				add(t.Metrics, fmt.Sprintf("%s: task=%s", e.Name, task), nil)
			}
		}
		for _, provider := range slices.Sorted(maps.Keys(e.Providers)) {
			add(e.Providers[provider], fmt.Sprintf("%s: provider=%s", e.Name, provider), nil)
		}
		for _, probe := range slices.Sorted(maps.Keys(e.Probes)) {
			p := e.Probes[probe]
			if p == nil {
				continue
			}
			add(map[string]json.RawMessage{"maxAttackSuccessRate": p.MaxAttackSuccessRate}, fmt.Sprintf("%s: probe=%s", e.Name, probe), nil)
			for _, detector := range slices.Sorted(maps.Keys(p.Detectors)) {
				add(p.Detectors[detector], fmt.Sprintf("%s: probe=%s, detector=%s", e.Name, probe, detector), nil)
			}
		}
		if r := e.Robustness; r != nil {
			values := map[string]json.RawMessage{"flipRate": r.FlipRate, "flips": r.Flips, "pairedRows": r.PairedRows}
			for name, v := range r.Drop {
				values["drop."+name] = v
			}
			add(values, fmt.Sprintf("%s: %s against %s", e.Name, r.Kind, r.Baseline), nil)
		}
		for _, column := range slices.Sorted(maps.Keys(e.Groups)) {
			g := e.Groups[column]
			if g == nil {
				continue
			}
			for _, value := range slices.Sorted(maps.Keys(g.Groups)) {
				slice := fmt.Sprintf("%s: %s=%s", e.Name, column, value)
				if g.excluded(value) {
					slice += fmt.Sprintf(" (fewer than %d rows, left out of the fairness measures)", g.MinGroupSize)
				}
				add(g.Groups[value], slice, nil)
			}
			add(g.Fairness, fmt.Sprintf("%s: %s", e.Name, column), g.ConfidenceIntervals)
			if ref := g.Reference; ref != nil {
				against := fmt.Sprintf(", against %s=%s", column, ref.Group)
				add(ref.Measures, fmt.Sprintf("%s: %s", e.Name, column)+against, nil)
				for _, value := range slices.Sorted(maps.Keys(ref.Groups)) {
					add(ref.Groups[value], fmt.Sprintf("%s: %s=%s", e.Name, column, value)+against, nil)
				}
			}
		}
	}
	return out
}

// performanceMetric returns one metric, with ci as its confidence
// interval when both bounds are defined.
func performanceMetric(name, value, slice string, ci *interval) cdx.MLPerformanceMetric {
	m := cdx.MLPerformanceMetric{Type: name, Value: value, Slice: slice}
	if ci != nil && ci.Lower != nil && ci.Upper != nil {
		m.ConfidenceInterval = &cdx.MLPerformanceMetricConfidenceInterval{
			LowerBound: strconv.FormatFloat(*ci.Lower, 'g', -1, 64),
			UpperBound: strconv.FormatFloat(*ci.Upper, 'g', -1, 64),
		}
	}
	return m
}

// number returns a JSON number as CycloneDX's string value; null,
// missing and non-numeric values give false.
func number(raw json.RawMessage) (string, bool) {
	f, ok := float(raw)
	if !ok {
		return "", false
	}
	return strconv.FormatFloat(f, 'g', -1, 64), true
}

func float(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}
