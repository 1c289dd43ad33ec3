package metrics

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/ingest"
)

// robustnessRows writes a predictions file with the columns id, label and
// prediction, one row per id, with the task's labels.
func robustnessRows(task string, ids []int, flipped map[int]bool) string {
	var b strings.Builder
	b.WriteString("id,label,prediction\n")
	for _, id := range ids {
		var label, prediction string
		switch task {
		case TaskBinaryClassification:
			label = fmt.Sprint(id % 2)
			prediction = label
			if flipped[id] {
				prediction = fmt.Sprint(1 - id%2)
			}
		case TaskMulticlassClassification:
			classes := []string{"a", "b", "c"}
			label = classes[id%3]
			prediction = label
			if flipped[id] {
				prediction = classes[(id+1)%3]
			}
		case TaskRegression:
			label = fmt.Sprint(10 + id)
			prediction = fmt.Sprint(11 + id)
			if flipped[id] {
				prediction = fmt.Sprint(13 + id)
			}
		}
		fmt.Fprintf(&b, "%d,%s,%s\n", id, label, prediction)
	}
	return b.String()
}

func TestComparePairsRowsForEveryTask(t *testing.T) {
	cleanIDs := []int{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name        string
		stressedIDs []int
		// cleanID and stressedID turn the id column on for each side.
		cleanID, stressedID bool
		wantPaired          int64
		wantError           string
		wantErrorLine       int
	}{
		{name: "same rows", stressedIDs: cleanIDs, cleanID: true, stressedID: true, wantPaired: 6},
		{name: "same rows without ids", stressedIDs: cleanIDs, wantPaired: 6},
		{name: "stressed file shorter", stressedIDs: cleanIDs[:4], cleanID: true, stressedID: true,
			wantError: "clean.csv has 5 rows or more but stressed.csv ends after 4: a stressed evaluation must score the same rows in the same order"},
		{name: "stressed file longer", stressedIDs: append(append([]int{}, cleanIDs...), 7), cleanID: true, stressedID: true,
			wantError: "stressed.csv has 7 rows or more but clean.csv ends after 6"},
		{name: "shorter without ids", stressedIDs: cleanIDs[:1],
			wantError: "clean.csv has 2 rows or more but stressed.csv ends after 1"},
		{name: "changed id", stressedIDs: []int{1, 2, 3, 40, 5, 6}, cleanID: true, stressedID: true,
			wantError: `stressed.csv:5: column "id": id "40" does not match id "4" of row 4 of clean.csv: write both files in the same row order`, wantErrorLine: 5},
		{name: "changed id, id configured on one side only", stressedIDs: []int{1, 2, 3, 40, 5, 6}, cleanID: true, wantPaired: 6},
	}
	for _, task := range []string{TaskBinaryClassification, TaskMulticlassClassification, TaskRegression} {
		for _, tt := range tests {
			t.Run(task+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				spec := func(name string, ids []int, flipped map[int]bool, withID bool) Spec {
					s := Spec{Name: name, Task: task, Path: writeFileIn(t, dir, name+".csv", robustnessRows(task, ids, flipped)),
						DisplayPath: name + ".csv", Columns: Columns{Label: "label", Prediction: "prediction"}}
					if withID {
						s.Columns.ID = "id"
					}
					if task == TaskBinaryClassification {
						s.PositiveLabel, s.NegativeLabel = "1", "0"
					}
					return s
				}
				cleanSpec := spec("clean", cleanIDs, nil, tt.cleanID)
				stressedSpec := spec("stressed", tt.stressedIDs, map[int]bool{1: true, 5: true}, tt.stressedID)
				clean, err := Run(t.Context(), cleanSpec)
				if err != nil {
					t.Fatal(err)
				}
				stressed, err := Run(t.Context(), stressedSpec)
				if err != nil {
					t.Fatal(err)
				}

				err = Compare(t.Context(), cleanSpec, stressedSpec, clean, stressed, StressSpec{Kind: "noise"})
				if tt.wantError != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantError) {
						t.Fatalf("error = %v, want it to contain %q", err, tt.wantError)
					}
					if !strings.HasPrefix(err.Error(), "comparing stressed with its baseline clean: ") {
						t.Errorf("error %q does not name the evaluations first", err)
					}
					var rowErr *ingest.RowError
					if tt.wantErrorLine != 0 && (!errors.As(err, &rowErr) || rowErr.Line != tt.wantErrorLine) {
						t.Errorf("error %v is not a *ingest.RowError on line %d", err, tt.wantErrorLine)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				r := robustnessOf(t, stressed)
				if r.PairedRows != tt.wantPaired {
					t.Errorf("pairedRows = %d, want %d", r.PairedRows, tt.wantPaired)
				}
				if task == TaskRegression {
					if r.FlipRate != nil || r.Undefined["flipRate"] == "" {
						t.Errorf("regression flip rate = %v, reason %q; want null with a reason", r.FlipRate, r.Undefined["flipRate"])
					}
					if r.Flips != nil || r.Undefined["flips"] == "" {
						t.Errorf("regression flips = %v, reason %q; want null with a reason", r.Flips, r.Undefined["flips"])
					}
					return
				}
				if r.Flips == nil || *r.Flips != 2 || r.FlipRate == nil || math.Abs(*r.FlipRate-2.0/6) > 1e-15 {
					t.Errorf("flips = %v, rate %v; want 2 of 6", r.Flips, r.FlipRate)
				}
			})
		}
	}
}

