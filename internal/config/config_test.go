package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

const valid = `model:
  name: m
  version: "1"
  owners:
    - name: Team
      contact: team@example.com
  artifacts: [model.bin]
datasets:
  - name: eval
    role: evaluation
    path: data.csv
    license: CC-BY-4.0
evaluations:
  - name: holdout
    task: binary-classification
    predictions: preds.csv
    columns: {label: y, prediction: yhat, score: p}
    positive_label: 1
    groups: [race, sex]
policies: [builtin:default]
`

func TestParseValid(t *testing.T) {
	cfg, err := Parse("a.yml", []byte(valid))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Config{
		Model:    Model{Name: "m", Version: "1", Owners: []Owner{{Name: "Team", Contact: "team@example.com"}}, Artifacts: []string{"model.bin"}},
		Datasets: []Dataset{{Name: "eval", Role: RoleEvaluation, Path: "data.csv", License: "CC-BY-4.0"}},
		Evaluations: []Evaluation{{
			Name: "holdout", Task: TaskBinaryClassification, Predictions: "preds.csv",
			Columns:       Columns{Label: "y", Prediction: "yhat", Score: "p"},
			PositiveLabel: "1", Groups: []string{"race", "sex"},
		}},
		Policies: []string{"builtin:default"},
		Path:     "a.yml",
	}
	if diff := cmp.Diff(want, *cfg, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want lists messages that must each appear, one per problem.
		want []string
	}{
		{
			name: "empty file",
			yaml: "",
			want: []string{"a.yml: the file is empty"},
		},
		{
			name: "not a mapping",
			yaml: "- a\n- b\n",
			want: []string{"a.yml:1: the top level must be a mapping"},
		},
		{
			name: "syntax error",
			yaml: "model:\n  name: [unclosed\n",
			want: []string{"a.yml:", "invalid YAML"},
		},
		{
			name: "unknown top-level key",
			yaml: strings.Replace(valid, "policies:", "policy:", 1),
			want: []string{"a.yml:20: policy: unknown key in the top level; valid keys are model, datasets, evaluations, policies"},
		},
		{
			name: "unknown nested key",
			yaml: strings.Replace(valid, "positive_label: 1", "positive_lable: 1", 1),
			want: []string{"a.yml:18: evaluations[0].positive_lable: unknown key in evaluations[0]"},
		},
		{
			name: "wrong type list",
			yaml: strings.Replace(valid, "groups: [race, sex]", "groups: race", 1),
			want: []string{"a.yml:19: evaluations[0].groups: must be a list, got \"race\""},
		},
		{
			name: "wrong type mapping",
			yaml: strings.Replace(valid, "columns: {label: y, prediction: yhat, score: p}", "columns: [y]", 1),
			want: []string{"a.yml:17: evaluations[0].columns: must be a mapping, got a list"},
		},
		{
			name: "missing required fields",
			yaml: "model:\n  version: x\nevaluations:\n  - name: e\n    task: clustering\n",
			want: []string{
				"a.yml:1: model.name: required",
				"a.yml:1: model.artifacts: required",
				"a.yml:5: evaluations[0].task: unsupported task \"clustering\"",
				"a.yml:4: evaluations[0].predictions: required",
				"evaluations[0].columns.label: required",
				"evaluations[0].positive_label: required",
			},
		},
		{
			name: "duplicate evaluation",
			yaml: strings.Replace(valid, "policies:", "  - name: holdout\n    task: binary-classification\n    predictions: p.csv\n    columns: {label: a, prediction: b}\n    positive_label: x\npolicies:", 1),
			want: []string{"evaluations[1].name: duplicate evaluation name \"holdout\""},
		},
		{
			name: "no evaluations",
			yaml: "model: {name: m, artifacts: [a]}\n",
			want: []string{"a.yml:1: evaluations: required: list at least one evaluation"},
		},
		{
			name: "empty policy list",
			yaml: strings.Replace(valid, "policies: [builtin:default]", "policies: []", 1),
			want: []string{"a.yml:20: policies: empty list"},
		},
		{
			name: "bad role",
			yaml: strings.Replace(valid, "role: evaluation", "role: testing", 1),
			want: []string{"a.yml:10: datasets[0].role: must be \"training\" or \"evaluation\", got \"testing\""},
		},
		{
			name: "missing role",
			yaml: strings.Replace(valid, "    role: evaluation\n", "", 1),
			want: []string{"a.yml:9: datasets[0].role: required: \"training\" or \"evaluation\""},
		},
		{
			name: "negative max groups",
			yaml: strings.Replace(valid, "groups: [race, sex]", "groups: [race, sex]\n    fairness: {max_groups: -1}", 1),
			want: []string{"a.yml:20: evaluations[0].fairness.max_groups: must not be negative, got -1"},
		},
		{
			name: "invalid positive outcome",
			yaml: strings.Replace(valid, "groups: [race, sex]", "groups: [race, sex]\n    fairness:\n      positive_outcome: good", 1),
			want: []string{`a.yml:21: evaluations[0].fairness.positive_outcome: must be "favorable" (a positive prediction benefits the person) or "unfavorable" (it harms them), got "good"`},
		},
		{
			name: "dotted group column",
			yaml: strings.Replace(valid, "groups: [race, sex]", "groups: [race.x]", 1),
			want: []string{"evaluations[0].groups[0]: column name \"race.x\" contains '.'"},
		},
		{
			name: "invalid evaluation name",
			yaml: strings.Replace(valid, "name: holdout", "name: hold.out", 1),
			want: []string{"evaluations[0].name: \"hold.out\" is not a valid name"},
		},
		{
			name: "two documents",
			yaml: valid + "---\nmodel: {}\n",
			want: []string{"more than one YAML document"},
		},
		{
			name: "duplicate key",
			yaml: strings.Replace(valid, "  version: \"1\"\n", "  version: \"1\"\n  version: \"2\"\n", 1),
			want: []string{"model.version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.yml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var se *strictyaml.Error
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *strictyaml.Error: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseMaxGroups(t *testing.T) {
	cfg, err := Parse("a.yml", []byte(strings.Replace(valid, "groups: [race, sex]", "groups: [race, sex]\n    fairness: {max_groups: 50}", 1)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := cfg.Evaluations[0].Fairness.MaxGroups; got != 50 {
		t.Errorf("fairness.max_groups = %d, want 50", got)
	}
}

func TestParsePositiveOutcome(t *testing.T) {
	for _, value := range []string{PositiveOutcomeFavorable, PositiveOutcomeUnfavorable} {
		cfg, err := Parse("a.yml", []byte(strings.Replace(valid, "groups: [race, sex]", "groups: [race, sex]\n    fairness: {positive_outcome: "+value+"}", 1)))
		if err != nil {
			t.Fatalf("Parse with positive_outcome %s: %v", value, err)
		}
		if got := cfg.Evaluations[0].Fairness.PositiveOutcome; got != value {
			t.Errorf("fairness.positive_outcome = %q, want %q", got, value)
		}
	}
}

func TestParseDefaultPolicy(t *testing.T) {
	cfg, err := Parse("a.yml", []byte(strings.Replace(valid, "policies: [builtin:default]\n", "", 1)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cfg.Policies) != 1 || cfg.Policies[0] != DefaultPolicy {
		t.Errorf("policies = %v, want [%s]", cfg.Policies, DefaultPolicy)
	}
}

func TestLoadResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", ".auditpack.yml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".auditpack.yml", "model.bin", "data.csv", "preds.csv"} {
		content := "x"
		if name == ".auditpack.yml" {
			content = valid
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := cfg.Resolve("preds.csv"), filepath.Join(dir, "sub", "preds.csv"); got != want {
		t.Errorf("Resolve(preds.csv) = %q, want %q", got, want)
	}
	if got, want := cfg.Resolve("/abs/x"), "/abs/x"; got != want {
		t.Errorf("Resolve(/abs/x) = %q, want %q", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"))
	if err == nil || !strings.Contains(err.Error(), "configuration file not found") {
		t.Errorf("Load of a missing file: got %v, want a not-found error", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("model: {name: x}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("model:\n  owners: [{name: 1}, 2]\n"))
	f.Add([]byte("evaluations: {a: b}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data)
		if err == nil && cfg == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

// TestParseReportsEveryProblemAtOnce: values of the wrong type, unknown
// keys and invalid values come in one error, in line order.
func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want is the error, one problem a line.
		want []string
	}{
		{
			name: "type errors beside invalid values",
			yaml: `model:
  name: m
  nmae: x
  version: [1, 2]
  artifacts: [models/m.bin]
evaluations:
  - name: e
    task: binary-classification
    predictions: good.csv
    columns: {label: label, prediction: prediction, score: score}
    positive_label: "1"
    bootstrap: {resamples: many}
    fairness: {min_group_size: -3}
    groups: [race]
  - name: e
    task: regression
    predictions: [r.csv]
    columns: {label: y, prediction: yhat}
`,
			want: []string{
				"a.yml:3: model.nmae: unknown key in model; valid keys are name, version, description, owners, intended_use, limitations, license, artifacts, subjects",
				`a.yml:4: model.version: must be a single value, got a list`,
				`a.yml:12: evaluations[0].bootstrap.resamples: must be an integer, got "many"`,
				`a.yml:13: evaluations[0].fairness.min_group_size: must not be negative, got -3`,
				`a.yml:15: evaluations[1].name: duplicate evaluation name "e"`,
				`a.yml:17: evaluations[1].predictions: must be a single value, got a list`,
			},
		},
		{
			name: "checks that compare with a key of the wrong type are skipped",
			yaml: `model: {name: m, artifacts: [m.bin]}
evaluations:
  - name: e
    task: multiclass-classification
    predictions: p.csv
    columns: {label: y, prediction: yhat, scores: a}
    classes: {a: 1}
    top_k: [2, 0]
    groups: race
    intersections: [[race, sex]]
    fairness: {reference_groups: {race: x}}
`,
			want: []string{
				`a.yml:6: evaluations[0].columns.scores: must be a mapping, got "a"`,
				`a.yml:7: evaluations[0].classes: must be a list, got a mapping`,
				`a.yml:8: evaluations[0].top_k[1]: must be at least 1, got 0`,
				`a.yml:9: evaluations[0].groups: must be a list, got "race"`,
			},
		},
		{
			name: "a task of the wrong type skips the checks of a task",
			yaml: `model: {name: m, artifacts: [m.bin]}
evaluations:
  - name: e
    task: [regression]
    predictions: p.csv
    fairness: {min_group_size: -1}
`,
			want: []string{`a.yml:4: evaluations[0].task: must be a single value, got a list`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.yml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorfLocatesKey(t *testing.T) {
	cfg, err := Parse("a.yml", []byte(strings.Replace(valid, "groups: [race, sex]", "groups: [race, sex]\n    fairness:\n      reference_groups: {race: Martian}", 1)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := cfg.Errorf("evaluations[0].fairness.reference_groups.race", "no group %q", "Martian").Error()
	if want := `a.yml:21: evaluations[0].fairness.reference_groups.race: no group "Martian"`; got != want {
		t.Errorf("Errorf = %q, want %q", got, want)
	}
}
