// Package modelcard renders the model card (model-card.md and
// model-card.json) and the one-page summary (summary.md) of a pack.
//
// Every value in them comes from the configuration, the metrics document,
// the lineage record or the policy verdict; nothing is typed by hand. The
// JSON card follows the structure of Google's Model Card Toolkit schema
// (model details, model parameters, quantitative analysis, considerations)
// with lowerCamelCase keys.
package modelcard

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/auditpack/auditpack/internal/policy"
)

// Input is everything a card and a summary are made from.
type Input struct {
	Model Model
	// Metrics is metrics.json as written to the pack.
	Metrics []byte
	// Lineage is lineage.json as written to the pack.
	Lineage []byte
	Verdict *policy.Verdict
	// Signing describes how the attestations were signed, such as
	// "signed with key 3f2a…" or "unsigned (--sign none)".
	Signing string
	// Tool names the tool and version that made the pack.
	Tool string
	// BaselineSource is the configured baseline source, such as
	// "latest-release" or "path:base.tar.gz". The summary names it when
	// the verdict records no baseline because the run did not resolve it.
	BaselineSource string
}

// Model is the descriptive part of the configuration.
type Model struct {
	Name        string  `json:"name"`
	Version     string  `json:"version,omitempty"`
	Description string  `json:"description,omitempty"`
	Owners      []Owner `json:"owners,omitempty"`
	License     string  `json:"license,omitempty"`
	IntendedUse string  `json:"intendedUse,omitempty"`
	Limitations string  `json:"limitations,omitempty"`
}

// Owner is a person or team accountable for the model.
type Owner struct {
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"`
}

// metricsDoc mirrors the parts of metrics.json the card shows.
type metricsDoc struct {
	Evaluations map[string]evaluation `json:"evaluations"`
}

type evaluation struct {
	Name          string                 `json:"name"`
	Task          string                 `json:"task"`
	Source        source                 `json:"source"`
	PositiveLabel string                 `json:"positiveLabel"`
	Metrics       map[string]*float64    `json:"metrics"`
	Undefined     map[string]string      `json:"undefined"`
	Groups        map[string]groupColumn `json:"groups"`
	// The fields below appear only for some tasks or settings.
	Unit                string                         `json:"unit"`
	PerClass            map[string]map[string]*float64 `json:"perClass"`
	ConfidenceIntervals map[string]interval            `json:"confidenceIntervals"`
	Bootstrap           *bootstrapInfo                 `json:"bootstrap"`
	Robustness          *robustness                    `json:"robustness"`
	Thresholds          []thresholdPoint               `json:"thresholds"`
	Tasks               map[string]harnessTask         `json:"tasks"`
	Providers           map[string]map[string]*float64 `json:"providers"`
	Probes              map[string]garakProbe          `json:"probes"`
}

type interval struct {
	Lower *float64 `json:"lower"`
	Upper *float64 `json:"upper"`
}

type bootstrapInfo struct {
	Method     string  `json:"method"`
	Resamples  int     `json:"resamples"`
	Seed       int64   `json:"seed"`
	Confidence float64 `json:"confidence"`
}

type robustness struct {
	Baseline    string              `json:"baseline"`
	Kind        string              `json:"kind"`
	Description string              `json:"description"`
	Drop        map[string]*float64 `json:"drop"`
	FlipRate    *float64            `json:"flipRate"`
	Undefined   map[string]string   `json:"undefined"`
}

type thresholdPoint struct {
	Threshold float64  `json:"threshold"`
	TPR       *float64 `json:"tpr"`
	FPR       *float64 `json:"fpr"`
	Precision *float64 `json:"precision"`
}

type harnessTask struct {
	Metrics map[string]*float64 `json:"metrics"`
	Stderr  map[string]*float64 `json:"stderr"`
}

type garakProbe struct {
	Probe                string   `json:"probe"`
	MaxAttackSuccessRate *float64 `json:"maxAttackSuccessRate"`
	Detectors            map[string]struct {
		Detector          string   `json:"detector"`
		Evaluated         int64    `json:"evaluated"`
		Hits              int64    `json:"hits"`
		AttackSuccessRate *float64 `json:"attackSuccessRate"`
	} `json:"detectors"`
}

type source struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
}

type groupColumn struct {
	Column         string                         `json:"column"`
	Groups         map[string]map[string]*float64 `json:"groups"`
	Undefined      map[string]string              `json:"undefined"`
	Fairness       map[string]json.RawMessage     `json:"fairness"`
	MinGroupSize   int64                          `json:"minGroupSize"`
	ExcludedGroups []string                       `json:"excludedGroups"`
	// Reference compares every included group with the configured
	// reference group; nil without one.
	Reference *groupReference `json:"reference"`
	// RawReference is Reference as metrics.json writes it, copied into
	// model-card.json.
	RawReference json.RawMessage `json:"-"`
	// ConfidenceIntervals holds the bootstrap intervals of the fairness
	// measures.
	ConfidenceIntervals map[string]interval `json:"confidenceIntervals"`
}

