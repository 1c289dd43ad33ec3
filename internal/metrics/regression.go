package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/ingest"
)

// errorSums accumulates the errors of a set of rows.
type errorSums struct {
	count              int64
	absolute, squared  compensatedSum
	signed             compensatedSum
	percentage         compensatedSum
	zeroTrue           int // line of the first true value of 0, or 0
	meanTrue, m2True   float64
	maxAbsolute        float64
	absoluteErrorsKept bool
	absoluteErrors     []float64
}

func (s *errorSums) add(actual, predicted float64, line int) {
	e := predicted - actual
	a := math.Abs(e)
	s.count++
	s.absolute.add(a)
	s.squared.add(e * e)
	s.signed.add(e)
	s.maxAbsolute = max(s.maxAbsolute, a)
	if actual == 0 {
		if s.zeroTrue == 0 {
			s.zeroTrue = line
		}
	} else {
		s.percentage.add(a / math.Abs(actual))
	}
	// Welford's update of the mean and the sum of squared deviations of
	// the true values, for R².
	delta := actual - s.meanTrue
	s.meanTrue += delta / float64(s.count)
	s.m2True += delta * (actual - s.meanTrue)
	if s.absoluteErrorsKept {
		s.absoluteErrors = append(s.absoluteErrors, a)
	}
}

// metrics returns the error metrics, with reasons under prefix+"<metric>".
func (s *errorSums) metrics(undefined map[string]string, prefix string) map[string]*float64 {
	n := float64(s.count)
	out := map[string]*float64{
		"count":     ptr(n),
		"mae":       finite(s.absolute.value()/n, undefined, prefix+"mae"),
		"mse":       finite(s.squared.value()/n, undefined, prefix+"mse"),
		"rmse":      finite(math.Sqrt(s.squared.value()/n), undefined, prefix+"rmse"),
		"meanError": finite(s.signed.value()/n, undefined, prefix+"meanError"),
		"maxError":  finite(s.maxAbsolute, undefined, prefix+"maxError"),
	}
	if s.zeroTrue != 0 {
		out["mape"] = nil
		undefined[prefix+"mape"] = fmt.Sprintf("the true value on line %d is 0, so its percentage error is x/0", s.zeroTrue)
	} else {
		out["mape"] = finite(s.percentage.value()/n, undefined, prefix+"mape")
	}
	if s.m2True == 0 {
		out["r2"] = nil
		undefined[prefix+"r2"] = "every true value is the same, so R² divides by a total sum of squares of 0"
	} else {
		out["r2"] = finite(1-s.squared.value()/s.m2True, undefined, prefix+"r2")
	}
	if s.absoluteErrorsKept {
		slices.Sort(s.absoluteErrors)
		out["medianAbsoluteError"] = ptr(quantile(s.absoluteErrors, 0.5))
	}
	return out
}

// parseValue parses a true or predicted value of a regression, or a
// latency: a finite number in decimal notation.
func parseValue(text string) (float64, error) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return 0, errors.New("the value is empty: every row needs a number")
	}
	v, err := parseDecimal(trimmed)
	switch {
	case errors.Is(err, errNotDecimal):
		return 0, fmt.Errorf("%q is not written in decimal notation: write numbers such as 12.5 or 1.25e1", text)
	case err != nil:
		return 0, fmt.Errorf("%q is %v: write a finite decimal number such as 12.5 or 1.25e1, or remove the row", text, err)
	}
	return v, nil
}

