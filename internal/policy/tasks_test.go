package policy

import (
	"strings"
	"testing"
)

// mixedDoc has an evaluation of each of three tasks, each with the metrics
// of its task only.
const mixedDoc = `{
  "evaluations": {
    "loans": {"task": "binary-classification", "metrics": {"balancedAccuracy": 0.7, "rocAuc": 0.8},
              "groups": {"sex": {"fairness": {"disparateImpactRatio": 0.9}}}},
    "species": {"task": "multiclass-classification", "metrics": {"balancedAccuracy": 0.5, "macroRocAuc": 0.9},
                "groups": {"sex": {"fairness": {"balancedAccuracyDifference": 0.1}}}},
    "price": {"task": "regression", "metrics": {"r2": 0.4, "mae": 3.2},
              "groups": {"sex": {"fairness": {"maeDifference": 0.5}}}}
  }
}`

func TestEvaluateTasks(t *testing.T) {
	tests := []struct {
		name string
		rule string
		// want lists "OUTCOME METRIC" for each result, in order.
		want []string
		// wantErr is part of the error; empty means none.
		wantErr string
	}{
		{
			name:    "without tasks a wildcard over mixed tasks is an error",
			rule:    "{id: ba, metric: evaluations.*.metrics.balancedAccuracy, min: 0.6, severity: block}",
			wantErr: `evaluations.price.metrics has no key "balancedAccuracy"`,
		},
		{
			name: "tasks limit the wildcard",
			rule: "{id: ba, metric: evaluations.*.metrics.balancedAccuracy, tasks: [binary-classification], min: 0.6, severity: block}",
			want: []string{"pass evaluations.loans.metrics.balancedAccuracy"},
		},
		{
			name: "several tasks",
			rule: "{id: ba, metric: evaluations.*.metrics.balancedAccuracy, tasks: [binary-classification, multiclass-classification], min: 0.6, severity: warn}",
			want: []string{"pass evaluations.loans.metrics.balancedAccuracy", "warn evaluations.species.metrics.balancedAccuracy"},
		},
		{
			name: "tasks below a group wildcard",
			rule: "{id: dir, metric: evaluations.*.groups.*.fairness.disparateImpactRatio, tasks: [binary-classification], min: 0.8, severity: warn}",
			want: []string{"pass evaluations.loans.groups.sex.fairness.disparateImpactRatio"},
		},
		{
			name:    "a typo is still an error in the evaluations of the tasks",
			rule:    "{id: r2, metric: evaluations.*.metrics.rsquared, tasks: [regression], min: 0, severity: block}",
			wantErr: `evaluations.price.metrics has no key "rsquared"; it has mae, r2`,
		},
		{
			name:    "an unknown evaluation name is still an error",
			rule:    "{id: r2, metric: evaluations.prise.metrics.r2, tasks: [regression], min: 0, severity: block}",
			wantErr: `evaluations has no key "prise"`,
		},
		{
			name: "a named evaluation of the task",
			rule: "{id: r2, metric: evaluations.price.metrics.r2, tasks: [regression], min: 0.5, severity: block}",
			want: []string{"fail evaluations.price.metrics.r2"},
		},
		{
			name: "a named evaluation of another task is not applicable",
			rule: "{id: r2, metric: evaluations.loans.metrics.r2, tasks: [regression], min: 0, severity: block}",
			want: []string{"not-applicable evaluations.loans.metrics.r2"},
		},
		{
			name: "no evaluation of the task is not applicable",
			rule: "{id: p99, metric: evaluations.*.metrics.p99, tasks: [latency, garak], max: 200, severity: block}",
			want: []string{"not-applicable evaluations.*.metrics.p99"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Evaluate([]byte(mixedDoc), []File{mustParse(t, "rules:\n  - "+tt.rule+"\n")})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "p.yaml:2: ") {
					t.Errorf("error %q does not start with the rule's file and line", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			var got []string
			for _, r := range v.Results {
				got = append(got, string(r.Outcome)+" "+r.Metric)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestEvaluateTasksWithoutTaskField(t *testing.T) {
	doc := `{"evaluations": {"old": {"metrics": {"r2": 0.4}}}}`
	for _, metric := range []string{"evaluations.*.metrics.r2", "evaluations.old.metrics.r2"} {
		_, err := Evaluate([]byte(doc), []File{mustParse(t, "rules:\n  - {id: r2, metric: "+metric+", tasks: [regression], min: 0, severity: block}\n")})
		if want := "evaluations.old has no task in the metrics document"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want it to contain %q", metric, err, want)
		} else if !strings.HasPrefix(err.Error(), "p.yaml:2: metric: rule r2: ") {
			t.Errorf("%s: error %q does not start with the rule's file and line", metric, err)
		}
	}
}

func TestNotApplicableNeverBlocks(t *testing.T) {
	v, err := Evaluate([]byte(mixedDoc), []File{mustParse(t, `rules:
  - {id: lat, metric: evaluations.*.metrics.p99, tasks: [latency], max: 200, severity: block}
  - {id: r2, metric: evaluations.*.metrics.r2, tasks: [regression], min: 0, severity: block}
`)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Result != OutcomePass {
		t.Errorf("verdict = %s, want pass", v.Result)
	}
	want := Counts{Passed: 1, NotApplicable: 1}
	if v.Counts != want {
		t.Errorf("counts = %+v, want %+v", v.Counts, want)
	}
	r := v.Results[0]
	if r.Outcome != OutcomeNotApplicable || r.Blocking() || r.Value != nil {
		t.Errorf("result = %+v, want a non-blocking not-applicable result without a value", r)
	}
	if want := "no evaluation has task latency, so the rule was not applied"; r.Message != want {
		t.Errorf("message = %q, want %q", r.Message, want)
	}

	// Licence results recount the verdict; the not-applicable count stays.
	if err := EvaluateLicenses(v, nil, nil); err != nil {
		t.Fatal(err)
	}
	if v.Counts != want {
		t.Errorf("counts after EvaluateLicenses = %+v, want %+v", v.Counts, want)
	}
}

func TestParseTasksErrors(t *testing.T) {
	tests := []struct {
		name, rule, want string
	}{
		{"unknown task", "tasks: [binary_classification]",
			`p.yaml:4: rules[0].tasks[0]: unknown task "binary_classification": tasks are binary-classification, multiclass-classification,`},
		{"duplicate task", "tasks: [regression, regression]",
			`p.yaml:4: rules[0].tasks[1]: duplicate task "regression"`},
		{"empty list", "tasks: []",
			`p.yaml:4: rules[0].tasks: empty list: name at least one task`},
		{"not a list", "tasks: regression",
			`p.yaml:4: rules[0].tasks: must be a list, got "regression"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := "rules:\n  - id: r\n    metric: evaluations.*.metrics.r2\n    " + tt.rule + "\n    min: 0\n    severity: block\n"
			_, err := Parse("p.yaml", []byte(policy))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	_, err := Parse("p.yaml", []byte("rules:\n  - id: r\n    metric: model.license\n    tasks: [regression]\n    min: 0\n    severity: block\n"))
	if want := "p.yaml:4: rules[0].tasks: tasks selects evaluations, so the metric path must start with evaluations.NAME or evaluations.*"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %q", err, want)
	}
}

func TestEvaluateLicensesKeepsNoBaselineCount(t *testing.T) {
	v, err := Evaluate([]byte(mixedDoc), []File{mustParse(t, "rules:\n  - {id: r2, metric: evaluations.price.metrics.r2, max_drop: 0.1, severity: block}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if err := EvaluateLicenses(v, nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := (Counts{NoBaseline: 1}); v.Counts != want {
		t.Errorf("counts = %+v, want %+v", v.Counts, want)
	}
}

// TestParseReportsEveryProblemAtOnce: values of the wrong type, unknown
// keys, invalid values and metric path syntax come in one error, in line
// order, without repeats for the keys that could not be read.
func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Parse("p.yaml", []byte(`rules:
  - id: Acc Floor
    metric: evaluations.e.metrics..acuracy
    min: high
    severity: blocker
    tasks: [binary]
  - id: x
    metric: evaluations.e.metrics.accuracy
    max_drop: -1
    severity: warn
    colour: red
  - id: y
    metric: [evaluations.e.groups]
    min: 0.1
    severity: warn
licenses:
  allow: [NotALicence]
`))
	want := []string{
		`p.yaml:2: rules[0].id: "Acc Floor" is not a valid id`,
		`p.yaml:3: rules[0].metric: metric path "evaluations.e.metrics..acuracy" has an empty segment`,
		`p.yaml:4: rules[0].min: must be a number, got "high"`,
		`p.yaml:5: rules[0].severity: must be "block" or "warn", got "blocker"`,
		`p.yaml:6: rules[0].tasks[0]: unknown task "binary"`,
		`p.yaml:9: rules[1].max_drop: must be zero or positive, got -1`,
		`p.yaml:11: rules[1].colour: unknown key in rules[1]`,
		`p.yaml:13: rules[2].metric: must be a single value, got a list`,
		`p.yaml:17: licenses.allow[0]: "NotALicence" is not an SPDX license identifier`,
	}
	if err == nil {
		t.Fatal("Parse accepted the file")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
}
