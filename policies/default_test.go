package policies_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/metrics"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

// examples are evaluations of every task the default preset has rules
// for, computed from the repository's example data, so that the preset's
// metric paths are checked against the metrics that auditpack writes.
var examples = map[string]metrics.Spec{
	"binary": {
		Task:          metrics.TaskBinaryClassification,
		Path:          "../testdata/demo/eval/predictions.csv",
		Columns:       metrics.Columns{Label: "label", Prediction: "prediction", Score: "score"},
		PositiveLabel: "1", Groups: []string{"sex", "age_band"},
	},
	"binary-nogroups": {
		Task:          metrics.TaskBinaryClassification,
		Path:          "../testdata/demo/eval/predictions.csv",
		Columns:       metrics.Columns{Label: "label", Prediction: "prediction", Score: "score"},
		PositiveLabel: "1",
	},
	"multiclass": {
		Task: metrics.TaskMulticlassClassification,
		Path: "../testdata/examples/multiclass/predictions.csv",
		Columns: metrics.Columns{Label: "label", Prediction: "prediction",
			Scores: map[string]string{"setosa": "p_setosa", "versicolor": "p_versicolor", "virginica": "p_virginica"}},
		Groups: []string{"region", "sex"},
	},
	"regression": {
		Task: metrics.TaskRegression,
		Path: "../testdata/examples/regression/predictions.csv.gz", Delimiter: ';',
		Columns: metrics.Columns{Label: "price", Prediction: "predicted_price"},
		Groups:  []string{"region", "sex"},
	},
	"multiclass-nogroups": {
		Task: metrics.TaskMulticlassClassification,
		Path: "../testdata/examples/multiclass/predictions.csv",
		Columns: metrics.Columns{Label: "label", Prediction: "prediction",
			Scores: map[string]string{"setosa": "p_setosa", "versicolor": "p_versicolor", "virginica": "p_virginica"}},
	},
	"regression-nogroups": {
		Task: metrics.TaskRegression,
		Path: "../testdata/examples/regression/predictions.csv.gz", Delimiter: ';',
		Columns: metrics.Columns{Label: "price", Prediction: "predicted_price"},
	},
	"latency": {
		Task:    metrics.TaskLatency,
		Path:    "../testdata/examples/latency/requests.csv",
		Columns: metrics.Columns{Latency: "latency_ms", Timestamp: "started_at"},
	},
}

// metricsDoc returns metrics.json for the named examples.
func metricsDoc(t *testing.T, names ...string) []byte {
	t.Helper()
	evaluations := map[string]metrics.Report{}
	for _, name := range names {
		spec := examples[name]
		spec.Name = name
		spec.Path = filepath.FromSlash(spec.Path)
		report, err := metrics.Run(context.Background(), spec)
		if err != nil {
			t.Fatalf("evaluating %s: %v", name, err)
		}
		evaluations[name] = report
	}
	doc, err := json.Marshal(map[string]any{"evaluations": evaluations})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestDefaultPresetEveryTask(t *testing.T) {
	files, err := policy.Load([]string{"builtin:default"}, nil, policies.FS)
	if err != nil {
		t.Fatalf("loading the preset: %v", err)
	}
	tests := []struct {
		name        string
		evaluations []string
		// applied maps each rule to the evaluations it gave results for;
		// a rule left out must be not applicable.
		applied map[string][]string
	}{
		{
			name:        "binary only",
			evaluations: []string{"binary"},
			applied: map[string][]string{
				"balanced-accuracy-floor": {"binary"}, "roc-auc-floor": {"binary"},
				"four-fifths-rule": {"binary"}, "equalized-odds-gap": {"binary"},
			},
		},
		{
			name:        "regression only",
			evaluations: []string{"regression"},
			applied:     map[string][]string{"r2-floor": {"regression"}},
		},
		{
			name:        "multiclass only",
			evaluations: []string{"multiclass"},
			applied: map[string][]string{
				"macro-roc-auc-floor": {"multiclass"}, "balanced-accuracy-gap": {"multiclass"},
			},
		},
		{
			name:        "every task mixed",
			evaluations: []string{"binary", "multiclass", "regression", "latency"},
			applied: map[string][]string{
				"balanced-accuracy-floor": {"binary"}, "roc-auc-floor": {"binary"},
				"four-fifths-rule": {"binary"}, "equalized-odds-gap": {"binary"},
				"macro-roc-auc-floor": {"multiclass"}, "balanced-accuracy-gap": {"multiclass"},
				"r2-floor": {"regression"},
			},
		},
		{
			name:        "binary without groups gives no fairness results",
			evaluations: []string{"binary-nogroups", "regression"},
			applied: map[string][]string{
				"balanced-accuracy-floor": {"binary-nogroups"}, "roc-auc-floor": {"binary-nogroups"},
				"r2-floor": {"regression"},
			},
		},
		{
			name:        "multiclass and regression without groups give no fairness results",
			evaluations: []string{"multiclass-nogroups", "regression-nogroups"},
			applied: map[string][]string{
				"macro-roc-auc-floor": {"multiclass-nogroups"}, "r2-floor": {"regression-nogroups"},
			},
		},
		{
			name:        "latency only: nothing applies",
			evaluations: []string{"latency"},
			applied:     map[string][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := policy.Evaluate(metricsDoc(t, tt.evaluations...), files)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			got := map[string][]string{}
			notApplicable := map[string]bool{}
			for _, r := range v.Results {
				if r.Outcome == policy.OutcomeNotApplicable {
					notApplicable[r.RuleID] = true
					continue
				}
				evaluation := strings.Split(r.Metric, ".")[1]
				if !slices.Contains(got[r.RuleID], evaluation) {
					got[r.RuleID] = append(got[r.RuleID], evaluation)
				}
			}
			for _, rule := range files[0].Rules {
				want, applies := tt.applied[rule.ID]
				if applies && !slices.Equal(got[rule.ID], want) {
					t.Errorf("rule %s applied to %v, want %v", rule.ID, got[rule.ID], want)
				}
				// Every rule leaves a trace: results where it applies, one
				// not-applicable result where it does not.
				if notApplicable[rule.ID] == applies {
					t.Errorf("rule %s: not applicable = %v, but applied to evaluations = %v", rule.ID, notApplicable[rule.ID], applies)
				}
			}
			if v.Counts.NotApplicable != len(notApplicable) {
				t.Errorf("counts.notApplicable = %d, want %d", v.Counts.NotApplicable, len(notApplicable))
			}
		})
	}
}

// TestDefaultPresetRulesHaveTasks keeps every rule of the preset limited
// to the tasks whose metrics it reads, so that the preset never fails on a
// task it was not written for.
func TestDefaultPresetRulesHaveTasks(t *testing.T) {
	files, err := policy.Load([]string{"builtin:default"}, nil, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range files[0].Rules {
		if len(rule.Tasks) == 0 {
			t.Errorf("rule %s has no tasks", rule.ID)
		}
	}
}
