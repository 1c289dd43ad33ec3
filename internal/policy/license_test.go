package policy

import (
	"strings"
	"testing"
)

func TestEvaluateLicenses(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		license string
		want    Outcome
		message string
	}{
		{"allowed", "licenses: {allow: [CC-BY-4.0, MIT]}\n", "CC-BY-4.0", OutcomePass, "permitted"},
		{"not allowed", "licenses: {allow: [MIT]}\n", "CC-BY-NC-4.0", OutcomeFail, "not satisfied"},
		{"or picks allowed", "licenses: {allow: [MIT]}\n", "MIT OR GPL-3.0-only", OutcomePass, "permitted"},
		{"and needs both", "licenses: {allow: [MIT]}\n", "MIT AND GPL-3.0-only", OutcomeFail, "not satisfied"},
		{"denied", "licenses: {deny: [CC-BY-NC-4.0]}\n", "CC-BY-NC-4.0", OutcomeFail, "denied licence(s) CC-BY-NC-4.0"},
		{"deny avoids or", "licenses: {deny: [GPL-3.0-only]}\n", "MIT OR GPL-3.0-only", OutcomePass, "permitted"},
		{"deny in and", "licenses: {deny: [GPL-3.0-only]}\n", "MIT AND GPL-3.0-only", OutcomeFail, "GPL-3.0-only"},
		{"deny beats allow", "licenses: {allow: [MIT, Apache-2.0], deny: [GPL-3.0-only]}\n", "Apache-2.0", OutcomePass, "permitted"},
		{"missing licence", "licenses: {deny: [GPL-3.0-only]}\n", "", OutcomeFail, "no licence is declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.policy)
			v := &Verdict{Result: OutcomePass, Results: []Result{}}
			if err := EvaluateLicenses(v, []File{f}, []Licensed{{Path: "datasets.train.license", License: tt.license}}); err != nil {
				t.Fatal(err)
			}
			if len(v.Results) != 1 {
				t.Fatalf("got %d results, want 1", len(v.Results))
			}
			r := v.Results[0]
			if r.Outcome != tt.want || v.Result != tt.want {
				t.Errorf("outcome = %s, verdict = %s, want %s (%s)", r.Outcome, v.Result, tt.want, r.Message)
			}
			if !strings.Contains(r.Message, tt.message) {
				t.Errorf("message %q lacks %q", r.Message, tt.message)
			}
			if r.Metric != "datasets.train.license" || r.RuleID != RuleLicenses || r.Severity != SeverityBlock {
				t.Errorf("result = %+v", r)
			}
		})
	}
}

func TestParseLicensePolicyErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown id", "licenses: {allow: [Bogus-1.0]}\n", "licenses.allow[0]: \"Bogus-1.0\" is not an SPDX license identifier"},
		{"expression as id", "licenses: {deny: [MIT OR GPL-3.0-only]}\n", "licenses.deny[0]"},
		{"empty section", "licenses: {}\n", "set allow, deny or both"},
		{"both lists", "licenses: {allow: [MIT], deny: [MIT]}\n", "both allowed and denied"},
		{"unknown key", "licenses: {allowed: [MIT]}\n", "licenses.allowed: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEvaluateLicensesKeepsRuleResults(t *testing.T) {
	rules := mustParse(t, "rules:\n  - {id: acc, metric: evaluations.*.metrics.accuracy, min: 0.7, severity: block}\nlicenses: {allow: [MIT]}\n")
	v, err := Evaluate([]byte(metricsDoc), []File{rules})
	if err != nil {
		t.Fatal(err)
	}
	if err := EvaluateLicenses(v, []File{rules}, []Licensed{{Path: "model.license", License: "MIT"}}); err != nil {
		t.Fatal(err)
	}
	if v.Counts.Passed != 2 || v.Counts.Failed != 1 || v.Result != OutcomeFail {
		t.Errorf("counts = %+v, result %s; want the rule's pass and fail plus the licence pass", v.Counts, v.Result)
	}
}
