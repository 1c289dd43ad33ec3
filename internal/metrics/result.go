package metrics

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Reasons stored in Undefined maps.
const (
	reasonNoPositives          = "no rows with the positive label (tp + fn = 0)"
	reasonNoNegatives          = "no rows with the negative label (tn + fp = 0)"
	reasonNoPredictedPositives = "no predicted positives (tp + fp = 0)"
	reasonOneClass             = "only one class is present in the labels; it needs rows of both"
	reasonNoScoreColumn        = "the score column was not configured"
)

// result turns the accumulated counts into an Evaluation.
func (a *accumulator) result() *Evaluation {
	c := a.overall
	evaluation := &Evaluation{
		ConfusionMatrix: ConfusionMatrix{TP: c.tp, FP: c.fp, TN: c.tn, FN: c.fn},
		Undefined:       map[string]string{},
		Groups:          map[string]*GroupColumn{},
	}
	undefined := evaluation.Undefined
	m := &evaluation.Metrics
	n := c.tp + c.fp + c.tn + c.fn

	m.Positives = c.tp + c.fn
	m.Negatives = c.tn + c.fp
	m.PredictedPositives = c.tp + c.fp
	m.Accuracy = float64(c.tp+c.tn) / float64(n)
	m.Recall = ratio(c.tp, c.tp+c.fn, undefined, "recall", reasonNoPositives)
	m.FNR = ratio(c.fn, c.tp+c.fn, undefined, "fnr", reasonNoPositives)
	m.Specificity = ratio(c.tn, c.tn+c.fp, undefined, "specificity", reasonNoNegatives)
	m.FPR = ratio(c.fp, c.tn+c.fp, undefined, "fpr", reasonNoNegatives)
	m.Precision = ratio(c.tp, c.tp+c.fp, undefined, "precision", reasonNoPredictedPositives)
	m.F1 = ratio(2*c.tp, 2*c.tp+c.fp+c.fn, undefined, "f1",
		"no positive labels and no predicted positives (2tp + fp + fn = 0)")

	if m.Recall != nil && m.Specificity != nil {
		m.BalancedAccuracy = finite((*m.Recall+*m.Specificity)/2, undefined, "balancedAccuracy")
	} else {
		undefined["balancedAccuracy"] = reasonOneClass
	}

	a.scoreMetrics(m, undefined)

	for i, column := range a.spec.Groups {
		evaluation.Groups[column] = groupColumn(column, a.groups[i])
	}
	return evaluation
}

// scoreMetrics fills ROC AUC and the Brier score.
func (a *accumulator) scoreMetrics(m *Metrics, undefined map[string]string) {
	if !a.hasScore {
		undefined["rocAuc"] = reasonNoScoreColumn
		undefined["brierScore"] = reasonNoScoreColumn
		return
	}

	if auc, ok := a.scores.rocAUC(); ok {
		m.ROCAUC = finite(auc, undefined, "rocAuc")
	} else {
		undefined["rocAuc"] = reasonOneClass
	}

	if a.notProbab != nil {
		undefined["brierScore"] = fmt.Sprintf(
			"the score %q on line %d is outside [0, 1]; the Brier score needs probabilities of the positive class",
			a.notProbab.value, a.notProbab.line)
		return
	}
	rows := len(a.scores.positive) + len(a.scores.negative)
	m.BrierScore = finite(a.brier.value()/float64(rows), undefined, "brierScore")
}

// groupColumn computes the per-group metrics and fairness measures of one
// column.
func groupColumn(column string, groups map[string]*counts) *GroupColumn {
	result := &GroupColumn{
		Column:    column,
		Groups:    make(map[string]*GroupMetrics, len(groups)),
		Undefined: map[string]string{},
	}
	undefined := result.Undefined

	// Sorted names make the order of reasons that list groups stable.
	names := slices.Sorted(maps.Keys(groups))
	for _, name := range names {
		c := groups[name]
		count := c.tp + c.fp + c.tn + c.fn
		key := "groups." + name + "."
		result.Groups[name] = &GroupMetrics{
			Count:         count,
			Positives:     c.tp + c.fn,
			BaseRate:      float64(c.tp+c.fn) / float64(count),
			SelectionRate: float64(c.tp+c.fp) / float64(count),
			TPR:           ratio(c.tp, c.tp+c.fn, undefined, key+"tpr", reasonNoPositives),
			FPR:           ratio(c.fp, c.tn+c.fp, undefined, key+"fpr", reasonNoNegatives),
			FNR:           ratio(c.fn, c.tp+c.fn, undefined, key+"fnr", reasonNoPositives),
			Precision:     ratio(c.tp, c.tp+c.fp, undefined, key+"precision", reasonNoPredictedPositives),
			Accuracy:      float64(c.tp+c.tn) / float64(count),
		}
	}

	result.Fairness = fairness(names, result.Groups, undefined)
	return result
}

