package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Outcome of one rule on one metric, and of a whole verdict.
type Outcome string

// Outcomes. A verdict is OutcomeFail when any blocking rule failed,
// OutcomeWarn when only warning rules failed, and OutcomePass otherwise.
const (
	OutcomePass Outcome = "pass"
	OutcomeWarn Outcome = "warn"
	OutcomeFail Outcome = "fail"
	// OutcomeNotApplicable is the one result of a rule with tasks or
	// stressed when no evaluation it selects is there to check. It never
	// blocks and does not change the verdict's result.
	OutcomeNotApplicable Outcome = "not-applicable"
)

// Verdict is the result of evaluating every rule; it is written to
// policy.json.
type Verdict struct {
	Result   Outcome  `json:"result"`
	Policies []File   `json:"policies"`
	Counts   Counts   `json:"counts"`
	Results  []Result `json:"results"`
	// Baseline says which baseline pack the results were compared with,
	// or why none was; nil when no baseline was looked for.
	Baseline *BaselineInfo `json:"baseline,omitempty"`
}

// Counts tallies the results of a verdict.
type Counts struct {
	Passed int `json:"passed"`
	Warned int `json:"warned"`
	Failed int `json:"failed"`
	// NoBaseline counts results of rules that only bound the change from
	// a baseline, evaluated without one; they never block.
	NoBaseline int `json:"noBaseline,omitempty"`
	// NotApplicable counts rules with tasks that matched no evaluation.
	NotApplicable int `json:"notApplicable,omitempty"`
}

