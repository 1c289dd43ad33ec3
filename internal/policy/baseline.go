package policy

import (
	"encoding/json"
	"fmt"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// OutcomeNoBaseline is the outcome of a rule that only bounds the change
// from a baseline (max_drop, max_increase, no min or max) when there is no
// baseline value to compare with. It never blocks and does not change the
// verdict's result.
const OutcomeNoBaseline Outcome = "no-baseline"

// deltaTolerance absorbs the rounding of a subtraction, so that a drop of
// exactly max_drop, such as 0.80 to 0.75 with max_drop 0.05, passes.
const deltaTolerance = 1e-12

// validateBaselineBounds rejects negative max_drop and max_increase.
func validateBaselineBounds(doc *strictyaml.Document, key string, r *Rule) []error {
	var errs []error
	if r.MaxDrop != nil && *r.MaxDrop < 0 {
		errs = append(errs, doc.Errorf(key+".max_drop", "must be zero or positive, got %v: it is how far the value may fall below the baseline", *r.MaxDrop))
	}
	if r.MaxIncrease != nil && *r.MaxIncrease < 0 {
		errs = append(errs, doc.Errorf(key+".max_increase", "must be zero or positive, got %v: it is how far the value may rise above the baseline", *r.MaxIncrease))
	}
	return errs
}

// decodeBaseline parses the baseline metrics document; nil stays nil.
func decodeBaseline(baseline []byte) (any, error) {
	if baseline == nil {
		return nil, nil
	}
	var tree any
	if err := json.Unmarshal(baseline, &tree); err != nil {
		return nil, fmt.Errorf("decoding the baseline metrics document: %w", err)
	}
	return tree, nil
}

// lookupNumber returns the number at the concrete path in tree.
func lookupNumber(tree any, path []string) (float64, bool) {
	node := tree
	for _, seg := range path {
		obj, ok := node.(map[string]any)
		if !ok {
			return 0, false
		}
		if node, ok = obj[seg]; !ok {
			return 0, false
		}
	}
	v, ok := node.(float64)
	return v, ok
}

// compareBaseline records the baseline value and delta of r when the
// baseline has a number at path, and applies the rule's max_drop and
// max_increase. A result that failed its min or max keeps that outcome.
func compareBaseline(rule Rule, r Result, path []string, base any) Result {
	r.MaxDrop, r.MaxIncrease = rule.MaxDrop, rule.MaxIncrease
	if baseValue, ok := lookupNumber(base, path); ok && r.Value != nil {
		delta := *r.Value - baseValue
		r.Baseline, r.Delta = &baseValue, &delta
	}
	if rule.MaxDrop == nil && rule.MaxIncrease == nil || r.Value == nil {
		return r
	}

	// Without a baseline value, the change cannot be checked.
	if r.Baseline == nil {
		if rule.Min == nil && rule.Max == nil {
			r.Outcome = OutcomeNoBaseline
			r.Message = fmt.Sprintf("%s is %s; there is no baseline value to compare with, so the change is not checked", r.Metric, Format(*r.Value))
		} else {
			r.Message += "; there is no baseline value, so the change is not checked"
		}
		return r
	}

	change := fmt.Sprintf("a change of %s from the baseline %s", signed(*r.Delta), Format(*r.Baseline))
	failed := OutcomeFail
	if rule.Severity == SeverityWarn {
		failed = OutcomeWarn
	}
	switch {
	case r.Outcome != OutcomePass:
		r.Message += "; " + change
	case rule.MaxDrop != nil && -*r.Delta > *rule.MaxDrop+deltaTolerance:
		r.Outcome = failed
		r.Message = fmt.Sprintf("%s is %s, %s, a drop of more than max_drop %s", r.Metric, Format(*r.Value), change, Format(*rule.MaxDrop))
	case rule.MaxIncrease != nil && *r.Delta > *rule.MaxIncrease+deltaTolerance:
		r.Outcome = failed
		r.Message = fmt.Sprintf("%s is %s, %s, an increase of more than max_increase %s", r.Metric, Format(*r.Value), change, Format(*rule.MaxIncrease))
	default:
		r.Message += "; " + change + ", within the allowed change"
	}
	return r
}

// signed formats a delta with its sign, such as "+0.01" or "-0.02".
func signed(d float64) string {
	if d >= 0 {
		return "+" + Format(d)
	}
	return Format(d)
}

// BaselineStatus says whether and how a baseline pack was used.
type BaselineStatus string

// Baseline statuses.
const (
	// BaselineVerified: the pack's signature verified and it was used.
	BaselineVerified BaselineStatus = "verified"
	// BaselineUnverified: the pack could not be verified and was used
	// because the configuration allows unverified baselines.
	BaselineUnverified BaselineStatus = "unverified"
	// BaselineRefused: the pack could not be verified and was not used.
	BaselineRefused BaselineStatus = "refused"
	// BaselineMissing: no baseline pack was found.
	BaselineMissing BaselineStatus = "missing"
	// BaselineDisabled: the configuration asks for no baseline.
	BaselineDisabled BaselineStatus = "none"
)

// BaselineInfo records the baseline of a verdict.
type BaselineInfo struct {
	// Source names where the pack was looked for, such as
	// "release v1.2.0, asset auditpack-out.tar.gz" or "path base.tar.gz".
	Source string         `json:"source"`
	Status BaselineStatus `json:"status"`
	// Signer names the key that verified the pack; empty unless verified.
	Signer string `json:"signer,omitempty"`
	// SHA256 is the digest of the baseline archive or, for a directory,
	// of its index.json; empty when no pack was read.
	SHA256 string `json:"sha256,omitempty"`
	// Reason explains a status other than verified, in one sentence.
	Reason string `json:"reason,omitempty"`
}

// Used reports whether the baseline's metrics were compared with.
func (b *BaselineInfo) Used() bool {
	return b != nil && (b.Status == BaselineVerified || b.Status == BaselineUnverified)
}
