package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// pathsConfig names a file or directory under every key that Load checks.
const pathsConfig = `model:
  name: m
  artifacts: [models/m.bin, models/shards]
datasets:
  - name: train
    role: training
    path: data/train.csv
    preprocessing: [src/prep.py]
    dvc: [data/train.csv.dvc]
evaluations:
  - name: holdout
    task: regression
    predictions: eval/p.csv
    columns: {label: y, prediction: yhat}
  - name: harness
    task: metrics-json
    results: eval/m.json
policies: [builtin:default]
`

// writeTree creates every path of pathsConfig under dir but those in skip,
// and returns the configuration file.
func writeTree(t *testing.T, dir string, yaml string, skip ...string) string {
	t.Helper()
	files := []string{"models/m.bin", "models/shards/0.bin", "data/train.csv", "data/train.csv.dvc", "src/prep.py", "eval/p.csv", "eval/m.json"}
	for _, f := range files {
		if slicesContainsPrefix(skip, f) {
			continue
		}
		full := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "cfg.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func slicesContainsPrefix(list []string, s string) bool {
	for _, p := range list {
		if s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}

func TestLoadChecksPaths(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// skip lists the paths left out of the tree.
		skip []string
		// want is the error, one problem a line, with DIR for the
		// configuration's directory; empty means none.
		want []string
	}{
		{name: "every path present", yaml: pathsConfig},
		{
			name: "every missing path reported at once",
			yaml: pathsConfig,
			skip: []string{"models/shards", "data/train.csv", "data/train.csv.dvc", "src/prep.py", "eval/p.csv", "eval/m.json"},
			want: []string{
				`cfg.yml:3: model.artifacts[1]: "models/shards" not found at DIR/models/shards: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:7: datasets[0].path: "data/train.csv" not found at DIR/data/train.csv: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:8: datasets[0].preprocessing[0]: "src/prep.py" not found at DIR/src/prep.py: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:9: datasets[0].dvc[0]: "data/train.csv.dvc" not found at DIR/data/train.csv.dvc: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:13: evaluations[0].predictions: "eval/p.csv" not found at DIR/eval/p.csv: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:17: evaluations[1].results: "eval/m.json" not found at DIR/eval/m.json: paths are relative to the directory of the configuration file, so correct the path or create the file`,
			},
		},
		{
			name: "missing paths beside other problems, in line order",
			yaml: strings.Replace(strings.Replace(pathsConfig, "role: training", "role: testing", 1), "name: m\n", "name: m\n  colour: red\n", 1),
			skip: []string{"models/m.bin", "eval/p.csv"},
			want: []string{
				`cfg.yml:3: model.colour: unknown key in model; valid keys are name, version, description, owners, intended_use, limitations, license, artifacts, subjects`,
				`cfg.yml:4: model.artifacts[0]: "models/m.bin" not found at DIR/models/m.bin: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`cfg.yml:7: datasets[0].role: must be "training" or "evaluation", got "testing"`,
				`cfg.yml:14: evaluations[0].predictions: "eval/p.csv" not found at DIR/eval/p.csv: paths are relative to the directory of the configuration file, so correct the path or create the file`,
			},
		},
		{
			name: "a directory where a file is needed",
			yaml: strings.Replace(pathsConfig, "predictions: eval/p.csv", "predictions: eval", 1),
			want: []string{`cfg.yml:13: evaluations[0].predictions: "eval" is a directory: give the path of a file`},
		},
		{
			name: "an absolute path",
			yaml: strings.Replace(pathsConfig, "path: data/train.csv", "path: /nonexistent/train.csv", 1),
			want: []string{`cfg.yml:7: datasets[0].path: "/nonexistent/train.csv" not found at /nonexistent/train.csv: paths are relative to the directory of the configuration file, so correct the path or create the file`},
		},
		{
			name: "a path of the wrong type is not checked again",
			yaml: strings.Replace(pathsConfig, "predictions: eval/p.csv", "predictions: [eval/x.csv]", 1),
			want: []string{`cfg.yml:13: evaluations[0].predictions: must be a single value, got a list`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeTree(t, dir, tt.yaml, tt.skip...)
			_, err := Load(path)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			got := strings.ReplaceAll(strings.ReplaceAll(err.Error(), path, "cfg.yml"), dir, "DIR")
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			var se *strictyaml.Error
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *strictyaml.Error", err)
			}
		})
	}
}

func TestParseDoesNotCheckPaths(t *testing.T) {
	if _, err := Parse("cfg.yml", []byte(pathsConfig)); err != nil {
		t.Errorf("Parse: %v", err)
	}
}

func TestLoadWithPolicyErrors(t *testing.T) {
	policyErr := errors.Join(
		&strictyaml.Error{File: "builtin:nope", Msg: "no built-in policy named \"nope\""},
		&strictyaml.Error{File: "p.yaml", Line: 3, Key: "rules[0].min", Msg: "must be a number"},
	)
	tests := []struct {
		name string
		yaml string
		skip []string
		// called is whether loadPolicies must run.
		called bool
		want   []string
	}{
		{
			name:   "policy errors after the configuration's",
			yaml:   pathsConfig,
			skip:   []string{"eval/p.csv"},
			called: true,
			want: []string{
				`cfg.yml:13: evaluations[0].predictions: "eval/p.csv" not found at DIR/eval/p.csv: paths are relative to the directory of the configuration file, so correct the path or create the file`,
				`builtin:nope: no built-in policy named "nope"`,
				`p.yaml:3: rules[0].min: must be a number`,
			},
		},
		{
			name:   "policy errors alone",
			yaml:   pathsConfig,
			called: true,
			want:   []string{`builtin:nope: no built-in policy named "nope"`, `p.yaml:3: rules[0].min: must be a number`},
		},
		{
			name: "invalid policies key skips the policies",
			yaml: strings.Replace(pathsConfig, "policies: [builtin:default]", "policies: [\"\"]", 1),
			want: []string{`cfg.yml:18: policies[0]: empty path`},
		},
		{
			name: "policies of the wrong type skip the policies",
			yaml: strings.Replace(pathsConfig, "policies: [builtin:default]", "policies: builtin:default", 1),
			want: []string{`cfg.yml:18: policies: must be a list, got "builtin:default"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeTree(t, dir, tt.yaml, tt.skip...)
			called := false
			_, err := LoadWith(path, func(cfg *Config) error {
				called = true
				if cfg.Dir != dir {
					return fmt.Errorf("cfg.Dir = %q, want %q", cfg.Dir, dir)
				}
				return policyErr
			})
			if called != tt.called {
				t.Errorf("loadPolicies called = %v, want %v", called, tt.called)
			}
			if err == nil {
				t.Fatal("LoadWith succeeded, want an error")
			}
			got := strings.ReplaceAll(strings.ReplaceAll(err.Error(), path, "cfg.yml"), dir, "DIR")
			if want := strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
