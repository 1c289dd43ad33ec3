package metrics

import (
	"context"
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
func (a *accumulator) result(ctx context.Context) (*Evaluation, error) {
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

	a.scoreMetrics(evaluation)

	for d, column := range a.index.names {
		names, err := a.index.groupNames(d)
		if err != nil {
			return nil, err
		}
		groups := make(map[string]*counts, len(names))
		for id, name := range names {
			groups[name] = &a.groups[d][id]
		}
		result, err := groupColumn(column, groups, a.spec.MinGroupSize, a.spec.ReferenceGroups[column])
		if err != nil {
			return nil, err
		}
		if d >= len(a.spec.Groups) {
			result.Columns = a.spec.Intersections[d-len(a.spec.Groups)]
		}
		evaluation.Groups[column] = result
	}
	if a.boot != nil {
		a.boot.intervals(evaluation, a.index)
		if err := a.scoreIntervals(ctx, evaluation); err != nil {
			return nil, err
		}
	}
	return evaluation, nil
}

// scoreIntervals adds the bootstrap intervals of ROC AUC and average
// precision (see scoreResamples).
func (a *accumulator) scoreIntervals(ctx context.Context, evaluation *Evaluation) error {
	var auc, ap []*float64
	if a.hasScore {
		var err error
		if auc, ap, err = a.scores.scoreResamples(ctx, *a.spec.Bootstrap); err != nil {
			return err
		}
	}
	m := evaluation.Metrics
	evaluation.ConfidenceIntervals["rocAuc"] = intervalOf(auc, a.spec.Bootstrap.Confidence, m.ROCAUC != nil,
		evaluation.Undefined, "confidenceIntervals.rocAuc")
	evaluation.ConfidenceIntervals["averagePrecision"] = intervalOf(ap, a.spec.Bootstrap.Confidence, m.AveragePrecision != nil,
		evaluation.Undefined, "confidenceIntervals.averagePrecision")
	return nil
}

// scoreMetrics fills the metrics computed from the scores.
func (a *accumulator) scoreMetrics(evaluation *Evaluation) {
	m, undefined := &evaluation.Metrics, evaluation.Undefined
	needProbabilities := []string{"brierScore", "logLoss", "expectedCalibrationError"}
	if !a.hasScore {
		for _, key := range append([]string{"rocAuc", "averagePrecision"}, needProbabilities...) {
			undefined[key] = reasonNoScoreColumn
		}
		return
	}

	if auc, ok := a.scores.rocAUC(); ok {
		m.ROCAUC = finite(auc, undefined, "rocAuc")
	} else {
		undefined["rocAuc"] = reasonOneClass
	}
	if ap, ok := a.scores.averagePrecision(); ok {
		m.AveragePrecision = finite(ap, undefined, "averagePrecision")
	} else {
		undefined["averagePrecision"] = reasonNoPositives
	}
	if len(a.spec.Thresholds) > 0 {
		evaluation.Thresholds = a.sweep.result()
	}

	if a.notProbab != nil {
		reason := fmt.Sprintf(
			"the score %q on line %d is outside [0, 1]; this metric needs probabilities of the positive class",
			a.notProbab.value, a.notProbab.line)
		for _, key := range needProbabilities {
			undefined[key] = reason
		}
		return
	}
	rows := float64(a.scores.rows())
	m.BrierScore = finite(a.brier.value()/rows, undefined, "brierScore")
	m.LogLoss = finite(a.logLoss.value()/rows, undefined, "logLoss")
	calibration, ece := a.calib.result()
	evaluation.Calibration = calibration
	m.ExpectedCalibrationError = finite(ece, undefined, "expectedCalibrationError")
}

// groupColumn computes the per-group metrics and fairness measures of one
// column. Groups smaller than minSize are reported but left out of the
// fairness measures. A non-empty reference names the group the others are
// compared with; it must exist and be large enough.
func groupColumn(column string, groups map[string]*counts, minSize int64, reference string) (*GroupColumn, error) {
	result := &GroupColumn{
		Column:         column,
		MinGroupSize:   minSize,
		ExcludedGroups: []string{},
		Groups:         make(map[string]*GroupMetrics, len(groups)),
		Undefined:      map[string]string{},
	}
	undefined := result.Undefined

	// Sorted names make the order of reasons that list groups stable.
	names := slices.Sorted(maps.Keys(groups))
	var included []string
	for _, name := range names {
		c := *groups[name]
		metrics := groupMetrics(c, undefined, "groups."+name+".")
		result.Groups[name] = metrics
		count := metrics.Count
		if count < minSize {
			result.ExcludedGroups = append(result.ExcludedGroups, name)
		} else {
			included = append(included, name)
		}
	}

	if len(included) == 0 {
		reason := fmt.Sprintf("every group has fewer than %d rows (the minimum group size)", minSize)
		for _, key := range fairnessKeys {
			undefined["fairness."+key] = reason
		}
	} else {
		result.Fairness = fairness(included, result.Groups, undefined)
	}
	if reference != "" {
		ref, err := referenceComparison(column, reference, included, result.Groups, minSize)
		if err != nil {
			return nil, err
		}
		result.Reference = ref
	}
	return result, nil
}

// fairnessKeys lists the JSON names of the Fairness fields.
var fairnessKeys = []string{
	"demographicParityDifference", "demographicParityRatio", "equalizedOddsDifference",
	"equalizedOddsRatio", "disparateImpactRatio", "fourFifthsRule",
}

// referenceComparison compares every included group with the reference.
func referenceComparison(column, reference string, included []string, groups map[string]*GroupMetrics, minSize int64) (*Reference, error) {
	ref, ok := groups[reference]
	if !ok {
		return nil, &ReferenceGroupError{Column: column, Group: reference, Groups: slices.Sorted(maps.Keys(groups))}
	}
	if !slices.Contains(included, reference) {
		return nil, fmt.Errorf("the reference group %q of %s has %d rows, fewer than the minimum group size %d: pick a larger group",
			reference, column, ref.Count, minSize)
	}
	out := &Reference{Group: reference, Groups: map[string]*ReferenceGap{}, Undefined: map[string]string{}}
	undefined := out.Undefined
	var ratios, gaps []float64
	var missingRatio, missingGap []string
	for _, name := range included {
		if name == reference {
			continue
		}
		g := groups[name]
		key := "groups." + name + "."
		gap := &ReferenceGap{
			SelectionRateDifference: finite(g.SelectionRate-ref.SelectionRate, undefined, key+"selectionRateDifference"),
			TPRDifference:           difference(g.TPR, ref.TPR, undefined, key+"tprDifference"),
			FPRDifference:           difference(g.FPR, ref.FPR, undefined, key+"fprDifference"),
		}
		if ref.SelectionRate == 0 {
			undefined[key+"selectionRateRatio"] = "the reference group has no predicted positive, so the ratio is x/0"
			missingRatio = append(missingRatio, name)
		} else {
			gap.SelectionRateRatio = finite(g.SelectionRate/ref.SelectionRate, undefined, key+"selectionRateRatio")
			ratios = append(ratios, *gap.SelectionRateRatio)
		}
		if gap.TPRDifference == nil || gap.FPRDifference == nil {
			missingGap = append(missingGap, name)
		} else {
			gaps = append(gaps, max(math.Abs(*gap.TPRDifference), math.Abs(*gap.FPRDifference)))
		}
		out.Groups[name] = gap
	}
	switch {
	case len(missingRatio) > 0:
		undefined["disparateImpactRatio"] = "the reference group has no predicted positive"
	case len(ratios) == 0:
		undefined["disparateImpactRatio"] = "no other group is large enough to compare with the reference"
	default:
		out.DisparateImpactRatio = &ratios[slices.Index(ratios, slices.Min(ratios))]
	}
	switch {
	case len(missingGap) > 0:
		undefined["equalizedOddsDifference"] = fmt.Sprintf("a TPR or FPR is undefined for %s or the reference", listGroups(missingGap))
	case len(gaps) == 0:
		undefined["equalizedOddsDifference"] = "no other group is large enough to compare with the reference"
	default:
		value := slices.Max(gaps)
		out.EqualizedOddsDifference = &value
	}
	return out, nil
}

// difference returns a - b, or nil with a reason when either is undefined.
func difference(a, b *float64, undefined map[string]string, key string) *float64 {
	if a == nil || b == nil {
		undefined[key] = "the rate is undefined for this group or for the reference group"
		return nil
	}
	return finite(*a-*b, undefined, key)
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
		missing = append(missing, fmt.Sprintf("TPR is undefined for %s, which %s no rows with the positive label", listGroups(tprMissing), hasOrHave(len(tprMissing))))
	}
	if len(fprMissing) > 0 {
		missing = append(missing, fmt.Sprintf("FPR is undefined for %s, which %s no rows with the negative label", listGroups(fprMissing), hasOrHave(len(fprMissing))))
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
func listGroups(names []string) string { return listNamed("group", "groups", names) }

// listNamed returns names quoted and comma-separated, after the singular
// noun for one name and the plural for more.
func listNamed(singular, plural string, names []string) string {
	if len(names) == 1 {
		return singular + " " + quoteList(names)
	}
	return plural + " " + quoteList(names)
}

// quoteList returns names quoted and comma-separated.
func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(quoted, ", ")
}

// hasOrHave returns the verb that agrees with a list of n names.
func hasOrHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
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

// groupMetrics computes one group's metrics from its confusion matrix, which
// must count at least one row. Reasons go under key+"<metric>".
func groupMetrics(c counts, undefined map[string]string, key string) *GroupMetrics {
	count := c.tp + c.fp + c.tn + c.fn
	return &GroupMetrics{
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

// ReferenceGroupError is a configured reference group that the group
// column does not have.
type ReferenceGroupError struct {
	Column string
	Group  string
	// Groups are the column's groups, sorted.
	Groups []string
}

func (e *ReferenceGroupError) Error() string {
	return fmt.Sprintf("group column %s has no group %q to use as the reference; set the reference to one of its groups: %s",
		e.Column, e.Group, quoteList(e.Groups))
}
