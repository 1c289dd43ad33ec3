package aibom

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Values of Input.PositiveOutcomes, as in the configuration's
// fairness.positive_outcome.
const (
	// OutcomeFavorable means a positive prediction benefits the person,
	// so the group with the lowest selection rate is at risk.
	OutcomeFavorable = "favorable"
	// OutcomeUnfavorable means a positive prediction harms the person,
	// so the group with the highest selection rate is at risk.
	OutcomeUnfavorable = "unfavorable"
)

// fairnessAssessments returns one assessment per evaluation and protected
// attribute whose groups have selection rates. outcomes maps an
// evaluation's name to OutcomeFavorable or OutcomeUnfavorable.
func fairnessAssessments(evals []evaluation, outcomes map[string]string) []cdx.MLModelCardFairnessAssessment {
	var out []cdx.MLModelCardFairnessAssessment
	for _, e := range evals {
		for _, column := range slices.Sorted(maps.Keys(e.Groups)) {
			g := e.Groups[column]
			if g == nil {
				continue
			}
			if a, ok := fairnessAssessment(e.Name, column, g, outcomes[e.Name]); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// ratedGroup is a group value and its selection rate.
type ratedGroup struct {
	value string
	rate  float64
}

// fairnessAssessment describes one protected attribute. The extremes and
// the group at risk are chosen among the groups that min_group_size keeps
// in the fairness measures, so that they agree with the quoted disparate
// impact ratio. It returns false when no group has a selection rate, as
// for multiclass and regression evaluations.
func fairnessAssessment(eval, column string, g *groupColumn, outcome string) (cdx.MLModelCardFairnessAssessment, bool) {
	var included, excluded []ratedGroup
	for _, value := range slices.Sorted(maps.Keys(g.Groups)) {
		rate, ok := float(g.Groups[value]["selectionRate"])
		if !ok {
			continue
		}
		if g.excluded(value) {
			excluded = append(excluded, ratedGroup{value, rate})
		} else {
			included = append(included, ratedGroup{value, rate})
		}
	}
	if len(included) == 0 && len(excluded) == 0 {
		return cdx.MLModelCardFairnessAssessment{}, false
	}

	var a cdx.MLModelCardFairnessAssessment
	var text []string
	lowest, highest := extremes(included)
	switch {
	case len(included) < 2:
		text = append(text, fmt.Sprintf("In evaluation %s, fewer than two groups of %s are included in the fairness measures, so no group at risk is named.", eval, column))
	case lowest[0].rate == highest[0].rate:
		text = append(text, fmt.Sprintf("In evaluation %s, every included group of %s has selection rate %s, so no group at risk is named.", eval, column, formatNumber(lowest[0].rate)))
	case outcome == OutcomeFavorable:
		a.GroupAtRisk = groupNames(column, lowest)
		text = append(text, fmt.Sprintf("In evaluation %s, a positive prediction is favorable, so the group at risk is the one with the lowest selection rate, %s (%s). The highest selection rate is that of %s (%s).",
			eval, a.GroupAtRisk, formatNumber(lowest[0].rate), groupNames(column, highest), formatNumber(highest[0].rate)))
	case outcome == OutcomeUnfavorable:
		a.GroupAtRisk = groupNames(column, highest)
		text = append(text, fmt.Sprintf("In evaluation %s, a positive prediction is unfavorable, so the group at risk is the one with the highest selection rate, %s (%s). The lowest selection rate is that of %s (%s).",
			eval, a.GroupAtRisk, formatNumber(highest[0].rate), groupNames(column, lowest), formatNumber(lowest[0].rate)))
	default:
		text = append(text, fmt.Sprintf("In evaluation %s, the lowest selection rate is that of %s (%s) and the highest that of %s (%s). Set fairness.positive_outcome to name the group at risk.",
			eval, groupNames(column, lowest), formatNumber(lowest[0].rate), groupNames(column, highest), formatNumber(highest[0].rate)))
	}

	if measures := fairnessMeasures(g); measures != "" {
		text = append(text, measures)
	}
	if len(excluded) > 0 {
		var names []string
		for _, r := range excluded {
			names = append(names, fmt.Sprintf("%s=%s (%s rows, selection rate %s)", column, r.value, string(g.Groups[r.value]["count"]), formatNumber(r.rate)))
		}
		text = append(text, fmt.Sprintf("Left out of the fairness measures for having fewer than %d rows: %s.", g.MinGroupSize, strings.Join(names, ", ")))
	}
	a.Harms = strings.Join(text, " ")
	return a, true
}

// extremes returns the groups with the lowest and with the highest
// selection rate, several when they tie.
func extremes(groups []ratedGroup) (lowest, highest []ratedGroup) {
	for _, r := range groups {
		switch {
		case len(lowest) == 0 || r.rate < lowest[0].rate:
			lowest = []ratedGroup{r}
		case r.rate == lowest[0].rate:
			lowest = append(lowest, r)
		}
		switch {
		case len(highest) == 0 || r.rate > highest[0].rate:
			highest = []ratedGroup{r}
		case r.rate == highest[0].rate:
			highest = append(highest, r)
		}
	}
	return lowest, highest
}

// fairnessMeasures returns a sentence quoting the column's fairness
// measures and whether the four-fifths rule is met, or "" when none is
// defined.
func fairnessMeasures(g *groupColumn) string {
	var parts []string
	for _, m := range []struct{ key, label string }{
		{"disparateImpactRatio", "disparate impact ratio"},
		{"demographicParityDifference", "demographic parity difference"},
		{"equalizedOddsDifference", "equalized odds difference"},
	} {
		if v, ok := float(g.Fairness[m.key]); ok {
			parts = append(parts, m.label+" "+formatNumber(v))
		}
	}
	var text string
	if len(parts) > 0 {
		text = "Over the included groups: " + strings.Join(parts, ", ") + "."
	}
	switch string(g.Fairness["fourFifthsRule"]) {
	case "true":
		text += " The four-fifths rule is met."
	case "false":
		text += " The four-fifths rule is not met."
	}
	return strings.TrimSpace(text)
}

// groupNames returns groups as "COLUMN=VALUE", joined with ", " when
// several tie.
func groupNames(column string, groups []ratedGroup) string {
	var names []string
	for _, r := range groups {
		names = append(names, column+"="+r.value)
	}
	return strings.Join(names, ", ")
}

// formatNumber writes a rate or a fairness measure in the prose of harms
// with four significant digits, as %.4g does; the performance metrics
// keep every digit.
func formatNumber(r float64) string { return strconv.FormatFloat(r, 'g', 4, 64) }
