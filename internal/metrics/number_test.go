package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/ingest"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		text    string
		want    float64
		wantErr error
	}{
		{"0.73", 0.73, nil},
		{"-2", -2, nil},
		{"+1e3", 1000, nil},
		{".5", 0.5, nil},
		{"5.", 5, nil},
		{"7.3E-1", 0.73, nil},
		{"1e-400", 0, nil},
		{"007", 7, nil},
		{"0x1p-2", 0, errNotDecimal},
		{"0X1P-2", 0, errNotDecimal},
		{"0x_1p0", 0, errNotDecimal},
		{"0x1p9999", 0, errNotDecimal},
		{"1_000", 0, errNotDecimal},
		{"1_0.5", 0, errNotDecimal},
		{"0x10", 0, errNotNumber},
		{"1e999", 0, errNotFinite},
		{"-1e999", 0, errNotFinite},
		{"Inf", 0, errNotFinite},
		{"-infinity", 0, errNotFinite},
		{"+INF", 0, errNotFinite},
		{"NaN", 0, errNotFinite},
		{"nan", 0, errNotFinite},
		{"", 0, errNotNumber},
		{".", 0, errNotNumber},
		{"-", 0, errNotNumber},
		{"e5", 0, errNotNumber},
		{"1e", 0, errNotNumber},
		{"1e+", 0, errNotNumber},
		{"1.2.3", 0, errNotNumber},
		{"1,5", 0, errNotNumber},
		{"0.5x", 0, errNotNumber},
		{"١", 0, errNotNumber},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseDecimal(tt.text)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("parseDecimal(%q) error = %v, want %v", tt.text, err, tt.wantErr)
			}
			if err == nil && math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("parseDecimal(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// TestNumbersOnlyInDecimalNotation checks that every task that reads
// numbers from a predictions file rejects a number not written in decimal
// notation, or not finite, with the file, the line and the column.
func TestNumbersOnlyInDecimalNotation(t *testing.T) {
	tests := []struct {
		name       string
		csv        string
		spec       Spec
		wantColumn string
		wantText   string
	}{
		{
			name:       "binary score",
			csv:        "label,prediction,score\n1,1,0.5\n0,0,0x1p-2\n",
			spec:       Spec{Task: TaskBinaryClassification, PositiveLabel: "1", Columns: Columns{Label: "label", Prediction: "prediction", Score: "score"}},
			wantColumn: "score",
			wantText:   `p.csv:3: column "score": "0x1p-2" is not written in decimal notation: scores must be finite decimal numbers such as 0.73`,
		},
		{
			name: "multiclass score",
			csv:  "y,p,s_a,s_b\na,a,0.5,0.5\nb,b,0x1p-1,0.5\n",
			spec: Spec{Task: TaskMulticlassClassification, Columns: Columns{Label: "y", Prediction: "p",
				Scores: map[string]string{"a": "s_a", "b": "s_b"}}},
			wantColumn: "s_a",
			wantText:   `p.csv:3: column "s_a": "0x1p-1" is not written in decimal notation`,
		},
		{
			name:       "regression true value",
			csv:        "y,p\n1,2\n1_000,3\n",
			spec:       Spec{Task: TaskRegression, Columns: Columns{Label: "y", Prediction: "p"}},
			wantColumn: "y",
			wantText:   `p.csv:3: column "y": "1_000" is not written in decimal notation: write numbers such as 12.5`,
		},
		{
			name:       "regression prediction infinity",
			csv:        "y,p\n1,Infinity\n",
			spec:       Spec{Task: TaskRegression, Columns: Columns{Label: "y", Prediction: "p"}},
			wantColumn: "p",
			wantText:   `p.csv:2: column "p": "Infinity" is not a finite number`,
		},
		{
			name:       "latency",
			csv:        "ms\n12\n0x1p4\n",
			spec:       Spec{Task: TaskLatency, Columns: Columns{Latency: "ms"}},
			wantColumn: "ms",
			wantText:   `p.csv:3: column "ms": "0x1p4" is not written in decimal notation`,
		},
		{
			name:       "latency timestamp",
			csv:        "ms,at\n12,100\n13,0x1p7\n",
			spec:       Spec{Task: TaskLatency, Columns: Columns{Latency: "ms", Timestamp: "at"}},
			wantColumn: "at",
			wantText:   `"0x1p7" is neither seconds since the Unix epoch nor an RFC 3339 time`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Name = "n"
			spec.Path = writeFile(t, "p.csv", []byte(tt.csv))
			spec.DisplayPath = "p.csv"
			_, err := Run(t.Context(), spec)
			var rowErr *ingest.RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v, want a *ingest.RowError", err)
			}
			if rowErr.Column != tt.wantColumn {
				t.Errorf("column = %q, want %q", rowErr.Column, tt.wantColumn)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}
