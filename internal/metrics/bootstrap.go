package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// BootstrapMethod names the resampling and interval method in
// BootstrapInfo.Method.
const BootstrapMethod = "poisson-percentile"

// poisson draws Poisson(1)-distributed resample weights from a seeded PCG
// stream, so that the same seed and the same rows give the same weights.
//
// The Poisson bootstrap replaces drawing n rows with replacement (which
// needs all rows in memory) by giving every row an independent
// Poisson(1) count per resample; as n grows the two agree, and it can be
// computed in one streaming pass.
type poisson struct {
	rng *rand.PCG
	// cdf[k] is P(X <= k) scaled to 2^64, so that a uniform uint64 u gives
	// the draw k as the number of entries u is at or above.
	cdf []uint64
}

func newPoisson(seed int64) *poisson {
	return newPoissonFrom(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// newPoissonFrom returns a Poisson(1) generator drawing from source.
func newPoissonFrom(source *rand.PCG) *poisson {
	p := &poisson{rng: source}
	term, sum := math.Exp(-1), 0.0
	for k := 0; k < 20; k++ {
		sum += term
		term /= float64(k + 1)
		if sum >= 1 {
			break
		}
		p.cdf = append(p.cdf, uint64(math.Ldexp(sum, 64)))
	}
	return p
}

func (p *poisson) draw() int64 {
	u := p.rng.Uint64()
	k := 0
	for k < len(p.cdf) && u >= p.cdf[k] {
		k++
	}
	return int64(k)
}

// percentileInterval returns the two-sided percentile interval of values,
// interpolating linearly between order statistics as numpy.percentile does
// by default. It sorts values in place.
func percentileInterval(values []float64, confidence float64) (lower, upper float64) {
	slices.Sort(values)
	tail := (1 - confidence) / 2
	return quantile(values, tail), quantile(values, 1-tail)
}

// quantile returns the q-quantile of sorted values with linear
// interpolation (numpy's default "linear" method, Hyndman and Fan type 7).
func quantile(sorted []float64, q float64) float64 {
	position := q * float64(len(sorted)-1)
	below := math.Floor(position)
	i := int(below)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (position-below)*(sorted[i+1]-sorted[i])
}

// intervalOf turns the per-resample values of one metric (nil where a
// resample left it undefined) into an Interval, storing the reason for nil
// bounds under prefix+".lower" and prefix+".upper".
func intervalOf(values []*float64, confidence float64, pointDefined bool, undefined map[string]string, prefix string) *Interval {
	fail := func(reason string) *Interval {
		undefined[prefix+".lower"] = reason
		undefined[prefix+".upper"] = reason
		return &Interval{}
	}
	if !pointDefined {
		return fail("the metric is undefined on the full data")
	}
	defined := make([]float64, 0, len(values))
	for _, v := range values {
		if v != nil {
			defined = append(defined, *v)
		}
	}
	if missing := len(values) - len(defined); missing > 0 {
		return fail(fmt.Sprintf("the metric is undefined in %d of %d resamples, so an interval over the others would be biased", missing, len(values)))
	}
	lower, upper := percentileInterval(defined, confidence)
	return &Interval{Lower: &lower, Upper: &upper}
}

// binaryBootstrap keeps, for every resample, the confusion matrix overall
// and per group.
type binaryBootstrap struct {
	spec    Bootstrap
	gen     *poisson
	weights []int64
	overall []counts
	groups  [][][]counts // dimension, group id, resample
}

func newBinaryBootstrap(spec Bootstrap, dimensions int) *binaryBootstrap {
	return &binaryBootstrap{
		spec:    spec,
		gen:     newPoisson(spec.Seed),
		weights: make([]int64, spec.Resamples),
		overall: make([]counts, spec.Resamples),
		groups:  make([][][]counts, dimensions),
	}
}

func (b *binaryBootstrap) add(actual, predicted bool, ids []int32) {
	for r := range b.weights {
		w := b.gen.draw()
		b.weights[r] = w
		if w > 0 {
			b.overall[r].addN(actual, predicted, w)
		}
	}
	for d, id := range ids {
		for int(id) >= len(b.groups[d]) {
			b.groups[d] = append(b.groups[d], make([]counts, len(b.weights)))
		}
		resamples := b.groups[d][id]
		for r, w := range b.weights {
			if w > 0 {
				resamples[r].addN(actual, predicted, w)
			}
		}
	}
}

// bootstrapMetrics lists the binary metrics that get an interval.
var bootstrapMetrics = []string{"accuracy", "balancedAccuracy", "precision", "recall", "specificity", "f1", "fpr", "fnr"}

// bootstrapFairness lists the fairness measures that get an interval.
var bootstrapFairness = []string{
	"demographicParityDifference", "demographicParityRatio",
	"equalizedOddsDifference", "equalizedOddsRatio", "disparateImpactRatio",
}

// intervals fills the Bootstrap and ConfidenceIntervals fields.
func (b *binaryBootstrap) intervals(evaluation *Evaluation, index *groupIndex) {
	evaluation.Bootstrap = &BootstrapInfo{Method: BootstrapMethod, Resamples: b.spec.Resamples, Seed: b.spec.Seed, Confidence: b.spec.Confidence}
	evaluation.ConfidenceIntervals = map[string]*Interval{}

	point := binaryRates(evaluation.ConfusionMatrix.counts())
	perMetric := map[string][]*float64{}
	for _, c := range b.overall {
		rates := binaryRates(c)
		for _, key := range bootstrapMetrics {
			perMetric[key] = append(perMetric[key], rates[key])
		}
	}
	for _, key := range bootstrapMetrics {
		evaluation.ConfidenceIntervals[key] = intervalOf(perMetric[key], b.spec.Confidence, point[key] != nil,
			evaluation.Undefined, "confidenceIntervals."+key)
	}

	for d, column := range index.names {
		result := evaluation.Groups[column]
		names, _ := index.groupNames(d) // checked when the groups were built
		var ids []int
		var included []string
		for id, name := range names {
			if !slices.Contains(result.ExcludedGroups, name) {
				ids = append(ids, id)
				included = append(included, name)
			}
		}
		perMeasure := map[string][]*float64{}
		for r := range b.weights {
			groups := make(map[string]*GroupMetrics, len(ids))
			empty := false
			for i, id := range ids {
				c := b.groups[d][id][r]
				if c.tp+c.fp+c.tn+c.fn == 0 {
					empty = true
					break
				}
				groups[included[i]] = groupMetrics(c, map[string]string{}, "")
			}
			var f Fairness
			if !empty && len(included) > 0 {
				f = fairness(slices.Sorted(slices.Values(included)), groups, map[string]string{})
			}
			values := fairnessValues(f)
			for _, key := range bootstrapFairness {
				perMeasure[key] = append(perMeasure[key], values[key])
			}
		}
		result.ConfidenceIntervals = map[string]*Interval{}
		pointValues := fairnessValues(result.Fairness)
		for _, key := range bootstrapFairness {
			result.ConfidenceIntervals[key] = intervalOf(perMeasure[key], b.spec.Confidence, pointValues[key] != nil,
				result.Undefined, "confidenceIntervals."+key)
		}
	}
}

func fairnessValues(f Fairness) map[string]*float64 {
	return map[string]*float64{
		"demographicParityDifference": f.DemographicParityDifference,
		"demographicParityRatio":      f.DemographicParityRatio,
		"equalizedOddsDifference":     f.EqualizedOddsDifference,
		"equalizedOddsRatio":          f.EqualizedOddsRatio,
		"disparateImpactRatio":        f.DisparateImpactRatio,
	}
}

// binaryRates returns the count-based binary metrics of a confusion matrix,
// nil where a denominator is zero.
func binaryRates(c counts) map[string]*float64 {
	scratch := map[string]string{}
	n := c.tp + c.fp + c.tn + c.fn
	rates := map[string]*float64{
		"accuracy":    ratio(c.tp+c.tn, n, scratch, "accuracy", ""),
		"recall":      ratio(c.tp, c.tp+c.fn, scratch, "recall", ""),
		"fnr":         ratio(c.fn, c.tp+c.fn, scratch, "fnr", ""),
		"specificity": ratio(c.tn, c.tn+c.fp, scratch, "specificity", ""),
		"fpr":         ratio(c.fp, c.tn+c.fp, scratch, "fpr", ""),
		"precision":   ratio(c.tp, c.tp+c.fp, scratch, "precision", ""),
		"f1":          ratio(2*c.tp, 2*c.tp+c.fp+c.fn, scratch, "f1", ""),
	}
	if rates["recall"] != nil && rates["specificity"] != nil {
		value := (*rates["recall"] + *rates["specificity"]) / 2
		rates["balancedAccuracy"] = &value
	} else {
		rates["balancedAccuracy"] = nil
	}
	return rates
}

func (m ConfusionMatrix) counts() counts { return counts{tp: m.TP, fp: m.FP, tn: m.TN, fn: m.FN} }
