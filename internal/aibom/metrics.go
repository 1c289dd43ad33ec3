package aibom

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// evaluation is the part of one metrics.json evaluation the BOM uses.
type evaluation struct {
	Name    string                     `json:"name"`
	Metrics map[string]json.RawMessage `json:"metrics"`
	// ConfidenceIntervals contains the bootstrap intervals of Metrics, when
	// a bootstrap was configured.
	ConfidenceIntervals map[string]*interval    `json:"confidenceIntervals"`
	Groups              map[string]*groupColumn `json:"groups"`
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
	// ConfidenceIntervals contains the bootstrap intervals of Fairness.
	ConfidenceIntervals map[string]*interval `json:"confidenceIntervals"`
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

// modelMetrics are the headline metrics copied into the model card, in
// this order; counts are left out.
var modelMetrics = []string{"accuracy", "balancedAccuracy", "precision", "recall", "specificity", "f1", "rocAuc", "brierScore", "fpr", "fnr"}

// groupMetrics are the per-group metrics copied into the model card.
var groupMetrics = []string{"selectionRate", "tpr", "fpr", "fnr", "precision", "accuracy"}

// performanceMetrics lists every defined metric of every evaluation, the
// whole evaluation set as slice "EVAL" and each group as
// "EVAL: COLUMN=VALUE". A group left out of the fairness measures by
// min_group_size says so in its slice. Undefined (null) metrics are left
// out. A metric with a bootstrap interval carries it as its
// confidenceInterval.
func performanceMetrics(evals []evaluation) []cdx.MLPerformanceMetric {
	var out []cdx.MLPerformanceMetric
	for _, e := range evals {
		for _, name := range modelMetrics {
			if v, ok := number(e.Metrics[name]); ok {
				out = append(out, performanceMetric(name, v, e.Name, e.ConfidenceIntervals[name]))
			}
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
				for _, name := range groupMetrics {
					if v, ok := number(g.Groups[value][name]); ok {
						out = append(out, performanceMetric(name, v, slice, nil))
					}
				}
			}
			for _, name := range slices.Sorted(maps.Keys(g.Fairness)) {
				if v, ok := number(g.Fairness[name]); ok {
					out = append(out, performanceMetric(name, v, fmt.Sprintf("%s: %s", e.Name, column), g.ConfidenceIntervals[name]))
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

// number returns a JSON number as CycloneDX's string value; null and
// missing values give false.
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
