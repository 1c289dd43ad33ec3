package policy

import (
	"strings"
	"testing"
)

// stressedDoc has a clean and a stressed evaluation of two tasks; only the
// stressed ones have a robustness object.
const stressedDoc = `{
  "evaluations": {
    "clean": {"task": "binary-classification", "metrics": {"accuracy": 0.8}},
    "noisy": {"task": "binary-classification", "metrics": {"accuracy": 0.7},
              "robustness": {"baseline": "clean", "kind": "noise", "drop": {"accuracy": 0.1}}},
    "price": {"task": "regression", "metrics": {"r2": 0.5}},
    "price_shift": {"task": "regression", "metrics": {"r2": 0.2},
                    "robustness": {"baseline": "price", "kind": "shift", "drop": {"r2": 0.3}}}
  }
}`

func TestEvaluateStressed(t *testing.T) {
	tests := []struct {
		name string
		rule string
		// want lists "OUTCOME METRIC" for each result, in order.
		want []string
		// wantErr is part of the error; empty means none.
		wantErr string
		// wantMessage is the message of the first result; empty skips
		// the check.
		wantMessage string
	}{
		{
			name:    "without stressed a robustness wildcard is an error",
			rule:    "{id: d, metric: evaluations.*.robustness.drop.accuracy, max: 0.05, severity: block}",
			wantErr: `evaluations.clean has no key "robustness"`,
		},
		{
			name: "stressed limits the wildcard",
			rule: "{id: d, metric: evaluations.*.robustness.drop.*, stressed: true, max: 0.2, severity: block}",
			want: []string{"pass evaluations.noisy.robustness.drop.accuracy", "fail evaluations.price_shift.robustness.drop.r2"},
		},
		{
			name: "stressed with tasks",
			rule: "{id: d, metric: evaluations.*.robustness.drop.accuracy, stressed: true, tasks: [binary-classification], max: 0.05, severity: warn}",
			want: []string{"warn evaluations.noisy.robustness.drop.accuracy"},
		},
		{
			name:    "a typo is still an error in the stressed evaluations",
			rule:    "{id: d, metric: evaluations.*.robustness.drop.acuracy, stressed: true, tasks: [binary-classification], max: 0.05, severity: warn}",
			wantErr: `evaluations.noisy.robustness.drop has no key "acuracy"; it has accuracy`,
		},
		{
			name:    "a key of another task's stressed evaluation is an error",
			rule:    "{id: d, metric: evaluations.*.robustness.drop.accuracy, stressed: true, max: 0.05, severity: warn}",
			wantErr: `evaluations.price_shift.robustness.drop has no key "accuracy"; it has r2`,
		},
		{
			name:        "a named clean evaluation is not applicable",
			rule:        "{id: d, metric: evaluations.clean.robustness.drop.accuracy, stressed: true, max: 0.05, severity: block}",
			want:        []string{"not-applicable evaluations.clean.robustness.drop.accuracy"},
			wantMessage: "evaluation clean has no stress section, and the rule applies only to stressed evaluations, so the rule was not applied",
		},
		{
			name: "a named stressed evaluation",
			rule: "{id: d, metric: evaluations.noisy.metrics.accuracy, stressed: true, min: 0.6, severity: block}",
			want: []string{"pass evaluations.noisy.metrics.accuracy"},
		},
		{
			name:        "no stressed evaluation of the task is not applicable",
			rule:        "{id: d, metric: evaluations.*.robustness.drop.p99, stressed: true, tasks: [latency], max: 5, severity: block}",
			want:        []string{"not-applicable evaluations.*.robustness.drop.p99"},
			wantMessage: "no stressed evaluation has task latency, so the rule was not applied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Evaluate([]byte(stressedDoc), []File{mustParse(t, "rules:\n  - "+tt.rule+"\n")})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			var got []string
			for _, r := range v.Results {
				got = append(got, string(r.Outcome)+" "+r.Metric)
				if !r.Stressed {
					t.Errorf("result %s does not record stressed", r.Metric)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.wantMessage != "" && len(v.Results) > 0 && v.Results[0].Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", v.Results[0].Message, tt.wantMessage)
			}
		})
	}
}

func TestEvaluateNoStressedEvaluation(t *testing.T) {
	doc := `{"evaluations": {"clean": {"task": "binary-classification", "metrics": {"accuracy": 0.8}}}}`
	v, err := Evaluate([]byte(doc), []File{mustParse(t, "rules:\n  - {id: d, metric: evaluations.*.robustness.drop.accuracy, stressed: true, max: 0.05, severity: block}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Results) != 1 || v.Results[0].Outcome != OutcomeNotApplicable {
		t.Fatalf("results = %+v, want one not-applicable result", v.Results)
	}
	if want := "no evaluation is stressed, so the rule was not applied"; v.Results[0].Message != want {
		t.Errorf("message = %q, want %q", v.Results[0].Message, want)
	}
	if v.Result != OutcomePass {
		t.Errorf("verdict = %s, want pass", v.Result)
	}
}

func TestParseStressedErrors(t *testing.T) {
	tests := []struct {
		name, metric, stressed, want string
	}{
		{"explicit false", "evaluations.*.metrics.r2", "stressed: false",
			`p.yaml:4: rules[0].stressed: false is the default and applies the rule to every evaluation`},
		{"not a boolean", "evaluations.*.metrics.r2", "stressed: yes please",
			`p.yaml:4: rules[0].stressed: must be true or false, got "yes please"`},
		{"path outside the evaluations", "model.license", "stressed: true",
			`p.yaml:4: rules[0].stressed: stressed selects evaluations, so the metric path must start with evaluations.NAME or evaluations.*, got "model.license"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := "rules:\n  - id: r\n    metric: " + tt.metric + "\n    " + tt.stressed + "\n    min: 0\n    severity: block\n"
			_, err := Parse("p.yaml", []byte(policy))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error has more than one problem:\n%v", err)
			}
		})
	}
}
