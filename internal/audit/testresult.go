package audit

import (
	"fmt"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/policy"
)

// TestResult is the in-toto test-result predicate v0.1
// (https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md)
// of the policy verdict. Each test is named "RULE_ID METRIC_PATH", one per
// rule applied to one metric.
type TestResult struct {
	// Result is PASSED, WARNED or FAILED, from the verdict.
	Result string `json:"result"`
	// Configuration lists the policy files with their SHA-256.
	Configuration []ResourceDescriptor `json:"configuration"`
	// URL is the CI run's web page; empty outside CI.
	URL         string   `json:"url,omitempty"`
	PassedTests []string `json:"passedTests"`
	WarnedTests []string `json:"warnedTests"`
	FailedTests []string `json:"failedTests"`
}

// testResultStatement attests the policy verdict as an in-toto test
// result.
func (b *build) testResultStatement() statement {
	pred := TestResult{
		Configuration: []ResourceDescriptor{},
		PassedTests:   []string{},
		WarnedTests:   []string{},
		FailedTests:   []string{},
	}
	switch b.verdict.Result {
	case policy.OutcomeFail:
		pred.Result = "FAILED"
	case policy.OutcomeWarn:
		pred.Result = "WARNED"
	default:
		pred.Result = "PASSED"
	}
	for _, p := range b.verdict.Policies {
		pred.Configuration = append(pred.Configuration, ResourceDescriptor{Name: p.Path, Digest: map[string]string{"sha256": p.SHA256}})
	}
	for _, r := range b.verdict.Results {
		name := fmt.Sprintf("%s %s", r.RuleID, r.Metric)
		switch r.Outcome {
		case policy.OutcomeFail:
			pred.FailedTests = append(pred.FailedTests, name)
		case policy.OutcomeWarn:
			pred.WarnedTests = append(pred.WarnedTests, name)
		case policy.OutcomePass:
			pred.PassedTests = append(pred.PassedTests, name)
		}
		// A rule that applied to no evaluation, or had no baseline value
		// to compare with, was not tested, so it is in none of the lists.
	}
	if bc := b.opts.Build; bc != nil && bc.Repository != "" && bc.RunID != "" {
		server := firstNonEmpty(bc.ServerURL, "https://github.com")
		pred.URL = fmt.Sprintf("%s/%s/actions/runs/%s", server, bc.Repository, bc.RunID)
	}
	return statement{name: "policy", predicateType: attest.PredicateTestResult, predicate: pred}
}
