package metrics

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzHarness feeds arbitrary bytes to every harness reader: each must
// return a report or an error, never panic.
func FuzzHarness(f *testing.F) {
	for _, name := range []string{
		"lm-eval-harness/arc_easy-v0-res.json",
		"promptfoo/sample-export.json",
		"garak/agg.report.jsonl",
		"metrics-json/metrics.json",
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"metrics": {"a": 1, "a": 2}}`))
	f.Add([]byte(`{"results": {"t": {"acc,none": NaN}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "results.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, task := range []string{TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON} {
			report, err := ReadHarness(t.Context(), Spec{Name: "h", Task: task, Path: path, DisplayPath: "results.json"})
			if err == nil && report == nil {
				t.Fatalf("%s: ReadHarness returned neither a report nor an error", task)
			}
		}
	})
}
