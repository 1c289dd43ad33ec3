package modelcard

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auditpack/auditpack/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func cardInput(t *testing.T) Input {
	t.Helper()
	metrics, err := os.ReadFile(filepath.Join("testdata", "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	lineage := []byte(`{"artifacts": [{"path": "models/model.onnx", "sha256": "11"}],
		"datasets": [{"name": "eval", "role": "evaluation", "sha256": "22", "license": "CC-BY-4.0"}],
		"repository": {"commit": "abc123"}}`)
	return Input{
		Model:   Model{Name: "risk", Version: "1.0.0", Owners: []Owner{{Name: "ML team"}}, IntendedUse: "Ranking loan files for review."},
		Metrics: metrics,
		Lineage: lineage,
	}
}

func TestJSONGolden(t *testing.T) {
	got, err := JSON(cardInput(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "model-card.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/modelcard -run TestJSONGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("model-card.json differs from %s (-want +got):\n%s", golden, diff)
	}

	again, err := JSON(cardInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("two renderings of the same input differ")
	}
}

// findMetric returns the performance metric of evaluation, type and slice.
func findMetric(card Card, evaluation, metric, slice string) *PerformanceMetric {
	for i, m := range card.QuantitativeAnalysis.PerformanceMetrics {
		if m.Evaluation == evaluation && m.Type == metric && m.Slice == slice {
			return &card.QuantitativeAnalysis.PerformanceMetrics[i]
		}
	}
	return nil
}

func TestJSONCoversEveryResult(t *testing.T) {
	raw, err := JSON(cardInput(t))
	if err != nil {
		t.Fatal(err)
	}
	var card Card
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, evaluation, metric, slice string
		want                            *float64
		check                           func(*testing.T, *PerformanceMetric)
	}{
		{name: "interval on an overall metric", evaluation: "holdout", metric: "rocAuc", check: func(t *testing.T, m *PerformanceMetric) {
			ci := m.ConfidenceInterval
			if ci == nil || ci.LowerBound == nil || *ci.LowerBound != 0.6 || *ci.UpperBound != 0.9 || ci.Resamples != 100 || ci.Seed != 7 || ci.ConfidenceLevel != 0.95 {
				t.Errorf("interval = %+v", ci)
			}
		}},
		{name: "undefined interval keeps its reason", evaluation: "holdout", metric: "precision", check: func(t *testing.T, m *PerformanceMetric) {
			if ci := m.ConfidenceInterval; ci == nil || ci.LowerBound != nil || ci.Reason != "the metric is undefined on the full data" {
				t.Errorf("interval = %+v", ci)
			}
		}},
		{name: "group value", evaluation: "holdout", metric: "tpr", slice: "sex=m", check: func(t *testing.T, m *PerformanceMetric) {
			if m.Value != nil || m.Reason != "the group has no positive label" {
				t.Errorf("metric = %+v", m)
			}
		}},
		{name: "per class", evaluation: "species", metric: "precision", slice: "class=virginica", check: func(t *testing.T, m *PerformanceMetric) {
			if m.Value != nil || m.Reason != "the class is never predicted" {
				t.Errorf("metric = %+v", m)
			}
		}},
		{name: "harness task with standard error", evaluation: "harness", metric: "acc,none", slice: "task=arc_easy", check: func(t *testing.T, m *PerformanceMetric) {
			if m.Value == nil || *m.Value != 0.7 || m.StandardError == nil || *m.StandardError != 0.01 {
				t.Errorf("metric = %+v", m)
			}
		}},
		{name: "promptfoo provider", evaluation: "prompts", metric: "tests", slice: "provider=openai:gpt-5", check: func(t *testing.T, m *PerformanceMetric) {
			if m.Value == nil || *m.Value != 2 {
				t.Errorf("metric = %+v", m)
			}
		}},
		{name: "garak detector", evaluation: "scan", metric: "hits", slice: "probe=dan.Dan_11_0,detector=dan.DAN", check: func(t *testing.T, m *PerformanceMetric) {
			if m.Value == nil || *m.Value != 2 {
				t.Errorf("metric = %+v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := findMetric(card, tt.evaluation, tt.metric, tt.slice)
			if m == nil {
				t.Fatalf("no %s %s slice %q in the card", tt.evaluation, tt.metric, tt.slice)
			}
			tt.check(t, m)
		})
	}

	if len(card.QuantitativeAnalysis.Robustness) != 1 {
		t.Fatalf("robustness = %+v, want the noisy evaluation", card.QuantitativeAnalysis.Robustness)
	}
	r := card.QuantitativeAnalysis.Robustness[0]
	if r.Evaluation != "noisy" || r.Baseline != "holdout" || r.FlipRate == nil || *r.FlipRate != 0.5 || len(r.Drops) != 2 ||
		r.Drops[1].Type != "rocAuc" || r.Drops[1].Reason != "the metric is undefined on the stressed side" {
		t.Errorf("robustness = %+v", r)
	}

	fairness := card.Considerations.Fairness
	if len(fairness) != 1 || fairness[0].ConfidenceIntervals["demographicParityDifference"].UpperBound == nil ||
		fairness[0].ConfidenceIntervals["demographicParityRatio"].Reason != "the metric is undefined in 3 of 100 resamples" {
		t.Errorf("fairness assessments = %+v", fairness)
	}
}

func TestMarkdownOwners(t *testing.T) {
	tests := []struct {
		name  string
		owner Owner
		want  string
	}{
		{"address kept as written", Owner{Name: "ML team", Contact: "t@example.com"}, "- Owner: ML team (t@example.com)\n"},
		{"handle kept as written", Owner{Name: "@org/ml-team", Contact: "first.last@example.com"}, "- Owner: @org/ml-team (first.last@example.com)\n"},
		{"markdown escaped", Owner{Name: "a_b *c* [d](e) <f>", Contact: "x_y@example.com"}, "- Owner: a\\_b \\*c\\* \\[d\\](e) &lt;f&gt; (x\\_y@example.com)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cardInput(t)
			in.Model.Owners = []Owner{tt.owner}
			card, err := Markdown(in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(card), tt.want) {
				t.Errorf("card lacks %q:\n%s", tt.want, card)
			}
			if strings.Contains(string(card), "\u200b") {
				t.Error("card contains a zero-width space")
			}
		})
	}
}

// summaryInput is cardInput with a verdict that has every kind of result
// and a baseline, made from a working tree with uncommitted changes.
func summaryInput(t *testing.T) Input {
	t.Helper()
	in := cardInput(t)
	in.Lineage = []byte(`{"artifacts": [], "datasets": [],
		"repository": {"commit": "abc123", "dirty": true, "files": [
			{"path": ".auditpack.yml", "state": "modified"}, {"path": "models/model.onnx", "state": "clean"},
			{"path": "eval/predictions.csv", "state": "modified"}, {"path": "/data/x", "state": "outside"}]}}`)
	in.Signing = "unsigned"
	in.Tool = "auditpack test"
	ptr := func(v float64) *float64 { return &v }
	in.Verdict = &policy.Verdict{
		Result: policy.OutcomeFail,
		Counts: policy.Counts{Passed: 2, Warned: 1, Failed: 2, NoBaseline: 1, NotApplicable: 1},
		Baseline: &policy.BaselineInfo{Source: "release v1.2.0, asset auditpack-out.tar.gz", Status: policy.BaselineVerified,
			Signer: "key 3683a94d", SHA256: "cefe871a"},
		Results: []policy.Result{
			{RuleID: "acc-floor", Metric: "evaluations.holdout.metrics.accuracy", Min: ptr(0.6), Value: ptr(0.81), Outcome: policy.OutcomePass},
			{RuleID: "acc-regress", Metric: "evaluations.holdout.metrics.accuracy", MaxDrop: ptr(0.01), Value: ptr(0.616008),
				Baseline: ptr(0.660726), Delta: ptr(-0.044718), Outcome: policy.OutcomeFail},
			{RuleID: "fnr-rise", Metric: "evaluations.noisy.metrics.fnr", Max: ptr(0.4), MaxIncrease: ptr(0.03), Value: ptr(0.3), Outcome: policy.OutcomeNoBaseline},
			{RuleID: "four-fifths-rule", Metric: "evaluations.holdout.groups.race_x.fairness.disparateImpactRatio", Min: ptr(0.8), Value: ptr(0.39),
				Severity: policy.SeverityWarn, Outcome: policy.OutcomeWarn},
			{RuleID: "r2-floor", Metric: "evaluations.*.metrics.r2", Tasks: []string{"regression"}, Min: ptr(0), Outcome: policy.OutcomeNotApplicable},
			{RuleID: "licenses", Metric: "model.license", License: "MIT", Outcome: policy.OutcomePass,
				Message: "licence MIT: permitted by the allow-list (MIT)"},
			{RuleID: "licenses", Metric: "datasets.train.license", License: "CC-BY-NC-4.0", Outcome: policy.OutcomeFail,
				Message: "licence CC-BY-NC-4.0: needs denied licence(s) CC-BY-NC-4.0"},
		},
	}
	return in
}

func TestSummaryGolden(t *testing.T) {
	got, err := Summary(summaryInput(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/modelcard -run TestSummaryGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("summary.md differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestSummaryWithoutBaselineOrChanges(t *testing.T) {
	in := summaryInput(t)
	in.Lineage = []byte(`{"repository": {"commit": "abc123", "dirty": false}}`)
	in.Verdict.Baseline = &policy.BaselineInfo{Source: "the latest release", Status: policy.BaselineMissing, Reason: "the repository has no release"}
	in.Verdict.Counts.NoBaseline = 0
	got, err := Summary(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, unwanted := range []string{"Baseline:", "Uncommitted changes"} {
		if strings.Contains(string(got), unwanted) {
			t.Errorf("summary mentions %q:\n%s", unwanted, got)
		}
	}
}
