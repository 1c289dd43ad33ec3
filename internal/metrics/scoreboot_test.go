package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPoissonSamplerMoments(t *testing.T) {
	// With 40000 draws the sample mean lies within 5 standard errors of λ
	// with near certainty, and the seed is fixed, so the test cannot flake.
	const draws = 40000
	for _, lambda := range []int64{1, 2, 7, 15, 16, 40, 1000, 1_000_000} {
		t.Run(fmt.Sprint(lambda), func(t *testing.T) {
			gen := newPoissonSampler(rand.NewPCG(7, 11))
			var sum, squares float64
			for range draws {
				k := float64(gen.draw(lambda))
				if k < 0 {
					t.Fatalf("negative draw %v", k)
				}
				sum += k
				squares += k * k
			}
			mean := sum / draws
			variance := squares/draws - mean*mean
			l := float64(lambda)
			if math.Abs(mean-l) > 5*math.Sqrt(l/draws) {
				t.Errorf("mean = %v, want %v ± %v", mean, l, 5*math.Sqrt(l/draws))
			}
			if math.Abs(variance/l-1) > 0.05 {
				t.Errorf("variance = %v, want about %v", variance, l)
			}
		})
	}
}

func TestScoreResamplesCountedEqualsSpilled(t *testing.T) {
	// The counted and the spilled scoreSet walk the same distinct scores
	// with the same counts, so they draw the same resamples.
	rng := rand.New(rand.NewPCG(3, 4))
	var counted, spilled scoreSet
	spilled.limit = 2
	for range 3000 {
		score := float64(rng.IntN(40)) / 40
		actual := rng.Float64() < score
		counted.add(score, actual)
		spilled.add(score, actual)
	}
	if counted.spilled || !spilled.spilled {
		t.Fatalf("spilled = %v and %v, want false and true", counted.spilled, spilled.spilled)
	}
	spec := Bootstrap{Resamples: 50, Seed: 9, Confidence: 0.95}
	aucCounted, apCounted, err := counted.scoreResamples(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	aucSpilled, apSpilled, err := spilled.scoreResamples(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(aucCounted) != spec.Resamples {
		t.Errorf("%d ROC AUC resamples, want %d", len(aucCounted), spec.Resamples)
	}

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := counted.scoreResamples(cancelled, spec); !errors.Is(err, context.Canceled) {
		t.Errorf("scoreResamples after a cancel = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(aucCounted, aucSpilled); diff != "" {
		t.Errorf("ROC AUC resamples differ (-counted +spilled):\n%s", diff)
	}
	if diff := cmp.Diff(apCounted, apSpilled); diff != "" {
		t.Errorf("average precision resamples differ (-counted +spilled):\n%s", diff)
	}
}

func TestScoreIntervals(t *testing.T) {
	// 2000 rows whose score separates the classes well but not perfectly.
	var b strings.Builder
	b.WriteString("label,prediction,score\n")
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		label := rng.IntN(2)
		score := math.Round((0.3*float64(label)+0.7*rng.Float64())*100) / 100
		prediction := 0
		if score >= 0.5 {
			prediction = 1
		}
		fmt.Fprintf(&b, "%d,%d,%.2f\n", label, prediction, score)
	}
	path := writeFile(t, "p.csv", []byte(b.String()))
	run := func(seed int64) *Evaluation {
		spec := Spec{Name: "b", Task: TaskBinaryClassification, Path: path,
			Columns: Columns{Label: "label", Prediction: "prediction", Score: "score"}, PositiveLabel: "1",
			Bootstrap: &Bootstrap{Resamples: 300, Seed: seed}}
		e, err := Evaluate(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first, again, other := run(1), run(1), run(2)
	for _, key := range []string{"rocAuc", "averagePrecision"} {
		interval := first.ConfidenceIntervals[key]
		if interval == nil || interval.Lower == nil || interval.Upper == nil {
			t.Fatalf("%s interval = %+v, reason %q", key, interval, first.Undefined["confidenceIntervals."+key+".lower"])
		}
		point := *first.Metrics.ROCAUC
		if key == "averagePrecision" {
			point = *first.Metrics.AveragePrecision
		}
		lower, upper := *interval.Lower, *interval.Upper
		// The standard error of an AUC near 0.75 on 2000 rows is about
		// 0.01, so the 95% interval is a few hundredths wide.
		if !(lower < point && point < upper) || upper-lower < 0.01 || upper-lower > 0.1 {
			t.Errorf("%s: interval [%v, %v] around %v", key, lower, upper, point)
		}
		if !cmp.Equal(interval, again.ConfidenceIntervals[key]) {
			t.Errorf("%s: the same seed gave %+v and %+v", key, interval, again.ConfidenceIntervals[key])
		}
		if cmp.Equal(interval, other.ConfidenceIntervals[key]) {
			t.Errorf("%s: seeds 1 and 2 gave the same interval %+v", key, interval)
		}
	}
}

func TestScoreIntervalsUndefined(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		columns Columns
		key     string
		reason  string
	}{
		{"no score column", "label,prediction\n1,1\n0,0\n", Columns{Label: "label", Prediction: "prediction"},
			"rocAuc", "undefined on the full data"},
		{"one class", "label,prediction,score\n1,1,0.9\n1,0,0.2\n", Columns{Label: "label", Prediction: "prediction", Score: "score"},
			"rocAuc", "undefined on the full data"},
		{"resamples without a positive", "label,prediction,score\n1,1,0.9\n0,0,0.2\n0,1,0.6\n", Columns{Label: "label", Prediction: "prediction", Score: "score"},
			"averagePrecision", "resamples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Name: "b", Task: TaskBinaryClassification, Path: writeFile(t, "p.csv", []byte(tt.csv)),
				Columns: tt.columns, PositiveLabel: "1", NegativeLabel: "0", Bootstrap: &Bootstrap{Resamples: 100}}
			e, err := Evaluate(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			interval := e.ConfidenceIntervals[tt.key]
			if interval == nil || interval.Lower != nil || interval.Upper != nil {
				t.Errorf("interval = %+v, want null bounds", interval)
			}
			if reason := e.Undefined["confidenceIntervals."+tt.key+".lower"]; !strings.Contains(reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}
