// Command generate writes the benchmark's predictions file: N rows of
// label, prediction, score and two group columns (race, sex), from a fixed
// seed so that every run measures the same bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	rows := flag.Int("rows", 10_000_000, "number of data rows")
	out := flag.String("out", "predictions.csv", "file to write")
	flag.Parse()
	if err := generate(*out, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func generate(path string, rows int) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(file, 1<<20)
	races := []string{"African-American", "Caucasian", "Hispanic", "Asian", "Native American", "Other"}
	raceWeights := []float64{0.45, 0.35, 0.1, 0.05, 0.02, 0.03}
	sexes := []string{"Female", "Male"}
	rng := rand.New(rand.NewPCG(20240601, 1))
	fmt.Fprintln(w, "label,prediction,score,race,sex")
	var line []byte
	for range rows {
		u := rng.Float64()
		race := len(races) - 1
		for i, weight := range raceWeights {
			if u < weight {
				race = i
				break
			}
			u -= weight
		}
		sex := rng.IntN(2)
		label := 0
		if rng.Float64() < 0.3+0.1*float64(race%2) {
			label = 1
		}
		// A score correlated with the label, rounded to 4 decimals so
		// that ties occur as they do with real models.
		score := min(max(0.35*float64(label)+0.65*rng.Float64(), 0), 1)
		prediction := 0
		if score >= 0.5 {
			prediction = 1
		}
		line = line[:0]
		line = strconv.AppendInt(line, int64(label), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(prediction), 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, score, 'f', 4, 64)
		line = append(line, ',')
		line = append(line, races[race]...)
		line = append(line, ',')
		line = append(line, sexes[sex]...)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return file.Close()
}
