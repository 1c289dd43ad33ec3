package metrics

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Summary is the result of a multiclass, regression or latency evaluation:
// the object stored under evaluations.<name> in metrics.json. Its metrics
// are a map, sorted by key in JSON, and every nil value is explained in
// Undefined.
type Summary struct {
	Name   string `json:"name"`
	Task   string `json:"task"`
	Source Source `json:"source"`
	// Classes lists the classes of a multiclass evaluation in the order of
	// the confusion matrix's rows and columns.
	Classes []string `json:"classes,omitempty"`
	// ConfusionMatrix[i][j] counts the rows of true class Classes[i]
	// predicted as Classes[j].
	ConfusionMatrix [][]int64 `json:"confusionMatrix,omitempty"`
	// PerClass maps each class to its precision, recall, F1, support and,
	// with scores, one-vs-rest ROC AUC.
	PerClass map[string]map[string]*float64 `json:"perClass,omitempty"`
	// Metrics holds the overall metrics.
	Metrics map[string]*float64 `json:"metrics"`
	// Unit is the unit of a latency evaluation's values.
	Unit string `json:"unit,omitempty"`
	// Undefined maps the path of each nil value below this object, such
	// as "rmse" or "perClass.cat.precision", to the reason.
	Undefined map[string]string `json:"undefined"`
	// Groups maps each group column and intersection to its results. It
	// is empty, never nil, for a multiclass or regression evaluation, so
	// that a policy path such as evaluations.*.groups.* matches nothing
	// when no group column was configured. It is nil, and left out of the
	// JSON, for latency, which has no groups.
	Groups              map[string]*GroupSummary `json:"groups,omitzero"`
	Bootstrap           *BootstrapInfo           `json:"bootstrap,omitempty"`
	ConfidenceIntervals map[string]*Interval     `json:"confidenceIntervals,omitempty"`
	Robustness          *Robustness              `json:"robustness,omitempty"`
}

func (s *Summary) headline() map[string]*float64 {
	out := make(map[string]*float64, len(s.Metrics))
	for k, v := range s.Metrics {
		out[k] = v
	}
	return out
}

func (s *Summary) setRobustness(r *Robustness) { s.Robustness = r }

// GroupSummary holds the per-group metrics of one group column of a
// multiclass or regression evaluation, and the gaps between groups.
type GroupSummary struct {
	Column         string   `json:"column"`
	Columns        []string `json:"columns,omitempty"`
	MinGroupSize   int64    `json:"minGroupSize"`
	ExcludedGroups []string `json:"excludedGroups"`
	// ReferenceGroup is the configured reference group, if any.
	ReferenceGroup string                         `json:"referenceGroup,omitempty"`
	Groups         map[string]map[string]*float64 `json:"groups"`
	// Fairness holds, for each compared metric m, mDifference (largest
	// group value minus smallest), mRatio (smallest over largest) and,
	// with a reference group, mReferenceDifference: the largest absolute
	// value of the differences in Reference, so never negative.
	Fairness map[string]*float64 `json:"fairness"`
	// Reference holds the signed difference of every included group from
	// the reference group; nil without a reference group.
	Reference           *SummaryReference    `json:"reference,omitempty"`
	Undefined           map[string]string    `json:"undefined"`
	ConfidenceIntervals map[string]*Interval `json:"confidenceIntervals,omitempty"`
}

// SummaryReference compares every included group of a multiclass or
// regression group column with the reference group, in the same form as
// Reference does for binary classification.
type SummaryReference struct {
	// Group is the reference group's name.
	Group string `json:"group"`
	// Groups maps every other included group to mDifference for each
	// compared metric m: the group's value minus the reference group's.
	Groups map[string]map[string]*float64 `json:"groups"`
	// Undefined maps a path relative to this object, such as
	// "groups.Asian.maeDifference", to the reason that value is nil.
	Undefined map[string]string `json:"undefined"`
}

