package metrics

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestPromptfooRealExport reads an export written by promptfoo 0.118.10
// itself (testdata/examples/README.md names its source) and checks the
// counts against the file's own results.stats and per-prompt metrics.
func TestPromptfooRealExport(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "examples", "promptfoo", "sample-export.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Results struct {
			Version int `json:"version"`
			Stats   struct {
				Successes, Failures, Errors float64
			} `json:"stats"`
			Prompts []struct {
				Provider string `json:"provider"`
				Metrics  struct {
					TestPassCount, TestFailCount, TestErrorCount float64
				} `json:"metrics"`
			} `json:"prompts"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.Results.Version != 3 {
		t.Fatalf("results.version = %d, want the version 3 layout", file.Results.Version)
	}

	h, err := ReadHarness(t.Context(), Spec{Name: "riddles", Task: TaskPromptfoo, Path: path, DisplayPath: "sample-export.json"})
	if err != nil {
		t.Fatal(err)
	}
	stats := file.Results.Stats
	want := map[string]float64{
		"tests":  stats.Successes + stats.Failures + stats.Errors,
		"passed": stats.Successes, "failed": stats.Failures, "errors": stats.Errors,
		"passRate": stats.Successes / (stats.Successes + stats.Failures + stats.Errors),
		// The four results' scores: 0.75, 0.5, 2/3 and 2/3.
		"meanScore": (0.75 + 0.5 + 2.0/3 + 2.0/3) / 4,
	}
	for key, w := range want {
		if got := metricValue(t, h.Metrics, key); math.Abs(got-w) > 1e-15 {
			t.Errorf("%s = %v, want %v", key, got, w)
		}
	}
	if len(h.Providers) != len(file.Results.Prompts) {
		t.Errorf("providers = %v, want one per prompt row of the file (%d)", h.Providers, len(file.Results.Prompts))
	}
	for _, prompt := range file.Results.Prompts {
		provider := h.Providers[prompt.Provider]
		if provider == nil {
			t.Errorf("provider %q missing from %v", prompt.Provider, h.Providers)
			continue
		}
		m := prompt.Metrics
		for key, w := range map[string]float64{"passed": m.TestPassCount, "failed": m.TestFailCount, "errors": m.TestErrorCount} {
			if got := metricValue(t, provider, key); got != w {
				t.Errorf("%s %s = %v, want %v", prompt.Provider, key, got, w)
			}
		}
	}
	if got, want := metricValue(t, h.Providers["openai:gpt-5"], "meanScore"), (0.5+2.0/3)/2; math.Abs(got-want) > 1e-15 {
		t.Errorf("openai:gpt-5 meanScore = %v, want %v", got, want)
	}
}
