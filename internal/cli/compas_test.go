package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// compasPredictions is the real COMPAS decisions file that sits beside the
// repository; see SOURCE.md beside it.
const compasPredictions = "../../../shared/datasets/compas/predictions.csv"

// TestRunCompasMatchesScikitLearn runs the main job end to end on the COMPAS
// decisions with groups race and sex, and compares every overall and
// per-group number in metrics.json with the values that
// testdata/reference/compas_reference.py computes with scikit-learn.
func TestRunCompasMatchesScikitLearn(t *testing.T) {
	data, err := filepath.Abs(compasPredictions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Skipf("COMPAS predictions not found at %s (the shared datasets sit beside the repository): %v", data, err)
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import sklearn, pandas").Run(); err != nil {
		msg := fmt.Sprintf("%s cannot import sklearn and pandas (%v): apt-get install -y python3-sklearn python3-pandas", python, err)
		if os.Getenv("AUDITPACK_REQUIRE_REFERENCE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "model.bin"), "stand-in for the COMPAS model, which is not public\n")
	writeFile(t, filepath.Join(dir, ".auditpack.yml"), fmt.Sprintf(`model:
  name: compas-general-recidivism
  artifacts: [model.bin]
datasets:
  - name: compas-2013-2014
    role: evaluation
    path: %[1]s
    source: https://github.com/propublica/compas-analysis
evaluations:
  - name: compas
    task: binary-classification
    predictions: %[1]s
    columns: {label: label, prediction: prediction, score: score}
    positive_label: "1"
    groups: [race, sex]
    # A positive prediction flags a high risk of reoffending.
    fairness: {positive_outcome: unfavorable}
policies: [builtin:default]
`, data))
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", out)
	// COMPAS fails no blocking rule of the default policy but warns on the
	// four-fifths rule, as ProPublica's analysis would lead one to expect.
	if r.code != ExitOK {
		t.Fatalf("run exited %d, want 0\nstderr:\n%s", r.code, r.stderr)
	}

	var doc struct {
		Evaluations map[string]map[string]any `json:"evaluations"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Evaluations["compas"]

	refOut, err := exec.CommandContext(t.Context(), python, "../../testdata/reference/compas_reference.py", data).Output()
	if err != nil {
		t.Fatalf("running the reference script: %v", err)
	}
	var want map[string]any
	if err := json.Unmarshal(refOut, &want); err != nil {
		t.Fatalf("parsing the reference output: %v", err)
	}

	gotLeaves, wantLeaves := map[string]any{}, map[string]any{}
	for _, section := range []string{"confusionMatrix", "metrics", "groups"} {
		flatten(section, got[section], gotLeaves)
		flatten(section, want[section], wantLeaves)
	}
	if len(wantLeaves) < 100 {
		t.Fatalf("the reference gave only %d values", len(wantLeaves))
	}
	for path, w := range wantLeaves {
		g, ok := gotLeaves[path]
		if !ok {
			t.Errorf("%s: missing from metrics.json (reference %v)", path, w)
			continue
		}
		wf, wok := w.(float64)
		gf, gok := g.(float64)
		switch {
		case wok && gok:
			if math.Abs(wf-gf) > 1e-12 {
				t.Errorf("%s = %.17g, scikit-learn gives %.17g", path, gf, wf)
			}
		case g != w:
			t.Errorf("%s = %v, the reference gives %v", path, g, w)
		}
	}
	t.Logf("compared %d values of metrics.json with scikit-learn", len(wantLeaves))

	// With a positive prediction unfavorable, the AI-BOM names the group
	// flagged most often. Without min_group_size, Native American (11
	// rows, 0.727 flagged) counts and is ahead of African-American (0.576).
	var bom struct {
		Components []struct {
			ModelCard struct {
				Considerations struct {
					FairnessAssessments []struct{ GroupAtRisk, Harms string } `json:"fairnessAssessments"`
				} `json:"considerations"`
			} `json:"modelCard"`
		} `json:"components"`
	}
	raw, err = os.ReadFile(filepath.Join(out, "aibom.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	var atRisk []string
	for _, a := range bom.Components[0].ModelCard.Considerations.FairnessAssessments {
		atRisk = append(atRisk, a.GroupAtRisk)
	}
	if want := []string{"race=Native American", "sex=Male"}; !slices.Equal(atRisk, want) {
		t.Errorf("AI-BOM groups at risk = %q, want %q", atRisk, want)
	}
}

// flatten records every leaf under v by its dotted path, skipping the
// "undefined" maps of reasons.
func flatten(path string, v any, leaves map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if k != "undefined" {
				flatten(path+"."+k, child, leaves)
			}
		}
	case []any:
		for i, child := range x {
			flatten(fmt.Sprintf("%s[%d]", path, i), child, leaves)
		}
	default:
		leaves[path] = v
	}
}
