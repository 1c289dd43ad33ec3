package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	adultPath            = "../../../shared/datasets/adult/adult.data"
	adultReferenceScript = "../../testdata/reference/adult_reference.py"
)

// TestAdultAgainstScikitLearn builds multiclass and regression predictions
// from the UCI Adult data with testdata/reference/adult_reference.py, and
// compares every value the script computes with scikit-learn to auditpack's
// to within 1e-12.
func TestAdultAgainstScikitLearn(t *testing.T) {
	if _, err := os.Stat(adultPath); err != nil {
		t.Skipf("Adult data not found at %s (the shared datasets sit beside the repository): %v", adultPath, err)
	}
	if err := exec.Command(referencePython, "-c", "import sklearn, pandas").Run(); err != nil {
		message := fmt.Sprintf("%s cannot import sklearn and pandas (%v): install them with apt-get install -y python3-sklearn python3-pandas", referencePython, err)
		if os.Getenv("AUDITPACK_REQUIRE_REFERENCE") == "1" {
			t.Fatal(message)
		}
		t.Skip(message)
	}
	dir := t.TempDir()
	output, err := exec.CommandContext(t.Context(), referencePython, adultReferenceScript, adultPath, dir).Output()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", adultReferenceScript, err, stderrOf(err))
	}
	var want map[string]map[string]any
	if err := json.Unmarshal(output, &want); err != nil {
		t.Fatalf("parsing the reference output: %v", err)
	}

	scores := map[string]string{}
	for i, class := range want["multiclass"]["classes"].([]any) {
		scores[class.(string)] = fmt.Sprintf("score_%d", i)
	}
	multiclass, err := EvaluateMulticlass(t.Context(), Spec{
		Name: "adult-multiclass", Task: TaskMulticlassClassification, Path: filepath.Join(dir, "multiclass.csv"),
		Columns: Columns{Label: "label", Prediction: "prediction", Scores: scores},
		TopK:    []int{2, 3}, Groups: []string{"race", "sex"},
	})
	if err != nil {
		t.Fatalf("EvaluateMulticlass: %v", err)
	}
	regression, err := EvaluateRegression(t.Context(), Spec{
		Name: "adult-regression", Task: TaskRegression, Path: filepath.Join(dir, "regression.csv"),
		Columns: Columns{Label: "hours", Prediction: "predicted"}, Groups: []string{"race", "sex"},
	})
	if err != nil {
		t.Fatalf("EvaluateRegression: %v", err)
	}

	for name, got := range map[string]any{"multiclass": multiclass, "regression": regression} {
		data, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var tree map[string]any
		if err := json.Unmarshal(data, &tree); err != nil {
			t.Fatal(err)
		}
		compared := 0
		for section, value := range want[name] {
			compared += compareTree(t, name+"."+section, tree[section], value)
		}
		if compared < 40 {
			t.Errorf("%s: compared only %d values, so the reference output looks incomplete", name, compared)
		}
		t.Logf("%s: compared %d values with scikit-learn to %g", name, compared, tolerance)
	}
}
