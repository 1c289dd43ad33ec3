package metrics

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEvaluate measures Evaluate on a generated CSV of one million rows
// with a score and two group columns, and reports rows per second.
func BenchmarkEvaluate(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "predictions.csv")
	file, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	writer := bufio.NewWriter(file)
	fmt.Fprintln(writer, "id,label,prediction,score,race,sex")
	races := []string{"African-American", "Caucasian", "Hispanic", "Asian", "Other"}
	sexes := []string{"Female", "Male"}
	// A fixed linear congruential sequence keeps the file identical between
	// runs without a random generator.
	state := uint64(1)
	for i := range rows {
		state = state*6364136223846793005 + 1442695040888963407
		score := float64(state>>40) / float64(1<<24)
		label := (state >> 20) & 1
		prediction := 0
		if score >= 0.5 {
			prediction = 1
		}
		fmt.Fprintf(writer, "%d,%d,%d,%.6f,%s,%s\n", i, label, prediction, score, races[(state>>8)%5], sexes[(state>>4)%2])
	}
	if err := writer.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := file.Close(); err != nil {
		b.Fatal(err)
	}

	spec := Spec{
		Name:          "bench",
		Task:          TaskBinaryClassification,
		Path:          path,
		Columns:       Columns{Label: "label", Prediction: "prediction", Score: "score"},
		PositiveLabel: "1",
		Groups:        []string{"race", "sex"},
	}
	iterations := 0
	for b.Loop() {
		iterations++
		evaluation, err := Evaluate(b.Context(), spec)
		if err != nil {
			b.Fatal(err)
		}
		if evaluation.Source.Rows != rows {
			b.Fatalf("rows = %d, want %d", evaluation.Source.Rows, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(iterations)/b.Elapsed().Seconds(), "rows/s")
}