// groupReference is the reference-group comparison of a group column. Only
// binary classification has DisparateImpactRatio and
// EqualizedOddsDifference. Multiclass classification and regression put
// their summaries in the column's fairness measures as
// <m>ReferenceDifference.
type groupReference struct {
	Group                   string                         `json:"group"`
	Groups                  map[string]map[string]*float64 `json:"groups"`
	DisparateImpactRatio    *float64                       `json:"disparateImpactRatio"`
	EqualizedOddsDifference *float64                       `json:"equalizedOddsDifference"`
	Undefined               map[string]string              `json:"undefined"`
}

// UnmarshalJSON decodes a group column and keeps its reference object as
// written.
func (g *groupColumn) UnmarshalJSON(data []byte) error {
	type plain groupColumn
	if err := json.Unmarshal(data, (*plain)(g)); err != nil {
		return err
	}
	var raw struct {
		Reference json.RawMessage `json:"reference"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if g.Reference != nil {
		g.RawReference = raw.Reference
	}
	return nil
}

// lineageDoc mirrors the parts of lineage.json the card shows.
type lineageDoc struct {
	Artifacts  []lineageEntry `json:"artifacts"`
	Datasets   []lineageEntry `json:"datasets"`
	Repository *struct {
		Commit string `json:"commit"`
		Remote string `json:"remote"`
		Dirty  bool   `json:"dirty"`
		Files  []struct {
			Path  string `json:"path"`
			State string `json:"state"`
		} `json:"files"`
	} `json:"repository"`
}

type lineageEntry struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Path    string `json:"path"`
	Type    string `json:"type"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Source  string `json:"source"`
	License string `json:"license"`
}

// decoded holds Input's documents parsed once for all renderers.
type decoded struct {
	in      Input
	metrics metricsDoc
	lineage lineageDoc
	// names lists the evaluations in sorted order.
	names []string
}

func decode(in Input) (*decoded, error) {
	d := &decoded{in: in}
	if err := json.Unmarshal(in.Metrics, &d.metrics); err != nil {
		return nil, fmt.Errorf("decoding metrics document: %w", err)
	}
	if err := json.Unmarshal(in.Lineage, &d.lineage); err != nil {
		return nil, fmt.Errorf("decoding lineage document: %w", err)
	}
	d.names = slices.Sorted(maps.Keys(d.metrics.Evaluations))
	return d, nil
}

// headline lists the overall metrics of a binary classification that the
// card shows first, in order. Any other metric follows them.
var headline = []struct{ key, label string }{
	{"accuracy", "Accuracy"},
	{"balancedAccuracy", "Balanced accuracy"},
	{"precision", "Precision"},
	{"recall", "Recall (TPR)"},
	{"specificity", "Specificity"},
	{"fpr", "False positive rate"},
	{"fnr", "False negative rate"},
	{"f1", "F1"},
	{"rocAuc", "ROC AUC"},
	{"brierScore", "Brier score"},
	{"logLoss", "Log loss"},
	{"averagePrecision", "Average precision"},
	{"expectedCalibrationError", "Expected calibration error"},
	{"positives", "Rows with the positive label"},
	{"negatives", "Rows with the negative label"},
	{"predictedPositives", "Predicted positives"},
}

// taskHeadline lists, for each task other than binary classification, the
// overall metrics a summary shows first.
var taskHeadline = map[string][]struct{ key, label string }{
	"multiclass-classification": {{"accuracy", "Accuracy"}, {"balancedAccuracy", "Balanced accuracy"}, {"macroF1", "Macro F1"}, {"macroRocAuc", "Macro ROC AUC"}},
	"regression":                {{"mae", "MAE"}, {"rmse", "RMSE"}, {"r2", "R²"}, {"mape", "MAPE"}},
	"latency":                   {{"p50", "p50 (ms)"}, {"p95", "p95 (ms)"}, {"p99", "p99 (ms)"}, {"throughput", "Requests/s"}},
	"promptfoo":                 {{"passRate", "Pass rate"}, {"meanScore", "Mean score"}, {"tests", "Tests"}},
	"garak":                     {{"attackSuccessRate", "Attack success rate"}, {"evaluated", "Outputs evaluated"}},
}

// groupMetrics lists the per-group metrics shown in the card, in order.
var groupMetrics = []struct{ key, label string }{
	{"count", "Count"},
	{"baseRate", "Base rate"},
	{"selectionRate", "Selection rate"},
	{"tpr", "TPR"},
	{"fpr", "FPR"},
	{"fnr", "FNR"},
	{"precision", "Precision"},
	{"accuracy", "Accuracy"},
}

// fairnessMetrics lists the cross-group measures shown, in order.
var fairnessMetrics = []struct{ key, label string }{
	{"demographicParityDifference", "Demographic parity difference"},
	{"demographicParityRatio", "Demographic parity ratio"},
	{"equalizedOddsDifference", "Equalized odds difference"},
	{"equalizedOddsRatio", "Equalized odds ratio"},
	{"disparateImpactRatio", "Disparate impact ratio"},
	{"fourFifthsRule", "Four-fifths rule holds"},
}
