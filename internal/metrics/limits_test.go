package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/ingest"
)

// idRows returns a predictions file whose "id" column has a new value on
// every one of n rows, and whose "sex" column has two values.
func idRows(n int) string {
	var b strings.Builder
	b.WriteString("label,prediction,score,id,sex\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,%d,0.%d,row-%d,%s\n", i%2, (i/2)%2, i%10, i, []string{"F", "M"}[i%2])
	}
	return b.String()
}

func TestGroupLimit(t *testing.T) {
	tests := []struct {
		name          string
		task          string
		groups        []string
		intersections [][]string
		maxGroups     int
		rows          int
		wantLine      int // 0: no error
		wantColumn    string
		wantText      []string
	}{
		{name: "binary default limit", task: TaskBinaryClassification, groups: []string{"id"}, rows: DefaultMaxGroups + 5,
			wantLine: DefaultMaxGroups + 2, wantColumn: "id",
			wantText: []string{`eval/p.csv:1002: column "id": the group column has more than 1000 distinct values (fairness.max_groups)`, "protected attribute such as race or sex", "not an identifier"}},
		{name: "binary at the limit", task: TaskBinaryClassification, groups: []string{"id"}, rows: 40, maxGroups: 40},
		{name: "binary configured limit", task: TaskBinaryClassification, groups: []string{"sex", "id"}, rows: 40, maxGroups: 10,
			wantLine: 12, wantColumn: "id", wantText: []string{"more than 10 distinct values"}},
		{name: "intersection", task: TaskBinaryClassification, groups: []string{"sex", "id"}, intersections: [][]string{{"sex", "id"}}, rows: 40, maxGroups: 30,
			wantLine: 32, wantColumn: "id", wantText: []string{"the group column has more than 30"}},
		{name: "multiclass", task: TaskMulticlassClassification, groups: []string{"id"}, rows: 20, maxGroups: 3,
			wantLine: 5, wantColumn: "id", wantText: []string{"more than 3 distinct values"}},
		{name: "regression", task: TaskRegression, groups: []string{"sex", "id"}, rows: 20, maxGroups: 3,
			wantLine: 5, wantColumn: "id", wantText: []string{"more than 3 distinct values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := basicSpec(writeFile(t, "p.csv", []byte(idRows(tt.rows))))
			spec.Task, spec.Groups, spec.Intersections, spec.MaxGroups = tt.task, tt.groups, tt.intersections, tt.maxGroups
			if tt.task != TaskBinaryClassification {
				spec.Columns.Score, spec.PositiveLabel = "", ""
			}
			_, err := Run(t.Context(), spec)
			if tt.wantLine == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var rowErr *ingest.RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v, want a *ingest.RowError", err)
			}
			if rowErr.Line != tt.wantLine || rowErr.Column != tt.wantColumn {
				t.Errorf("line, column = %d, %q, want %d, %q", rowErr.Line, rowErr.Column, tt.wantLine, tt.wantColumn)
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestIntersectionLimit(t *testing.T) {
	// Each column has 4 values, their intersection 16.
	var b strings.Builder
	b.WriteString("label,prediction,a,b\n")
	for i := range 16 {
		fmt.Fprintf(&b, "1,0,a%d,b%d\n", i%4, i/4)
	}
	spec := Spec{Name: "x", Task: TaskBinaryClassification, Path: writeFile(t, "p.csv", []byte(b.String())), DisplayPath: "p.csv",
		Columns: Columns{Label: "label", Prediction: "prediction"}, PositiveLabel: "1",
		Groups: []string{"a", "b"}, Intersections: [][]string{{"a", "b"}}, MaxGroups: 8}
	_, err := Evaluate(t.Context(), spec)
	var rowErr *ingest.RowError
	if !errors.As(err, &rowErr) {
		t.Fatalf("error = %v, want a *ingest.RowError", err)
	}
	if rowErr.Column != "a+b" || rowErr.Line != 10 {
		t.Errorf("column, line = %q, %d, want a+b, 10", rowErr.Column, rowErr.Line)
	}
	if !strings.Contains(err.Error(), "the intersection has more than 8 distinct values") {
		t.Errorf("error %q does not name the intersection", err)
	}
	if !strings.Contains(err.Error(), "remove the intersection from intersections") {
		t.Errorf("error %q does not say to remove the intersection", err)
	}
}

func TestMulticlassFoundClassLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("label,prediction\n")
	for i := range maxFoundClasses + 1 {
		fmt.Fprintf(&b, "c%d,c0\n", i)
	}
	spec := Spec{Name: "m", Task: TaskMulticlassClassification, Path: writeFile(t, "p.csv", []byte(b.String())), DisplayPath: "p.csv",
		Columns: Columns{Label: "label", Prediction: "prediction"}}
	_, err := EvaluateMulticlass(t.Context(), spec)
	var rowErr *ingest.RowError
	if !errors.As(err, &rowErr) {
		t.Fatalf("error = %v, want a *ingest.RowError", err)
	}
	if rowErr.Column != "label" || rowErr.Line != maxFoundClasses+2 {
		t.Errorf("column, line = %q, %d, want label, %d", rowErr.Column, rowErr.Line, maxFoundClasses+2)
	}
	if !strings.Contains(err.Error(), "more than 1000 distinct classes") {
		t.Errorf("error %q does not state the limit", err)
	}
}

func TestLongValueStopsEvaluation(t *testing.T) {
	// Half of ingest.MaxRowBytes: far above the value limit, within the
	// row limit.
	csv := "label,prediction,score,group\n1,1,0.5,A\n0,0,0.5," + strings.Repeat("x", ingest.MaxRowBytes/2) + "\n"
	_, err := Evaluate(t.Context(), basicSpec(writeFile(t, "p.csv", []byte(csv))))
	var rowErr *ingest.RowError
	if !errors.As(err, &rowErr) {
		t.Fatalf("error = %v, want a *ingest.RowError", err)
	}
	if rowErr.Line != 3 || rowErr.Column != "group" {
		t.Errorf("line, column = %d, %q, want 3, group", rowErr.Line, rowErr.Column)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("the message is %d bytes long; it must not quote the value", len(err.Error()))
	}
}
