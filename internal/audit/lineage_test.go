package audit

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auditpack/auditpack/internal/config"
)

func TestNamedPathsOnce(t *testing.T) {
	cfg := &config.Config{
		Path:  filepath.Join("project", ".auditpack.yml"),
		Model: config.Model{Artifacts: []string{"models/m.bin"}},
		Datasets: []config.Dataset{
			{Name: "eval", Path: "../data/eval.csv", Preprocessing: []string{"prep.py"}},
		},
		Evaluations: []config.Evaluation{
			{Name: "holdout", Predictions: "../data/./eval.csv"},
			{Name: "harness", Results: "results.json"},
		},
		Policies: []string{"builtin:default", "policies/team.yaml", "prep.py"},
	}
	got := namedPaths(cfg)
	want := []string{cfg.Resolve(".auditpack.yml"), "models/m.bin", "../data/eval.csv", "prep.py", "results.json", "policies/team.yaml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namedPaths (-want +got):\n%s", diff)
	}
}