// groupGaps fills summary.Fairness for the compared metrics over the
// included groups.
func groupGaps(summary *GroupSummary, compared []string) error {
	var included []string
	for _, name := range slices.Sorted(maps.Keys(summary.Groups)) {
		if *summary.Groups[name]["count"] < float64(summary.MinGroupSize) {
			summary.ExcludedGroups = append(summary.ExcludedGroups, name)
		} else {
			included = append(included, name)
		}
	}
	if ref := summary.ReferenceGroup; ref != "" {
		if _, ok := summary.Groups[ref]; !ok {
			return &ReferenceGroupError{Column: summary.Column, Group: ref, Groups: slices.Sorted(maps.Keys(summary.Groups))}
		}
		if !slices.Contains(included, ref) {
			return fmt.Errorf("the reference group %q of %s is smaller than the minimum group size %d: pick a larger group",
				ref, summary.Column, summary.MinGroupSize)
		}
		summary.Reference = &SummaryReference{Group: ref, Groups: map[string]map[string]*float64{}, Undefined: map[string]string{}}
		for _, name := range included {
			if name != ref {
				summary.Reference.Groups[name] = map[string]*float64{}
			}
		}
	}
	for _, metric := range compared {
		gapsOf(summary, included, metric)
		if summary.Reference != nil {
			referenceGapsOf(summary, metric)
		}
	}
	return nil
}

// referenceGapsOf fills, for one metric, every group's difference from the
// reference group and fairness.<metric>ReferenceDifference, the largest
// absolute difference.
func referenceGapsOf(summary *GroupSummary, metric string) {
	ref := summary.Reference
	key := metric + "ReferenceDifference"
	base := summary.Groups[ref.Group][metric]
	var largest float64
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(ref.Groups)) {
		value := summary.Groups[name][metric]
		gapKey := "groups." + name + "." + metric + "Difference"
		if value == nil || base == nil {
			ref.Groups[name][metric+"Difference"] = nil
			ref.Undefined[gapKey] = metric + " is undefined for this group or for the reference group"
			missing = append(missing, name)
			continue
		}
		gap := finite(*value-*base, ref.Undefined, gapKey)
		ref.Groups[name][metric+"Difference"] = gap
		if gap == nil {
			missing = append(missing, name)
			continue
		}
		largest = max(largest, math.Abs(*gap))
	}

	switch {
	case base == nil:
		summary.Fairness[key] = nil
		summary.Undefined["fairness."+key] = fmt.Sprintf("%s is undefined for the reference group %q", metric, ref.Group)
	case len(missing) > 0:
		summary.Fairness[key] = nil
		summary.Undefined["fairness."+key] = fmt.Sprintf("%s is undefined for %s", metric, listGroups(missing))
	case len(ref.Groups) == 0:
		summary.Fairness[key] = nil
		summary.Undefined["fairness."+key] = "no other group is large enough to compare with the reference"
	default:
		summary.Fairness[key] = finite(largest, summary.Undefined, "fairness."+key)
	}
}

func gapsOf(summary *GroupSummary, included []string, metric string) {
	undefined := summary.Undefined
	keys := []string{metric + "Difference", metric + "Ratio"}
	fail := func(reason string) {
		for _, key := range keys {
			summary.Fairness[key] = nil
			undefined["fairness."+key] = reason
		}
	}
	if len(included) == 0 {
		fail(fmt.Sprintf("every group has fewer than %d rows (the minimum group size)", summary.MinGroupSize))
		return
	}
	var values []float64
	var missing []string
	for _, name := range included {
		if v := summary.Groups[name][metric]; v != nil {
			values = append(values, *v)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fail(fmt.Sprintf("%s is undefined for %s", metric, listGroups(missing)))
		return
	}
	summary.Fairness[metric+"Difference"] = finite(spread(values), undefined, "fairness."+metric+"Difference")
	summary.Fairness[metric+"Ratio"] = rangeRatio(values, undefined, "fairness."+metric+"Ratio",
		"the largest group value is 0, so the ratio is 0/0")
}

func ptr(v float64) *float64 { return &v }