// fairness computes the between-group measures. A measure built on a rate
// that some group lacks is undefined rather than computed over the other
// groups, because the missing group could hold the extreme value.
func fairness(names []string, groups map[string]*GroupMetrics, undefined map[string]string) Fairness {
	var f Fairness

	selection := make([]float64, len(names))
	for i, name := range names {
		selection[i] = groups[name].SelectionRate
	}
	f.DemographicParityDifference = finite(spread(selection), undefined, "fairness.demographicParityDifference")
	const noSelection = "no group has a predicted positive, so the ratio is 0/0"
	f.DemographicParityRatio = rangeRatio(selection, undefined, "fairness.demographicParityRatio", noSelection)
	f.DisparateImpactRatio = rangeRatio(selection, undefined, "fairness.disparateImpactRatio", noSelection)
	if f.DisparateImpactRatio != nil {
		passes := *f.DisparateImpactRatio >= 0.8
		f.FourFifthsRule = &passes
	} else {
		undefined["fairness.fourFifthsRule"] = "the disparate impact ratio is undefined: " + noSelection
	}

	tpr, tprMissing := collectRates(names, groups, func(g *GroupMetrics) *float64 { return g.TPR })
	fpr, fprMissing := collectRates(names, groups, func(g *GroupMetrics) *float64 { return g.FPR })
	var missing []string
	if len(tprMissing) > 0 {
		missing = append(missing, fmt.Sprintf("TPR is undefined for %s, which has no rows with the positive label", listGroups(tprMissing)))
	}
	if len(fprMissing) > 0 {
		missing = append(missing, fmt.Sprintf("FPR is undefined for %s, which has no rows with the negative label", listGroups(fprMissing)))
	}
	if len(missing) > 0 {
		reason := strings.Join(missing, "; ")
		undefined["fairness.equalizedOddsDifference"] = reason
		undefined["fairness.equalizedOddsRatio"] = reason
		return f
	}

	f.EqualizedOddsDifference = finite(max(spread(tpr), spread(fpr)), undefined, "fairness.equalizedOddsDifference")
	tprRatio := rangeRatio(tpr, undefined, "fairness.equalizedOddsRatio", "every group's TPR is 0, so the TPR ratio is 0/0")
	if tprRatio == nil {
		return f
	}
	fprRatio := rangeRatio(fpr, undefined, "fairness.equalizedOddsRatio", "every group's FPR is 0, so the FPR ratio is 0/0")
	if fprRatio == nil {
		return f
	}
	f.EqualizedOddsRatio = finite(min(*tprRatio, *fprRatio), undefined, "fairness.equalizedOddsRatio")
	return f
}

// collectRates returns the defined rates and the names of groups without one.
func collectRates(names []string, groups map[string]*GroupMetrics, rate func(*GroupMetrics) *float64) (rates []float64, missing []string) {
	for _, name := range names {
		if value := rate(groups[name]); value != nil {
			rates = append(rates, *value)
		} else {
			missing = append(missing, name)
		}
	}
	return rates, missing
}

// listGroups names groups for a reason, as `group "A"` or `groups "A", "B"`.
func listGroups(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	if len(names) == 1 {
		return "group " + quoted[0]
	}
	return "groups " + strings.Join(quoted, ", ")
}

// spread returns the largest value minus the smallest of a non-empty slice.
func spread(values []float64) float64 {
	return slices.Max(values) - slices.Min(values)
}

// rangeRatio returns the smallest value over the largest, or nil with the
// reason stored under key when the largest is 0.
func rangeRatio(values []float64, undefined map[string]string, key, reason string) *float64 {
	largest := slices.Max(values)
	if largest == 0 {
		undefined[key] = reason
		return nil
	}
	return finite(slices.Min(values)/largest, undefined, key)
}

// ratio returns numerator/denominator, or nil with the reason stored under key
// when the denominator is 0.
func ratio(numerator, denominator int64, undefined map[string]string, key, reason string) *float64 {
	if denominator == 0 {
		undefined[key] = reason
		return nil
	}
	return finite(float64(numerator)/float64(denominator), undefined, key)
}

// finite returns a pointer to value, or nil with a reason if value is NaN or
// infinite. The callers' inputs are finite, so this is a last guard keeping
// NaN out of JSON, which encoding/json would reject.
func finite(value float64, undefined map[string]string, key string) *float64 {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		undefined[key] = "the computation gave a value that is not finite"
		return nil
	}
	return &value
}
