package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGroupsKeyWithoutGroupColumns checks that every task with group
// columns writes "groups" as an object even when none is configured, so
// that a policy path evaluations.*.groups.* matches nothing instead of
// failing on a missing key.
func TestGroupsKeyWithoutGroupColumns(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		spec       Spec
		content    string
		wantGroups bool
	}{
		{"binary", Spec{Task: TaskBinaryClassification, Columns: Columns{Label: "y", Prediction: "p"}, PositiveLabel: "1"}, "y,p\n1,1\n0,1\n", true},
		{"multiclass", Spec{Task: TaskMulticlassClassification, Columns: Columns{Label: "y", Prediction: "p"}}, "y,p\na,a\nb,a\n", true},
		{"regression", Spec{Task: TaskRegression, Columns: Columns{Label: "y", Prediction: "p"}}, "y,p\n1,1.5\n2,2\n", true},
		{"latency", Spec{Task: TaskLatency, Columns: Columns{Latency: "ms"}}, "ms\n12\n15\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Name = tt.name
			spec.Path = writeFileIn(t, dir, tt.name+".csv", tt.content)
			report, err := Run(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(report)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			groups, ok := doc["groups"]
			if ok != tt.wantGroups {
				t.Fatalf("has a groups key = %v, want %v: %s", ok, tt.wantGroups, data)
			}
			if ok && string(groups) != "{}" {
				t.Errorf("groups = %s, want {}", groups)
			}
		})
	}
}

func TestHarnessRejectsRepeatedKeys(t *testing.T) {
	tests := []struct{ name, task, content, want string }{
		{"metrics-json", TaskMetricsJSON, `{"metrics": {"acc": 0.5, "acc": 0.7}}`,
			`r.json:1:26: the key "acc" appears more than once in metrics: keep one of them`},
		{"metrics-json flat", TaskMetricsJSON, "{\"acc\": 0.5,\n \"acc\": 0.7}",
			`r.json:2:2: the key "acc" appears more than once in the top-level object`},
		{"lm-eval", TaskLMEvalHarness, `{"results": {"arc": {"acc": 0.2, "acc": 0.9}}}`,
			`r.json:1:34: the key "acc" appears more than once in results.arc`},
		{"lm-eval task", TaskLMEvalHarness, `{"results": {"arc": {"acc": 0.2}, "arc": {"acc": 0.9}}}`,
			`the key "arc" appears more than once in results:`},
		{"promptfoo", TaskPromptfoo, `{"results": {"results": [{"success": true, "success": false}]}}`,
			`the key "success" appears more than once in results.results[0]`},
		{"garak", TaskGarak, "{\"entry_type\": \"init\"}\n{\"entry_type\": \"eval\", \"probe\": \"a.B\", \"detector\": \"c.D\", \"passed\": 1, \"passed\": 2, \"total\": 2}\n",
			`r.json:2:72: the key "passed" appears more than once in the top-level object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHarness(t.Context(), Spec{Name: "h", Task: tt.task, Path: writeFile(t, "r.json", []byte(tt.content)), DisplayPath: "r.json"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestHarnessInvalidJSONPosition(t *testing.T) {
	tests := []struct{ name, task, content, want string }{
		{"NaN", TaskMetricsJSON, `{"metrics": {"acc": NaN}}`,
			`r.json:1:21: NaN is not valid JSON (Python's json.dump writes it unless allow_nan=False): write null for an undefined value, or a number`},
		{"Infinity on line 2", TaskLMEvalHarness, "{\"results\": {\"arc\":\n  {\"acc\": Infinity}}}", `r.json:2:11: Infinity is not valid JSON`},
		{"negative infinity", TaskMetricsJSON, `{"acc": -Infinity}`, `r.json:1:9: -Infinity is not valid JSON`},
		{"hexadecimal", TaskMetricsJSON, `{"metrics": {"acc": 0x10}}`, `r.json:1:22: invalid JSON: invalid character 'x'`},
		{"truncated", TaskPromptfoo, `{"results": [`, `r.json:1:14: unexpected end of JSON input: the file is truncated`},
		{"trailing data", TaskMetricsJSON, `{"acc": 1} {"acc": 2}`, `r.json:1:12: unexpected data after the JSON value`},
		{"garak NaN", TaskGarak, "{\"entry_type\": \"eval\", \"probe\": \"a.B\", \"detector\": \"c.D\", \"passed\": NaN, \"total\": 2}\n", `r.json:1:69: NaN is not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHarness(t.Context(), Spec{Name: "h", Task: tt.task, Path: writeFile(t, "r.json", []byte(tt.content)), DisplayPath: "r.json"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMetricsJSONNames(t *testing.T) {
	tests := []struct {
		name, content string
		want          map[string]float64
		wantError     string
	}{
		{"dots become underscores", `{"metrics": {"rouge.l": 0.4, "acc": 0.9}}`, map[string]float64{"rouge_l": 0.4, "acc": 0.9}, ""},
		{"flat object", `{"a.b.c": 1}`, map[string]float64{"a_b_c": 1}, ""},
		{"collision after renaming", `{"a.b": 1, "a_b": 2}`, nil, `metrics "a.b" and "a_b" have the same name "a_b" once dots become underscores`},
		{"empty name", `{"": 1}`, nil, "a metric name is empty"},
		{"reserved name", `{"undefined": 1}`, nil, `metric name "undefined" is reserved`},
		{"wildcard", `{"a*": 1}`, nil, `metric name "a*" contains '*'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ReadHarness(t.Context(), Spec{Name: "h", Task: TaskMetricsJSON, Path: writeFile(t, "m.json", []byte(tt.content))})
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Errorf("error = %v, want it to contain %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Metrics) != len(tt.want) {
				t.Errorf("metrics = %v, want %v", h.Metrics, tt.want)
			}
			for key, want := range tt.want {
				if got := metricValue(t, h.Metrics, key); got != want {
					t.Errorf("%s = %v, want %v", key, got, want)
				}
			}
		})
	}
}

func TestHarnessRejectsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct{ name, path, want string }{
		{"named pipe", pipe, "results file eval/r.json is a named pipe, not a regular file"},
		{"device", os.DevNull, "results file eval/r.json is a device, not a regular file"},
		{"directory", dir, "results file eval/r.json is a directory: give a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := ReadHarness(t.Context(), Spec{Name: "h", Task: TaskMetricsJSON, Path: tt.path, DisplayPath: "eval/r.json"})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error = %v, want it to contain %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadHarness blocked")
			}
		})
	}
}

func TestRegressionNonFiniteValueMessage(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"inf", "inf", `"inf" is not a finite number: write a finite decimal number such as 12.5 or 1.25e1, or remove the row`},
		{"NaN", "NaN", `"NaN" is not a finite number: write a finite decimal number`},
		{"overflow", "1e400", `"1e400" is not a finite number: write a finite decimal number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "r.csv", []byte("y,p\n1.5,"+tt.value+"\n2,3\n"))
			_, err := EvaluateRegression(t.Context(), Spec{Name: "r", Task: TaskRegression, Path: path, DisplayPath: "eval/r.csv", Columns: Columns{Label: "y", Prediction: "p"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
