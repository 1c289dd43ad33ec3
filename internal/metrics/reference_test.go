package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

const (
	compasPath      = "../../../shared/datasets/compas/predictions.csv"
	referenceScript = "../../testdata/reference/compas_reference.py"
	// referencePython is Debian's interpreter, the one python3-sklearn
	// installs into. Another python3 on PATH may lack scikit-learn.
	referencePython = "/usr/bin/python3"
	tolerance       = 1e-12
)

// TestCompasAgainstScikitLearn checks every number of the COMPAS evaluation
// against testdata/reference/compas_reference.py, which computes them with
// scikit-learn. It skips when scikit-learn is missing, unless
// AUDITPACK_REQUIRE_REFERENCE=1.
func TestCompasAgainstScikitLearn(t *testing.T) {
	if _, err := os.Stat(compasPath); err != nil {
		t.Skipf("COMPAS predictions not found at %s (the shared datasets sit beside the repository): %v", compasPath, err)
	}
	if err := exec.Command(referencePython, "-c", "import sklearn, pandas").Run(); err != nil {
		message := fmt.Sprintf("%s cannot import sklearn and pandas (%v): install them with apt-get install -y python3-sklearn python3-pandas", referencePython, err)
		if os.Getenv("AUDITPACK_REQUIRE_REFERENCE") == "1" {
			t.Fatal(message)
		}
		t.Skip(message)
	}

	output, err := exec.CommandContext(t.Context(), referencePython, referenceScript, compasPath).Output()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", referenceScript, err, stderrOf(err))
	}
	var want map[string]any
	if err := json.Unmarshal(output, &want); err != nil {
		t.Fatalf("parsing the reference output: %v", err)
	}

	absolute, err := filepath.Abs(compasPath)
	if err != nil {
		t.Fatal(err)
	}
	evaluation, err := Evaluate(t.Context(), Spec{
		Name:          "compas",
		Task:          TaskBinaryClassification,
		Path:          absolute,
		DisplayPath:   "predictions.csv",
		Columns:       Columns{Label: "label", Prediction: "prediction", Score: "score"},
		PositiveLabel: "1",
		Groups:        []string{"race", "sex"},
	})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	got := toJSONValue(t, evaluation)

	compared := 0
	for _, section := range []string{"source", "confusionMatrix", "metrics", "groups"} {
		compared += compareTree(t, section, got[section], want[section])
	}
	// Both directions: every number we report for metrics and groups must
	// also have been computed by the reference.
	for _, section := range []string{"metrics", "groups"} {
		for _, path := range leafPaths(section, got[section]) {
			if lookup(want, path) == nil && lookup(got, path) != nil {
				t.Errorf("%s: we report %v, the reference has no value", path, lookup(got, path))
			}
		}
	}
	if compared < 100 {
		t.Errorf("compared only %d values, so the reference output looks incomplete", compared)
	}
	t.Logf("compared %d values with scikit-learn to %g", compared, tolerance)
}

// compareTree compares every leaf of want with the same path in got and
// returns the number of leaves compared.
func compareTree(t *testing.T, path string, got, want any) int {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %v, want an object", path, got)
			return 0
		}
		keys := make([]string, 0, len(w))
		for key := range w {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		n := 0
		for _, key := range keys {
			n += compareTree(t, path+"."+key, g[key], w[key])
		}
		return n
	case float64:
		g, ok := got.(float64)
		if !ok {
			t.Errorf("%s: got %v, want %v", path, got, w)
			return 1
		}
		if math.Abs(g-w) > tolerance {
			t.Errorf("%s: got %.17g, want %.17g (difference %.3g)", path, g, w, g-w)
		}
		return 1
	case []any:
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: got %v, want %v", path, got, w)
		}
		return 1
	default:
		if got != want {
			t.Errorf("%s: got %v, want %v", path, got, want)
		}
		return 1
	}
}

// leafPaths lists the dotted paths of the non-object leaves under value,
// skipping "undefined" maps.
func leafPaths(path string, value any) []string {
	object, ok := value.(map[string]any)
	if !ok {
		return []string{path}
	}
	var paths []string
	for key, child := range object {
		if key == "undefined" {
			continue
		}
		paths = append(paths, leafPaths(path+"."+key, child)...)
	}
	return paths
}

// lookup follows a dotted path built by leafPaths. Group names in the COMPAS
// data contain no dots.
func lookup(root map[string]any, path string) any {
	var current any = root
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			continue
		}
		object, ok := current.(map[string]any)
		if !ok {
			return nil
		}
		current = object[path[start:i]]
		start = i + 1
	}
	return current
}

func toJSONValue(t *testing.T, evaluation *Evaluation) map[string]any {
	t.Helper()
	data, err := json.Marshal(evaluation)
	if err != nil {
		t.Fatalf("marshalling the evaluation: %v", err)
	}
	var value map[string]any
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatal(err)
	}
	return value
}

func stderrOf(err error) string {
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(exitErr.Stderr)
	}
	return ""
}
