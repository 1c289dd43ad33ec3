package metrics

import (
	"context"
	"math"
	"math/rand/v2"
)

// scoreIntervalStream is the PCG stream of the ROC AUC and average
// precision resamples, apart from the stream that weights the rows during
// the pass.
const scoreIntervalStream = 0x5851f42d4c957f2d

// scoreResamples draws the bootstrap values of ROC AUC and average
// precision from the distinct scores' counts, after the pass.
//
// In the Poisson bootstrap every row gets an independent Poisson(1)
// weight. The rows that share a score and a label are interchangeable, so
// only the sum of their weights matters, and the sum of k independent
// Poisson(1) weights is Poisson(k). One Poisson(k) draw per distinct score
// and label therefore gives resamples with exactly the distribution of
// the row-by-row ones, while the memory stays that of the scoreSet. The
// draws come from their own seeded stream, so these resamples are not the
// ones of the count-based metrics. That does not matter, because each
// interval is a marginal interval.
//
// A value is nil in a resample whose weights leave no positive (both
// metrics) or no negative (ROC AUC) row.
func (s *scoreSet) scoreResamples(ctx context.Context, spec Bootstrap) (auc, ap []*float64, err error) {
	gen := newPoissonSampler(rand.NewPCG(uint64(spec.Seed), scoreIntervalStream))
	for range spec.Resamples {
		// Each resample walks every distinct score, so a cancel is
		// checked once a resample.
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		var roc aucCurve
		var pr precisionRecallCurve
		var positives, negatives int64
		s.descending(func(p, n int64) {
			wp, wn := gen.draw(p), gen.draw(n)
			if wp == 0 && wn == 0 {
				return
			}
			positives += wp
			negatives += wn
			roc.add(wp, wn)
			pr.add(wp, wn)
		})
		var aucValue, apValue *float64
		if positives > 0 && negatives > 0 {
			aucValue = ptr(roc.value(positives, negatives))
		}
		if positives > 0 {
			apValue = ptr(pr.valueFor(positives))
		}
		auc = append(auc, aucValue)
		ap = append(ap, apValue)
	}
	return auc, ap, nil
}

// poissonSampler draws Poisson(λ) counts for any λ from a seeded source.
type poissonSampler struct {
	rng *rand.Rand
	one *poisson // Poisson(1) by table lookup, the most common draw
}

func newPoissonSampler(source *rand.PCG) *poissonSampler {
	return &poissonSampler{rng: rand.New(source), one: newPoissonFrom(source)}
}

// draw returns a Poisson(lambda) count; lambda is a count of rows.
func (p *poissonSampler) draw(lambda int64) int64 {
	switch {
	case lambda == 0:
		return 0
	case lambda == 1:
		return p.one.draw()
	case lambda < 16:
		return p.multiply(float64(lambda))
	}
	return p.transformedRejection(float64(lambda))
}

// multiply counts how many uniform factors keep the product above
// exp(-λ) (Knuth's method), which costs λ+1 uniforms on average.
func (p *poissonSampler) multiply(lambda float64) int64 {
	limit := math.Exp(-lambda)
	var k int64
	product := p.rng.Float64()
	for product > limit {
		k++
		product *= p.rng.Float64()
	}
	return k
}

// transformedRejection is Hörmann's PTRS algorithm ("The transformed
// rejection method for generating Poisson random variables", Insurance:
// Mathematics and Economics 12, 1993), which takes about 1.1 pairs of
// uniforms per draw whatever λ is. It is exact for λ ≥ 10.
func (p *poissonSampler) transformedRejection(lambda float64) int64 {
	root := math.Sqrt(lambda)
	logLambda := math.Log(lambda)
	b := 0.931 + 2.53*root
	a := -0.059 + 0.02483*b
	inverseAlpha := 1.1239 + 1.1328/(b-3.4)
	acceptBelow := 0.9277 - 3.6224/(b-2)
	for {
		u := p.rng.Float64() - 0.5
		v := p.rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= acceptBelow {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		logFactorial, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(inverseAlpha)-math.Log(a/(us*us)+b) <= -lambda+k*logLambda-logFactorial {
			return int64(k)
		}
	}
}
