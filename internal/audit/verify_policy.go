package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/policy"
)

// PolicyError is a --policy file that does not fit the verified pack: a
// rule whose metric path the signed metrics do not have, or a file of
// which no rule applies to the pack. It is a mistake in the verifier's own
// policy, not in the pack, so Verify returns it instead of failing a
// check.
type PolicyError struct {
	Err error
}

func (e *PolicyError) Error() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }

// checkPolicies evaluates the consumer's policies against a verified
// evaluation predicate, as run evaluates the configured ones. The rules
// apply to the signed metrics. Each licences section applies to the
// signed licences of the model and of every dataset of the signed lineage.
// The predicate bytes are the verified payload's, and nothing else is
// read. It returns a *PolicyError, and adds no check, when a file does not
// fit the pack.
func checkPolicies(name string, predicate []byte, files []policy.File, report *Report) error {
	var pred EvaluationPredicate
	if err := json.Unmarshal(predicate, &pred); err != nil {
		report.add("policy", fmt.Errorf("%s: reading the predicate: %w", name, err), "")
		return nil
	}
	var licences []policy.Licensed
	if slices.ContainsFunc(files, func(f policy.File) bool { return f.Licenses != nil }) {
		// The datasets' licences are in the signed lineage.
		var lin lineage.Lineage
		if err := json.Unmarshal(pred.Lineage, &lin); err != nil {
			report.add("policy", fmt.Errorf("%s: reading the lineage of the predicate for the datasets' licences: %w", name, err), "")
			return nil
		}
		licences = signedLicences(pred, lin)
	}

	// Each file is evaluated on its own, so that a file of which no rule
	// applies can be named.
	var results []policy.Result
	var counts policy.Counts
	var usage, failures []error
	for _, f := range files {
		v, err := evaluatePolicyFile(name, pred.Metrics, f, licences)
		var policyErr *PolicyError
		switch {
		case errors.As(err, &policyErr):
			usage = append(usage, policyErr.Err)
			continue
		case err != nil:
			failures = append(failures, err)
			continue
		}
		results = append(results, v.Results...)
		counts.Passed += v.Counts.Passed
		counts.Warned += v.Counts.Warned
		counts.Failed += v.Counts.Failed
		counts.NotApplicable += v.Counts.NotApplicable
	}
	if len(usage) > 0 {
		return &PolicyError{Err: errors.Join(usage...)}
	}
	if len(failures) > 0 {
		report.add("policy", errors.Join(failures...), "")
		return nil
	}
	result := policy.OutcomePass
	switch {
	case counts.Failed > 0:
		result = policy.OutcomeFail
	case counts.Warned > 0:
		result = policy.OutcomeWarn
	}

	var refs []string
	for _, f := range files {
		refs = append(refs, f.Path)
	}
	summary := fmt.Sprintf("%s against the signed metrics and licences: %s (%d passed, %d warned, %d failed",
		strings.Join(refs, ", "), result, counts.Passed, counts.Warned, counts.Failed)
	if n := counts.NotApplicable; n > 0 {
		summary += fmt.Sprintf(", %d not applicable", n)
	}
	summary += ")"
	if result != policy.OutcomeFail {
		report.add("policy", nil, summary)
		return nil
	}
	var failed []string
	for _, r := range results {
		if r.Blocking() {
			failed = append(failed, fmt.Sprintf("%s at %s: %s", r.RuleID, r.Metric, r.Message))
		}
	}
	report.add("policy", fmt.Errorf("%s; failed: %s", summary, strings.Join(failed, "; ")), "")
	return nil
}

// evaluatePolicyFile applies one policy file to the signed metrics and
// licences of the evaluation statement name. A rule that does not resolve
// against the metrics, and a file of which no rule applies, are a
// *PolicyError. A licence expression of the statement that is not valid
// SPDX, or missing metrics, is another error, because the pack is at fault.
func evaluatePolicyFile(name string, metrics json.RawMessage, f policy.File, licences []policy.Licensed) (*policy.Verdict, error) {
	v := &policy.Verdict{Result: policy.OutcomePass}
	if len(f.Rules) > 0 {
		if len(metrics) == 0 || string(metrics) == "null" {
			return nil, fmt.Errorf("%s: the predicate carries no metrics for the rules of %s", name, f.Path)
		}
		var err error
		// The error names the file, the line and the keys that exist.
		if v, err = policy.Evaluate(metrics, []policy.File{f}); err != nil {
			return nil, &PolicyError{Err: err}
		}
	}
	if err := policy.EvaluateLicenses(v, []policy.File{f}, licences); err != nil {
		return nil, fmt.Errorf("%s: the signed licences cannot be checked against %s: %w", name, f.Path, err)
	}

	if applied := v.Counts.Passed + v.Counts.Warned + v.Counts.Failed; applied == 0 {
		reason := "it has neither rules nor a licences section"
		switch {
		case v.Counts.NotApplicable > 0:
			reason = fmt.Sprintf("none of its %d rule(s) applies (%s)", v.Counts.NotApplicable, firstNotApplicable(v.Results))
		case len(f.Rules) > 0:
			reason = fmt.Sprintf("its %d rule(s) match no metric of the signed metrics", len(f.Rules))
		}
		return nil, &PolicyError{Err: fmt.Errorf("--policy %s has no rule that applies to %s: %s, so 0 rules were applied; pass a policy whose rules apply to the pack's evaluations", f.Path, name, reason)}
	}
	return v, nil
}

// signedLicences lists the licences a verified evaluation predicate
// records, under the same paths as run checks them with the
// configuration: model.license and datasets.NAME.license.
func signedLicences(pred EvaluationPredicate, lin lineage.Lineage) []policy.Licensed {
	datasets := make([][2]string, len(lin.Datasets))
	for i, d := range lin.Datasets {
		datasets[i] = [2]string{d.Name, d.License}
	}
	return licenceItems(pred.Model.License, datasets)
}

// checkNoBaselineRules rejects rules that bound the change from a
// baseline (max_drop, max_increase): verify has no baseline to compare
// with, and policy.Evaluate would report such a rule as passing.
func checkNoBaselineRules(files []policy.File) error {
	var errs []error
	for _, f := range files {
		for _, r := range f.Rules {
			for _, bound := range []struct {
				key   string
				value *float64
			}{{"max_drop", r.MaxDrop}, {"max_increase", r.MaxIncrease}} {
				if bound.value != nil {
					errs = append(errs, fmt.Errorf("%s: %s", f.Path, BaselineRuleMessage(r.ID, bound.key)))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// BaselineRuleMessage returns the message with which verify rejects rule
// id because it uses key (max_drop or max_increase).
func BaselineRuleMessage(id, key string) string {
	return fmt.Sprintf("rule %s uses %s, which compares with a baseline; verify has none: remove the rule or check it with run", id, key)
}

// firstNotApplicable returns the reason of the first not-applicable
// result, which names the rule.
func firstNotApplicable(results []policy.Result) string {
	for _, r := range results {
		if r.Outcome == policy.OutcomeNotApplicable {
			return "rule " + r.RuleID + ": " + r.Message
		}
	}
	return ""
}
