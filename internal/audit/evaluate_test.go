package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/auditpack/auditpack/internal/policy"
)

// runExample runs the main job on testdata/examples/NAME, unsigned, and
// returns the outcome and metrics.json.
func runExample(t *testing.T, name string) (*Outcome, map[string]any, []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pack")
	outcome, err := Run(t.Context(), RunOptions{
		ConfigPath:      filepath.Join("..", "..", "testdata", "examples", name, ".auditpack.yml"),
		OutDir:          out,
		Sign:            SignNone,
		SourceDateEpoch: "1700000000",
		ToolVersion:     "test",
		Builtins:        fstest.MapFS{},
		Now:             func() time.Time { return time.Unix(1700000000, 0) },
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("Run(%s): %v", name, err)
	}
	raw, err := os.ReadFile(filepath.Join(out, FileMetrics))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return outcome, doc, raw
}

// leaf follows a dotted path of literal keys through decoded JSON.
func leaf(doc map[string]any, path ...string) any {
	var node any = doc
	for _, key := range path {
		object, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = object[key]
	}
	return node
}

func TestRunExamples(t *testing.T) {
	tests := []struct {
		example string
		// numbers lists paths that must hold a number in metrics.json.
		numbers [][]string
	}{
		{"multiclass", [][]string{
			{"evaluations", "holdout", "metrics", "macroF1"},
			{"evaluations", "holdout", "metrics", "top2Accuracy"},
			{"evaluations", "holdout", "perClass", "setosa", "rocAuc"},
			{"evaluations", "holdout", "confidenceIntervals", "accuracy", "lower"},
			{"evaluations", "holdout", "groups", "region+sex", "groups", "north+f", "accuracy"},
			{"evaluations", "holdout", "groups", "region", "fairness", "accuracyReferenceDifference"},
		}},
		{"regression", [][]string{
			{"evaluations", "holdout", "metrics", "medianAbsoluteError"},
			{"evaluations", "holdout", "groups", "region", "fairness", "maeDifference"},
			{"evaluations", "holdout", "confidenceIntervals", "mae", "upper"},
		}},
		{"latency", [][]string{
			{"evaluations", "load-test", "metrics", "p99"},
			{"evaluations", "load-test", "metrics", "throughput"},
		}},
		{"robustness", [][]string{
			{"evaluations", "gaussian-noise", "robustness", "drop", "accuracy"},
			{"evaluations", "gaussian-noise", "robustness", "flipRate"},
			{"evaluations", "clean", "confidenceIntervals", "accuracy", "lower"},
			{"evaluations", "clean", "groups", "region", "confidenceIntervals", "demographicParityDifference", "upper"},
			{"evaluations", "clean", "metrics", "expectedCalibrationError"},
		}},
		{"lm-eval-harness", [][]string{
			{"evaluations", "lm-eval", "tasks", "wikitext", "metrics", "word_perplexity,none"},
			{"evaluations", "arc-easy-v0", "tasks", "arc_easy", "stderr", "acc"},
		}},
		{"garak", [][]string{
			{"evaluations", "garak-scan", "metrics", "attackSuccessRate"},
			{"evaluations", "garak-scan", "probes", "test_Test", "maxAttackSuccessRate"},
		}},
		{"promptfoo", [][]string{
			{"evaluations", "riddles", "metrics", "passRate"},
			{"evaluations", "riddles", "providers", "openai:gpt-5-mini", "meanScore"},
		}},
		{"metrics-json", [][]string{{"evaluations", "safety", "metrics", "toxicityRate"}}},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			outcome, doc, raw := runExample(t, tt.example)
			if outcome.Verdict.Result != policy.OutcomePass {
				t.Errorf("verdict = %s, want pass: %+v", outcome.Verdict.Result, outcome.Verdict.Results)
			}
			for _, path := range tt.numbers {
				if _, ok := leaf(doc, path...).(float64); !ok {
					t.Errorf("%v = %v, want a number", path, leaf(doc, path...))
				}
			}
			if bytes.Contains(raw, []byte("NaN")) || bytes.Contains(raw, []byte("Inf")) {
				t.Error("metrics.json contains NaN or Inf")
			}
			_, _, again := runExample(t, tt.example)
			if !bytes.Equal(raw, again) {
				t.Error("two runs gave different metrics.json")
			}
		})
	}
}