// EvaluateRegression reads a regression predictions file once and returns
// its error metrics, overall and per group. Memory grows with the number of
// groups, and by 8 bytes per row for the median absolute error.
func EvaluateRegression(ctx context.Context, spec Spec) (*Summary, error) {
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	columns := append([]string{spec.Columns.Label, spec.Columns.Prediction}, spec.Groups...)
	overall := &errorSums{absoluteErrorsKept: true}
	index := newGroupIndex(spec)
	ids := make([]int32, len(index.parts))
	groups := make([][]*errorSums, len(index.parts))
	var boot *regressionBootstrap
	if spec.Bootstrap != nil {
		boot = newRegressionBootstrap(*spec.Bootstrap)
	}

	source, err := scan(ctx, spec, columns, func(values []string, line int) error {
		actual, err := parseValue(values[0])
		if err != nil {
			return &ingest.RowError{Path: spec.DisplayPath, Line: line, Column: spec.Columns.Label, Err: err}
		}
		predicted, err := parseValue(values[1])
		if err != nil {
			return &ingest.RowError{Path: spec.DisplayPath, Line: line, Column: spec.Columns.Prediction, Err: err}
		}
		overall.add(actual, predicted, line)
		created, err := index.assign(values[2:], ids, line)
		if err != nil {
			return err
		}
		if created {
			for d, id := range ids {
				if int(id) == len(groups[d]) {
					groups[d] = append(groups[d], &errorSums{})
				}
			}
		}
		for d, id := range ids {
			groups[d][id].add(actual, predicted, line)
		}
		if boot != nil {
			boot.add(predicted - actual)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	s := &Summary{Name: spec.Name, Task: spec.Task, Source: source, Undefined: map[string]string{}, Groups: map[string]*GroupSummary{}}
	s.Metrics = overall.metrics(s.Undefined, "")
	delete(s.Metrics, "count")
	for d, column := range index.names {
		names, err := index.groupNames(d)
		if err != nil {
			return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
		}
		g := &GroupSummary{
			Column: column, MinGroupSize: spec.MinGroupSize, ExcludedGroups: []string{},
			ReferenceGroup: spec.ReferenceGroups[column],
			Groups:         map[string]map[string]*float64{}, Fairness: map[string]*float64{}, Undefined: map[string]string{},
		}
		if d >= len(spec.Groups) {
			g.Columns = spec.Intersections[d-len(spec.Groups)]
		}
		for id, name := range names {
			g.Groups[name] = groups[d][id].metrics(g.Undefined, "groups."+name+".")
		}
		if err := groupGaps(g, []string{"mae", "rmse"}); err != nil {
			return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
		}
		s.Groups[column] = g
	}
	if boot != nil {
		boot.intervals(s)
	}
	return s, nil
}

// regressionBootstrap keeps the error sums of every resample.
type regressionBootstrap struct {
	spec                     Bootstrap
	gen                      *poisson
	weight, absolute, square []float64
}

func newRegressionBootstrap(spec Bootstrap) *regressionBootstrap {
	return &regressionBootstrap{
		spec: spec, gen: newPoisson(spec.Seed),
		weight: make([]float64, spec.Resamples), absolute: make([]float64, spec.Resamples), square: make([]float64, spec.Resamples),
	}
}

func (b *regressionBootstrap) add(e float64) {
	a, sq := math.Abs(e), e*e
	for r := range b.weight {
		if w := float64(b.gen.draw()); w > 0 {
			b.weight[r] += w
			b.absolute[r] += w * a
			b.square[r] += w * sq
		}
	}
}

// intervals computes intervals for the MAE and the RMSE.
func (b *regressionBootstrap) intervals(s *Summary) {
	s.Bootstrap = &BootstrapInfo{Method: BootstrapMethod, Resamples: b.spec.Resamples, Seed: b.spec.Seed, Confidence: b.spec.Confidence}
	s.ConfidenceIntervals = map[string]*Interval{}
	var mae, rmse []*float64
	scratch := map[string]string{}
	for r, w := range b.weight {
		mae = append(mae, ratioFloat(b.absolute[r], w, scratch, "mae", ""))
		if w > 0 {
			rmse = append(rmse, finite(math.Sqrt(b.square[r]/w), scratch, "rmse"))
		} else {
			rmse = append(rmse, nil)
		}
	}
	s.ConfidenceIntervals["mae"] = intervalOf(mae, b.spec.Confidence, s.Metrics["mae"] != nil, s.Undefined, "confidenceIntervals.mae")
	s.ConfidenceIntervals["rmse"] = intervalOf(rmse, b.spec.Confidence, s.Metrics["rmse"] != nil, s.Undefined, "confidenceIntervals.rmse")
}
