package metrics

import (
	"math"
	"slices"
)

// logLossEpsilon is the clipping bound of log loss: a probability p is
// replaced by min(max(p, ε), 1-ε), as scikit-learn's log_loss does with
// its default eps="auto" (the float64 machine epsilon), so that a confident
// wrong answer costs about 36 rather than infinity.
const logLossEpsilon = 0x1p-52

// logLossTerm returns -log of the probability that the score gives the
// true class.
func logLossTerm(score float64, actual bool) float64 {
	p := min(max(score, logLossEpsilon), 1-logLossEpsilon)
	if actual {
		return -math.Log(p)
	}
	return -math.Log(1 - p)
}

// averagePrecision returns the area under the precision-recall curve as
// scikit-learn's average_precision_score defines it: the sum over distinct
// score thresholds, from the highest down, of the recall gained at the
// threshold times the precision there. It returns false when no row is
// positive.
func (s *scoreSet) averagePrecision() (float64, bool) {
	positives, _ := s.counts()
	if positives == 0 {
		return 0, false
	}
	curve := precisionRecallCurve{positives: positives}
	s.descending(curve.add)
	return curve.value(), true
}

// precisionRecallCurve sums average precision while the thresholds are
// walked from the highest score down.
type precisionRecallCurve struct {
	// positives is the number of positive rows, or 0 when it is unknown
	// until the end, as in a bootstrap resample: the terms are then summed
	// without dividing by it, and valueFor divides at the end.
	positives int64
	tp, fp    int64
	sum       compensatedSum
}

func (c *precisionRecallCurve) add(dtp, dfp int64) {
	c.tp += dtp
	c.fp += dfp
	if dtp == 0 {
		return
	}
	precision := float64(c.tp) / float64(c.tp+c.fp)
	if c.positives > 0 {
		// Recall gained times precision, in the order of
		// average_precision_score, so that both round alike.
		c.sum.add(float64(dtp) / float64(c.positives) * precision)
	} else {
		c.sum.add(float64(dtp) * precision)
	}
}

// value returns the average precision of a curve whose positives were set.
func (c *precisionRecallCurve) value() float64 { return c.sum.value() }

// valueFor returns the average precision of a curve walked without
// positives.
func (c *precisionRecallCurve) valueFor(positives int64) float64 {
	return c.sum.value() / float64(positives)
}

// calibration bins the scores into equal-width bins of [0, 1].
type calibration struct {
	edges     []float64 // the bins-1 inner edges, i/bins as numpy's linspace computes them
	count     []int64
	positives []int64
	scoreSum  []compensatedSum
}

func newCalibration(bins int) *calibration {
	c := &calibration{
		count:     make([]int64, bins),
		positives: make([]int64, bins),
		scoreSum:  make([]compensatedSum, bins),
	}
	step := 1.0 / float64(bins)
	for i := 1; i < bins; i++ {
		c.edges = append(c.edges, float64(i)*step)
	}
	return c
}

// bin returns the bin of a score in [0, 1]: the number of inner edges
// strictly below it, so that a score on an edge falls into the lower bin,
// as in scikit-learn's calibration_curve (numpy.searchsorted, side left).
func (c *calibration) bin(score float64) int {
	bin, _ := slices.BinarySearch(c.edges, score)
	return bin
}

func (c *calibration) add(score float64, actual bool) {
	b := c.bin(score)
	c.count[b]++
	if actual {
		c.positives[b]++
	}
	c.scoreSum[b].add(score)
}

// result returns the reliability curve and the expected calibration error.
func (c *calibration) result() (*Calibration, float64) {
	out := &Calibration{Bins: len(c.count), Strategy: "uniform", Points: []ReliabilityPoint{}}
	var total int64
	for _, n := range c.count {
		total += n
	}
	var ece compensatedSum
	for b, n := range c.count {
		if n == 0 {
			continue
		}
		lower := 0.0
		if b > 0 {
			lower = c.edges[b-1]
		}
		upper := 1.0
		if b < len(c.edges) {
			upper = c.edges[b]
		}
		meanScore := c.scoreSum[b].value() / float64(n)
		fraction := float64(c.positives[b]) / float64(n)
		out.Points = append(out.Points, ReliabilityPoint{
			Lower: lower, Upper: upper, Count: n, MeanScore: meanScore, FractionPositive: fraction,
		})
		ece.add(float64(n) / float64(total) * math.Abs(fraction-meanScore))
	}
	return out, ece.value()
}

// thresholdSweep counts, for each configured threshold, the rows whose
// score is at or above it.
type thresholdSweep struct {
	thresholds []float64 // sorted, distinct
	// positive[k] and negative[k] count the rows whose score is at or
	// above exactly k thresholds.
	positive, negative []int64
}

func newThresholdSweep(thresholds []float64) *thresholdSweep {
	sorted := slices.Compact(slices.Sorted(slices.Values(thresholds)))
	return &thresholdSweep{
		thresholds: sorted,
		positive:   make([]int64, len(sorted)+1),
		negative:   make([]int64, len(sorted)+1),
	}
}

func (t *thresholdSweep) add(score float64, actual bool) {
	if len(t.thresholds) == 0 {
		return
	}
	// The number of thresholds t_j with t_j <= score.
	k, found := slices.BinarySearch(t.thresholds, score)
	if found {
		k++
	}
	if actual {
		t.positive[k]++
	} else {
		t.negative[k]++
	}
}

// result returns one point per threshold, in increasing order.
func (t *thresholdSweep) result() []ThresholdPoint {
	points := make([]ThresholdPoint, len(t.thresholds))
	var tp, fp, positives, negatives int64
	for k := range t.positive {
		positives += t.positive[k]
		negatives += t.negative[k]
	}
	// Walk from the highest threshold down: rows at or above threshold j
	// are those counted with k > j.
	for j := len(t.thresholds) - 1; j >= 0; j-- {
		tp += t.positive[j+1]
		fp += t.negative[j+1]
		undefined := map[string]string{}
		points[j] = ThresholdPoint{
			Threshold:          t.thresholds[j],
			PredictedPositives: tp + fp,
			TPR:                ratio(tp, positives, undefined, "tpr", reasonNoPositives),
			FPR:                ratio(fp, negatives, undefined, "fpr", reasonNoNegatives),
			Precision:          ratio(tp, tp+fp, undefined, "precision", reasonNoPredictedPositives),
			Undefined:          undefined,
		}
	}
	return points
}