// Result is one rule applied to one concrete metric path.
type Result struct {
	RuleID      string   `json:"ruleId"`
	Description string   `json:"description,omitempty"`
	Policy      string   `json:"policy"`
	Metric      string   `json:"metric"`
	Severity    Severity `json:"severity"`
	// Tasks are the rule's tasks; empty when it applies to every
	// evaluation.
	Tasks []string `json:"tasks,omitempty"`
	// Stressed is the rule's stressed: true when it applies only to
	// stressed evaluations.
	Stressed bool     `json:"stressed,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	// Value is the measured value; nil when the metric is undefined, for
	// a licence result and for a rule that did not apply.
	Value *float64 `json:"value"`
	// License is the licence expression that a licence result checked;
	// empty when none is declared and for other results.
	License string `json:"license,omitempty"`
	// MaxDrop and MaxIncrease are the rule's bounds on the change from the
	// baseline; Baseline is the baseline pack's value of the same path
	// and Delta is Value minus Baseline. Baseline and Delta are nil when
	// there is no baseline value to compare with.
	MaxDrop     *float64 `json:"maxDrop,omitempty"`
	MaxIncrease *float64 `json:"maxIncrease,omitempty"`
	Baseline    *float64 `json:"baseline,omitempty"`
	Delta       *float64 `json:"delta,omitempty"`
	Outcome     Outcome  `json:"outcome"`
	// Message explains the outcome in one sentence.
	Message string `json:"message"`
}

// Blocking reports whether the result is a failed blocking rule.
func (r Result) Blocking() bool { return r.Outcome == OutcomeFail }

// Evaluate applies every rule of files to metrics, the metrics document as
// JSON. A rule whose path names a key that does not exist is an error,
// because a typo must never pass silently. A "*" segment that expands over
// an empty map gives no results for that rule.
func Evaluate(metrics []byte, files []File) (*Verdict, error) {
	return EvaluateBaseline(metrics, nil, files)
}

// EvaluateBaseline is Evaluate with baseline, the metrics document of the
// baseline pack, to compare with; nil means there is no baseline. Every
// result whose path has a numeric value in the baseline records that value
// and the delta; rules with max_drop or max_increase are checked against
// it (see baseline.go).
func EvaluateBaseline(metrics, baseline []byte, files []File) (*Verdict, error) {
	var tree any
	if err := json.Unmarshal(metrics, &tree); err != nil {
		return nil, fmt.Errorf("decoding metrics document: %w", err)
	}
	base, err := decodeBaseline(baseline)
	if err != nil {
		return nil, err
	}

	v := &Verdict{Result: OutcomePass, Policies: files, Results: []Result{}}
	var errs []error
	for _, f := range files {
		for _, rule := range f.Rules {
			results, err := evaluateRule(tree, base, rule)
			v.Results = append(v.Results, results...)
			errs = append(errs, err...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	v.tally()
	return v, nil
}

// evaluateRule applies rule to every metric its path matches in tree, or
// gives its one not-applicable result. A path that cannot be resolved is
// one error; values that are not numbers give one error each.
func evaluateRule(tree, base any, rule Rule) ([]Result, []error) {
	pathError := func(err error) []error {
		return []error{&strictyaml.Error{File: rule.file, Line: rule.metricLine, Key: "metric",
			Msg: fmt.Sprintf("rule %s: %v", rule.ID, err)}}
	}
	path, err := splitPath(rule.Metric)
	if err != nil {
		return nil, pathError(err)
	}
	scoped, skipped, err := scope(tree, rule, path)
	if err != nil {
		return nil, pathError(fmt.Errorf("metric path %q: %w", rule.Metric, err))
	}
	if skipped != "" {
		return []Result{notApplicable(rule, skipped)}, nil
	}
	matches, err := resolve(scoped, path)
	if err != nil {
		return nil, pathError(fmt.Errorf("metric path %q: %w", rule.Metric, err))
	}
	if len(matches) == 0 {
		// Reported, so that removing the group columns from a
		// configuration cannot drop a rule without a trace.
		return []Result{notApplicable(rule, "its path matches no metric, because a * in it stands over an empty map (such as the groups of an evaluation without group columns)")}, nil
	}
	return applyAll(rule, matches, base, nil, nil)
}

// tally counts the results by outcome and sets the verdict's result.
func (v *Verdict) tally() {
	v.Counts = Counts{}
	for _, r := range v.Results {
		switch r.Outcome {
		case OutcomePass:
			v.Counts.Passed++
		case OutcomeWarn:
			v.Counts.Warned++
		case OutcomeFail:
			v.Counts.Failed++
		case OutcomeNoBaseline:
			v.Counts.NoBaseline++
		case OutcomeNotApplicable:
			v.Counts.NotApplicable++
		}
	}
	switch {
	case v.Counts.Failed > 0:
		v.Result = OutcomeFail
	case v.Counts.Warned > 0:
		v.Result = OutcomeWarn
	default:
		v.Result = OutcomePass
	}
}

// applyAll applies rule to each of its matches, appending the results to
// results and the problems to errs.
func applyAll(rule Rule, matches []match, base any, results []Result, errs []error) ([]Result, []error) {
	for _, m := range matches {
		r, err := apply(rule, m)
		if err != nil {
			errs = append(errs, &strictyaml.Error{File: rule.file, Line: rule.metricLine, Key: "metric",
				Msg: fmt.Sprintf("rule %s: %v", rule.ID, err)})
			continue
		}
		results = append(results, compareBaseline(rule, r, m.path, base))
	}
	return results, errs
}

// match is one concrete metric path with its value and, for a null value,
// the reason the metrics document gives.
type match struct {
	path      []string
	value     any
	undefined string
}

// resolve expands path against tree. ancestors carry the maps passed on the
// way down, so that the reason for a null value can be found in the nearest
// "undefined" map.
func resolve(tree any, path []segment) ([]match, error) {
	var out []match
	var walk func(node any, i int, seen []string, ancestors []map[string]any) error
	walk = func(node any, i int, seen []string, ancestors []map[string]any) error {
		if i == len(path) {
			m := match{path: slices.Clone(seen), value: node}
			if node == nil {
				m.undefined = undefinedReason(ancestors, seen)
			}
			out = append(out, m)
			return nil
		}
		obj, ok := node.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not a map, so it has no key %q", formatPath(seen), path[i].key)
		}
		ancestors = append(ancestors, obj)
		if path[i].wildcard {
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				if err := walk(obj[k], i+1, append(seen, k), ancestors); err != nil {
					return err
				}
			}
			return nil
		}
		key := path[i].key
		child, ok := obj[key]
		if !ok {
			return missingKey(obj, seen, key, path[i:])
		}
		return walk(child, i+1, append(seen, key), ancestors)
	}
	if err := walk(tree, 0, nil, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// missingKey is the error for a key that the map obj, reached by seen,
// does not have; rest is the path from that key on. It lists the keys
// that exist, each written as a path segment, and suggests the quoted
// form when the key and the segments after it join to a key with a '.'.
func missingKey(obj map[string]any, seen []string, key string, rest []segment) error {
	where := formatPath(seen)
	if where == "" {
		where = "the metrics document"
	}
	if len(obj) == 0 {
		// evaluations.NAME.groups is the one map that is empty in a
		// normal metrics document.
		if len(seen) == 3 && seen[0] == "evaluations" && seen[2] == "groups" {
			return fmt.Errorf("%s has no key %q: it is empty, because the evaluation has no group columns; set groups in the evaluation's configuration", where, key)
		}
		return fmt.Errorf("%s has no key %q: it is empty", where, key)
	}
	keys := slices.Sorted(maps.Keys(obj))
	for i, k := range keys {
		keys[i] = formatKey(k)
	}
	if suggestion := quotedSuggestion(obj, seen, rest); suggestion != "" {
		return fmt.Errorf("%s has no key %q; it has %s. A key that contains '.' is written in double quotes: %s", where, key, strings.Join(keys, ", "), suggestion)
	}
	return fmt.Errorf("%s has no key %q; it has %s", where, key, strings.Join(keys, ", "))
}

// quotedSuggestion returns the metric path with the key of obj quoted when
// the unquoted segments of rest, joined by '.', begin with that key, such
// as groups."13.0".accuracy for groups.13.0.accuracy. It returns "" when
// no key of obj matches. The longest match wins.
func quotedSuggestion(obj map[string]any, seen []string, rest []segment) string {
	var keys []string
	for _, seg := range rest {
		if seg.wildcard {
			break
		}
		keys = append(keys, seg.key)
	}
	for n := len(keys); n >= 2; n-- {
		joined := strings.Join(keys[:n], ".")
		if _, ok := obj[joined]; !ok {
			continue
		}
		parts := []string{}
		if len(seen) > 0 {
			parts = append(parts, formatPath(seen))
		}
		parts = append(parts, formatKey(joined))
		for _, seg := range rest[n:] {
			if seg.wildcard {
				parts = append(parts, "*")
			} else {
				parts = append(parts, formatKey(seg.key))
			}
		}
		return strings.Join(parts, ".")
	}
	return ""
}

// undefinedReason looks for the reason of a null metric in the "undefined"
// maps of its ancestors, nearest first. ancestors[i] is the map reached after
// the first i segments of seen. A reason is keyed by the path below the map
// that holds it, with or without the container that follows: both
// {"undefined": {"rocAuc": …}} beside "metrics" and
// {"undefined": {"fairness.equalizedOddsRatio": …}} are found.
func undefinedReason(ancestors []map[string]any, seen []string) string {
	for i := len(ancestors) - 1; i >= 0; i-- {
		reasons, ok := ancestors[i]["undefined"].(map[string]any)
		if !ok {
			continue
		}
		for _, rel := range [][]string{seen[i:], seen[min(i+1, len(seen)):]} {
			if r, ok := reasons[strings.Join(rel, ".")].(string); ok {
				return r
			}
		}
	}
	return "the metrics document gives no value"
}

func apply(rule Rule, m match) (Result, error) {
	r := Result{
		RuleID:      rule.ID,
		Description: rule.Description,
		Policy:      rule.file,
		Metric:      formatPath(m.path),
		Severity:    rule.Severity,
		Tasks:       rule.Tasks,
		Stressed:    rule.Stressed,
		Min:         rule.Min,
		Max:         rule.Max,
	}
	failed := OutcomeFail
	if rule.Severity == SeverityWarn {
		failed = OutcomeWarn
	}

	switch val := m.value.(type) {
	case nil:
		r.Outcome = failed
		r.Message = fmt.Sprintf("%s is undefined (%s), so the rule cannot be shown to hold", r.Metric, m.undefined)
		return r, nil
	case float64:
		r.Value = &val
	default:
		return r, fmt.Errorf("metric path %q resolves to %s, not a number", r.Metric, describe(val))
	}

	value := *r.Value
	switch {
	case rule.Min != nil && value < *rule.Min:
		r.Outcome = failed
		r.Message = fmt.Sprintf("%s is %s, below the minimum %s", r.Metric, Format(value), Format(*rule.Min))
	case rule.Max != nil && value > *rule.Max:
		r.Outcome = failed
		r.Message = fmt.Sprintf("%s is %s, above the maximum %s", r.Metric, Format(value), Format(*rule.Max))
	case rule.Min == nil && rule.Max == nil:
		// Only max_drop or max_increase: compareBaseline decides.
		r.Outcome = OutcomePass
		r.Message = fmt.Sprintf("%s is %s", r.Metric, Format(value))
	default:
		r.Outcome = OutcomePass
		r.Message = fmt.Sprintf("%s is %s, %s", r.Metric, Format(value), bounds(rule.Min, rule.Max))
	}
	return r, nil
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return "true or false"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// bounds describes a value that passed the rule's bounds lo and hi, of
// which at least one is set.
func bounds(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("within [%s, %s]", Format(*lo), Format(*hi))
	case lo != nil:
		return "at or above the minimum " + Format(*lo)
	default:
		return "at or below the maximum " + Format(*hi)
	}
}

// Format renders a metric value for people: six significant digits, so that
// a value just below a threshold never prints as the threshold itself.
func Format(v float64) string {
	s := strconv.FormatFloat(v, 'g', 6, 64)
	if strings.ContainsRune(s, 'e') {
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}
