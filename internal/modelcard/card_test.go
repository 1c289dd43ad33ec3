package modelcard

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
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

func TestMarkdownGolden(t *testing.T) {
	got, err := Markdown(summaryInput(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "model-card.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/modelcard -run TestMarkdownGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("model-card.md differs from %s (-want +got):\n%s", golden, diff)
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

	fairness := map[string]FairnessAssessment{}
	for _, f := range card.Considerations.Fairness {
		fairness[f.Evaluation+"/"+f.Attribute] = f
	}
	if len(fairness) != 3 {
		t.Errorf("fairness assessments = %+v, want holdout/race, holdout/sex and species/years", card.Considerations.Fairness)
	}
	sex := fairness["holdout/sex"]
	if sex.ConfidenceIntervals["demographicParityDifference"].UpperBound == nil ||
		sex.ConfidenceIntervals["demographicParityRatio"].Reason != "the metric is undefined in 3 of 100 resamples" {
		t.Errorf("holdout/sex assessment = %+v", sex)
	}
	if sex.Reference != nil {
		t.Errorf("holdout/sex has a reference without a reference group: %s", sex.Reference)
	}

	race := fairness["holdout/race"]
	if race.MinGroupSize != 30 || len(race.ExcludedGroups) != 1 || race.ExcludedGroups[0] != "Native American" {
		t.Errorf("holdout/race minimum size and excluded groups = %d, %q", race.MinGroupSize, race.ExcludedGroups)
	}
	var reference struct {
		Group                string   `json:"group"`
		DisparateImpactRatio *float64 `json:"disparateImpactRatio"`
	}
	if err := json.Unmarshal(race.Reference, &reference); err != nil {
		t.Fatalf("holdout/race reference %s: %v", race.Reference, err)
	}
	if reference.Group != "Caucasian" || reference.DisparateImpactRatio == nil || *reference.DisparateImpactRatio != 0.5 {
		t.Errorf("holdout/race reference = %s", race.Reference)
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
			{RuleID: "r2-floor", Metric: "evaluations.*.metrics.r2", Tasks: []string{"regression"}, Min: ptr(0), Outcome: policy.OutcomeNotApplicable,
				Message: "no evaluation has task regression, so the rule was not applied"},
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

func TestWorkingTreeWarning(t *testing.T) {
	const prefix = "**Uncommitted changes:** the working tree at commit `abc123` had "
	tests := []struct {
		name    string
		lineage string
		want    string
	}{
		{
			name: "untracked policy in a clean tree",
			lineage: `{"repository": {"commit": "abc123", "dirty": false, "files": [
				{"path": ".auditpack.yml", "state": "clean"}, {"path": "policies/team.yaml", "state": "untracked"}]}}`,
			want: prefix + "untracked files that the configuration names (policies/team.yaml), which no commit holds, so this pack does not describe a committed state.",
		},
		{
			name: "modified configuration and untracked policy",
			lineage: `{"repository": {"commit": "abc123", "dirty": true, "files": [
				{"path": ".auditpack.yml", "state": "modified"}, {"path": "policies/team.yaml", "state": "untracked"},
				{"path": "policies/team.yaml", "state": "untracked"}]}}`,
			want: prefix + "uncommitted changes (.auditpack.yml) and untracked files that the configuration names (policies/team.yaml), which no commit holds, so this pack does not describe a committed state.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := summaryInput(t)
			in.Lineage = []byte(tt.lineage)
			summary, err := Summary(in)
			if err != nil {
				t.Fatal(err)
			}
			card, err := Markdown(in)
			if err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string][]byte{"summary": summary, "card": card} {
				if !strings.Contains(string(text), tt.want) {
					t.Errorf("%s lacks %q:\n%s", name, tt.want, text)
				}
			}
			if !strings.Contains(string(card), "at commit `abc123`, with uncommitted changes\n") {
				t.Errorf("card's source line does not mention the uncommitted changes:\n%s", card)
			}
		})
	}
}

func TestMarkdownSourceLine(t *testing.T) {
	tests := []struct {
		name, lineage, want string
	}{
		{"remote", `{"repository": {"commit": "abc123", "remote": "https://example.com/o/r.git"}}`, "- Source: https://example.com/o/r.git at commit `abc123`\n"},
		{"no remote", `{"repository": {"commit": "abc123"}}`, "- Source: a local repository (no remote named origin) at commit `abc123`\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cardInput(t)
			in.Lineage = []byte(tt.lineage)
			card, err := Markdown(in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(card), tt.want) {
				t.Errorf("card lacks %q:\n%s", tt.want, card)
			}
		})
	}
}

func TestSummaryVerdictLine(t *testing.T) {
	tests := []struct {
		name   string
		result policy.Outcome
		counts policy.Counts
		want   string
	}{
		{"one check", policy.OutcomePass, policy.Counts{Passed: 1}, "**Verdict: PASS.** 1 rule check passed, 0 warned, 0 failed.\n"},
		{"several checks", policy.OutcomeFail, policy.Counts{Passed: 2, Failed: 1}, "**Verdict: FAIL.** 2 rule checks passed, 0 warned, 1 failed.\n"},
		{"nothing applied", policy.OutcomePass, policy.Counts{NotApplicable: 7},
			"**Verdict: PASS (no rule checked).** No rule was checked: 7 rules not applicable.\n"},
		{"only baseline rules", policy.OutcomePass, policy.Counts{NoBaseline: 1, NotApplicable: 1},
			"**Verdict: PASS (no rule checked).** No rule was checked: 1 not checked for lack of a baseline, 1 rule not applicable.\n"},
		{"no rules", policy.OutcomePass, policy.Counts{}, "**Verdict: PASS (no rule checked).** No rule was checked.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cardInput(t)
			in.Verdict = &policy.Verdict{Result: tt.result, Counts: tt.counts}
			got, err := Summary(in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("summary lacks %q:\n%s", tt.want, got)
			}
		})
	}
}

func TestSummaryBaselineNotResolved(t *testing.T) {
	tests := []struct {
		name, source, want string
		noBaseline         int
	}{
		{"release source", "latest-release", "Baseline: not resolved, because the baseline source is latest-release and `auditpack run` resolves only `path:` sources. The GitHub Action resolves release and tag sources.\n", 1},
		{"tag source", "tag:v1", "the baseline source is tag:v1 and", 1},
		{"source none", "none", "Baseline: none, because the configuration sets the baseline source none.\n", 1},
		{"no rule needs it", "latest-release", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cardInput(t)
			in.BaselineSource = tt.source
			in.Verdict = &policy.Verdict{Result: policy.OutcomePass, Counts: policy.Counts{Passed: 1, NoBaseline: tt.noBaseline}}
			got, err := Summary(in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if strings.Contains(string(got), "Baseline:") {
					t.Errorf("summary names a baseline that no rule needed:\n%s", got)
				}
				return
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("summary lacks %q:\n%s", tt.want, got)
			}
		})
	}
}

func TestSortedGroups(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"numbers", []string{"10.0", "1.0", "2.0", "-3"}, []string{"-3", "1.0", "2.0", "10.0"}},
		{"text", []string{"b", "10", "a", "2"}, []string{"10", "2", "a", "b"}},
		{"empty group name is text", []string{"2", "", "10"}, []string{"", "10", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := map[string]int{}
			for _, name := range tt.in {
				groups[name] = 0
			}
			if got := sortedGroups(groups); !slices.Equal(got, tt.want) {
				t.Errorf("sortedGroups(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