func robustnessOf(t *testing.T, report Report) *Robustness {
	t.Helper()
	switch r := report.(type) {
	case *Evaluation:
		return r.Robustness
	case *Summary:
		return r.Robustness
	}
	t.Fatalf("report of type %T has no robustness", report)
	return nil
}

func TestRegressionDropOfMeanError(t *testing.T) {
	tests := []struct {
		name            string
		clean, stressed string
		want            float64
	}{
		// Mean errors +1 and -3: the bias grew by 2 in absolute value.
		{"bias changes sign and grows", "y,p\n10,11\n20,21\n", "y,p\n10,7\n20,17\n", 2},
		// Mean errors -3 and +1: the bias shrank.
		{"bias changes sign and shrinks", "y,p\n10,7\n20,17\n", "y,p\n10,11\n20,21\n", -2},
		{"bias grows below zero", "y,p\n10,9\n20,19\n", "y,p\n10,6\n20,16\n", 3},
		{"no bias either side", "y,p\n10,9\n20,21\n", "y,p\n10,12\n20,18\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cleanSpec := Spec{Name: "clean", Task: TaskRegression, Path: writeFileIn(t, dir, "clean.csv", tt.clean), Columns: Columns{Label: "y", Prediction: "p"}}
			stressedSpec := Spec{Name: "stressed", Task: TaskRegression, Path: writeFileIn(t, dir, "stressed.csv", tt.stressed), Columns: Columns{Label: "y", Prediction: "p"}}
			clean, err := EvaluateRegression(t.Context(), cleanSpec)
			if err != nil {
				t.Fatal(err)
			}
			stressed, err := EvaluateRegression(t.Context(), stressedSpec)
			if err != nil {
				t.Fatal(err)
			}
			if err := Compare(t.Context(), cleanSpec, stressedSpec, clean, stressed, StressSpec{Kind: "shift"}); err != nil {
				t.Fatal(err)
			}
			got := stressed.Robustness.Drop["meanError"]
			if got == nil || math.Abs(*got-tt.want) > 1e-12 {
				t.Errorf("drop.meanError = %v, want %v", got, tt.want)
			}
			if mae := stressed.Robustness.Drop["mae"]; mae == nil {
				t.Error("drop.mae is null")
			}
		})
	}
}
