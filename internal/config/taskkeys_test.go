package config

import (
	"strings"
	"testing"
)

func TestParseRejectsKeysOfOtherTasks(t *testing.T) {
	const head = "model: {name: m, artifacts: [m.bin]}\nevaluations:\n  - name: e\n"
	tests := []struct {
		name string
		// evaluation is the body of the one evaluation, from line 4.
		evaluation string
		// want is the error, one problem a line; empty means none.
		want []string
	}{
		{
			name: "regression with classification keys",
			evaluation: `    task: regression
    predictions: p.csv
    columns: {label: y, prediction: yhat, scores: {a: s_a}}
    positive_label: "1"
    classes: [a, b]
    top_k: [2]
    thresholds: [0.5]
    calibration_bins: 5
`,
			want: []string{
				`a.yml:6: evaluations[0].columns.scores: task regression does not read this key, which applies only to the task multiclass-classification: remove it`,
				`a.yml:7: evaluations[0].positive_label: task regression does not read this key, which applies only to the task binary-classification: remove it`,
				`a.yml:8: evaluations[0].classes: task regression does not read this key, which applies only to the task multiclass-classification: remove it`,
				`a.yml:9: evaluations[0].top_k: task regression does not read this key, which applies only to the task multiclass-classification: remove it`,
				`a.yml:10: evaluations[0].thresholds: task regression does not read this key, which applies only to the task binary-classification: remove it`,
				`a.yml:11: evaluations[0].calibration_bins: task regression does not read this key, which applies only to the task binary-classification: remove it`,
			},
		},
		{
			name: "regression with a binary score column",
			evaluation: `    task: regression
    predictions: p.csv
    columns: {label: y, prediction: yhat, score: p}
`,
			want: []string{`a.yml:6: evaluations[0].columns.score: task regression does not read this key, which applies only to the task binary-classification: remove it`},
		},
		{
			name: "metrics-json with columns",
			evaluation: `    task: metrics-json
    results: m.json
    columns: {label: y}
    format: csv
    groups: [sex]
    bootstrap: {resamples: 10}
`,
			want: []string{
				`a.yml:6: evaluations[0].columns: task metrics-json does not read this key, which applies only to the tasks binary-classification, multiclass-classification, regression and latency: remove it`,
				`a.yml:7: evaluations[0].format: task metrics-json does not read this key, which applies only to the tasks binary-classification, multiclass-classification, regression and latency: remove it`,
				`a.yml:8: evaluations[0].groups: task metrics-json does not read this key, which applies only to the tasks binary-classification, multiclass-classification and regression: remove it`,
				`a.yml:9: evaluations[0].bootstrap: task metrics-json does not read this key, which applies only to the tasks binary-classification, multiclass-classification and regression: remove it`,
			},
		},
		{
			name: "latency with label columns and stress",
			evaluation: `    task: latency
    predictions: l.csv
    columns: {latency: ms, label: y, id: id}
    stress: {baseline: x, kind: noise}
`,
			want: []string{
				`a.yml:6: evaluations[0].columns.label: task latency does not read this key, which applies only to the tasks binary-classification, multiclass-classification and regression: remove it`,
				`a.yml:6: evaluations[0].columns.id: task latency does not read this key, which applies only to the tasks binary-classification, multiclass-classification and regression: remove it`,
				`a.yml:7: evaluations[0].stress: task latency does not read this key, which applies only to the tasks binary-classification, multiclass-classification and regression: remove it`,
				`a.yml:7: evaluations[0].stress.baseline: no evaluation is named "x"`,
			},
		},
		{
			name: "binary with latency keys",
			evaluation: `    task: binary-classification
    predictions: p.csv
    columns: {label: y, prediction: yhat, timestamp: t}
    positive_label: "1"
    latency_unit: s
`,
			want: []string{
				`a.yml:6: evaluations[0].columns.timestamp: task binary-classification does not read this key, which applies only to the task latency: remove it`,
				`a.yml:8: evaluations[0].latency_unit: task binary-classification does not read this key, which applies only to the task latency: remove it`,
			},
		},
		{
			name: "an empty key of another task is reported too",
			evaluation: `    task: regression
    predictions: p.csv
    columns: {label: y, prediction: yhat}
    top_k: []
`,
			want: []string{`a.yml:7: evaluations[0].top_k: task regression does not read this key, which applies only to the task multiclass-classification: remove it`},
		},
		{
			name: "multiclass with its own keys",
			evaluation: `    task: multiclass-classification
    predictions: p.csv
    columns: {label: y, prediction: yhat, id: id, scores: {a: s_a, b: s_b}}
    classes: [a, b]
    top_k: [2]
    groups: [sex]
    fairness: {min_group_size: 5}
    bootstrap: {resamples: 10}
`,
		},
		{
			name: "positive outcome outside binary classification",
			evaluation: `    task: multiclass-classification
    predictions: p.csv
    columns: {label: y, prediction: yhat}
    groups: [sex]
    fairness: {min_group_size: 5, positive_outcome: favorable}
`,
			want: []string{`a.yml:8: evaluations[0].fairness.positive_outcome: task multiclass-classification does not read this key, which applies only to the task binary-classification: remove it`},
		},
		{
			name: "fairness keys of a task without fairness reported once",
			evaluation: `    task: latency
    predictions: p.csv
    columns: {latency: ms}
    fairness: {positive_outcome: favorable}
`,
			want: []string{`a.yml:7: evaluations[0].fairness: task latency does not read this key`},
		},
		{
			name: "an unsupported task is not checked for keys",
			evaluation: `    task: clustering
    predictions: p.csv
    columns: {label: y, prediction: yhat}
    positive_label: "1"
    top_k: [2]
`,
			want: []string{`a.yml:4: evaluations[0].task: unsupported task "clustering"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.yml", []byte(head+tt.evaluation))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n%s\nwant a prefix:\n%s", i, got[i], tt.want[i])
				}
			}
		})
	}
}
