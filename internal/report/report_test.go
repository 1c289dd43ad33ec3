package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/policy"
)

func ptr(v float64) *float64 { return &v }

func verdict(n int) *policy.Verdict {
	v := &policy.Verdict{Result: policy.OutcomeFail, Counts: policy.Counts{Failed: n}}
	for i := range n {
		v.Results = append(v.Results, policy.Result{
			RuleID: fmt.Sprintf("rule-%d", i), Metric: "evaluations.holdout.groups.zip.groups." + strings.Repeat("x", 80) + ".fpr",
			Severity: policy.SeverityBlock, Min: ptr(0.7), Value: ptr(0.5), Baseline: ptr(0.6), Delta: ptr(-0.1),
			Outcome: policy.OutcomeFail,
		})
	}
	return v
}

func TestCommentFitsLimit(t *testing.T) {
	tests := []struct {
		name     string
		results  int
		want     string
		dontWant string
	}{
		{name: "small shows every check", results: 3, want: "<details><summary>Every rule check (3)"},
		{name: "large drops the full table", results: 300, want: "100 more are listed in the job summary", dontWant: "<details>"},
		{name: "huge lists the first findings", results: 3000, want: "2800 more are listed in the job summary", dontWant: "<details>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := Comment("<!-- auditpack:x -->", Input{Model: "m", Verdict: verdict(tt.results), Links: Links{Run: "https://github.com/o/r/actions/runs/1"}})
			if n := utf8.RuneCountInString(body); n > MaxCommentLength {
				t.Fatalf("comment has %d characters, over %d", n, MaxCommentLength)
			}
			if !strings.HasPrefix(body, "<!-- auditpack:x -->\n") {
				t.Errorf("comment does not start with the marker")
			}
			if !strings.Contains(body, tt.want) {
				t.Errorf("comment lacks %q", tt.want)
			}
			if tt.dontWant != "" && strings.Contains(body, tt.dontWant) {
				t.Errorf("comment contains %q", tt.dontWant)
			}
		})
	}
}

func TestRenderBaselineAndChanges(t *testing.T) {
	v := &policy.Verdict{
		Result: policy.OutcomePass, Counts: policy.Counts{Passed: 1, NoBaseline: 1},
		Results: []policy.Result{
			{RuleID: "acc", Metric: "a|b", Min: ptr(0.7), MaxDrop: ptr(0.05), Value: ptr(0.8), Baseline: ptr(0.82), Delta: ptr(-0.02), Outcome: policy.OutcomePass},
			{RuleID: "auc-drop", Metric: "auc", MaxDrop: ptr(0.01), Value: ptr(0.9), Outcome: policy.OutcomeNoBaseline},
		},
		Baseline: &policy.BaselineInfo{Source: "release v1", Status: policy.BaselineRefused, Reason: "refused because its signature did not verify"},
	}
	in := Input{Verdict: v, Proposed: []PolicyChange{{Path: "policies/team.yaml", Change: "modified", BaseSHA256: "aaaaaaaaaaaaaaaa", HeadSHA256: "bbbbbbbbbbbbbbbb"}}}
	for name, text := range map[string]string{"comment": Comment("<!-- m -->", in), "summary": Summary(in)} {
		for _, want := range []string{
			"1 not checked for lack of a baseline",
			"Baseline: release v1, **not used**: refused because its signature did not verify.",
			"| ✅ passed | acc | a\\|b | 0.8 | ≥ 0.7, drop ≤ 0.05 | 0.82 | -0.02 |",
			"| ➖ no baseline | auc-drop | auc | 0.9 | drop ≤ 0.01 | – | – |",
			"| `policies/team.yaml` | modified | `aaaaaaaaaaaa` | `bbbbbbbbbbbb` |",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
	}
}

func TestNeutralizeMentions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"@octocat", "@\u200boctocat"},
		{"ping @org/team now", "ping @\u200borg/team now"},
		{"(@a)", "(@\u200ba)"},
		{"owner t@example.com", "owner t@example.com"},
		{"first.last@example.com", "first.last@example.com"},
		{"@", "@"},
		{"a @ b", "a @ b"},
		{"@@x", "@@\u200bx"},
	}
	for _, tt := range tests {
		if got := neutralizeMentions(tt.in); got != tt.want {
			t.Errorf("neutralizeMentions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUntrustedTextMentionsNobody(t *testing.T) {
	v := &policy.Verdict{
		Result: policy.OutcomeFail, Counts: policy.Counts{Failed: 1},
		Results:  []policy.Result{{RuleID: "fpr", Metric: "evaluations.x.groups.handle.groups.@octocat.fpr", Max: ptr(0.1), Value: ptr(0.5), Outcome: policy.OutcomeFail}},
		Baseline: &policy.BaselineInfo{Source: "release v1", Status: policy.BaselineRefused, Reason: "signed by @mallory"},
	}
	in := Input{Model: "@org/team model", Verdict: v, Notes: []string{"cc @someone"}, Signing: "key of @signer",
		CardSummary: "# Audit summary: @org/team model\n\nOwner: t@example.com\n"}
	for name, text := range map[string]string{"comment": Comment("<!-- m -->", in), "summary": Summary(in)} {
		for _, handle := range []string{"@octocat", "@mallory", "@org", "@someone", "@signer"} {
			if strings.Contains(text, handle) {
				t.Errorf("%s contains the live mention %q", name, handle)
			}
		}
	}
	if summary := Summary(in); !strings.Contains(summary, "Owner: t@example.com") {
		t.Errorf("summary changed an e-mail address:\n%s", summary)
	}
}

func TestRenderLicencesNotApplicableAndDirtyTree(t *testing.T) {
	v := &policy.Verdict{
		Result: policy.OutcomeFail, Counts: policy.Counts{Passed: 1, Failed: 2, NotApplicable: 1},
		Results: []policy.Result{
			{RuleID: "licenses", Metric: "model.license", License: "MIT", Outcome: policy.OutcomePass,
				Message: "licence MIT: permitted by the allow-list (MIT)"},
			{RuleID: "licenses", Metric: "datasets.train.license", License: "CC-BY-NC-4.0", Outcome: policy.OutcomeFail,
				Message: "licence CC-BY-NC-4.0: needs denied licence(s) CC-BY-NC-4.0"},
			{RuleID: "licenses", Metric: "datasets.eval.license", Outcome: policy.OutcomeFail,
				Message: "no licence is declared; set it as an SPDX expression"},
			{RuleID: "r2-floor", Metric: "evaluations.*.metrics.r2", Tasks: []string{"regression"}, Min: ptr(0),
				Outcome: policy.OutcomeNotApplicable, Message: "no evaluation has task regression, so the rule was not applied"},
		},
	}
	in := Input{Verdict: v, Dirty: true, Changed: []string{"eval/predictions.csv", ".auditpack.yml"}}
	for name, text := range map[string]string{"comment": Comment("<!-- m -->", in), "summary": Summary(in)} {
		for _, want := range []string{
			"1 rule check passed, 0 warned, 2 failed, 1 rule not applicable.",
			"> The pack was made from a working tree with uncommitted changes (`eval/predictions.csv`, `.auditpack.yml`), so it does not describe a committed state.",
			"| ✅ passed | licenses | model.license | MIT | permitted by the allow-list (MIT) | – | – |",
			"| ❌ failed (blocks) | licenses | datasets.train.license | CC-BY-NC-4.0 | needs denied licence(s) CC-BY-NC-4.0 | – | – |",
			"| ❌ failed (blocks) | licenses | datasets.eval.license | none declared | no licence is declared; set it as an SPDX expression | – | – |",
			"| ➖ not applicable | r2-floor | evaluations.*.metrics.r2 | – | ≥ 0 | – | – |",
			"Not applicable (these never block):\n\n- r2-floor: no evaluation has task regression, so the rule was not applied\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, text)
			}
		}
		if strings.Contains(text, "#### Failed and warned rules\n\n| Outcome | Rule | Metric | Value | Threshold | Baseline | Change |\n| --- | --- | --- | ---: | --- | ---: | ---: |\n| ➖") {
			t.Errorf("%s lists a not-applicable rule among the findings", name)
		}
	}
}

func TestSetRepository(t *testing.T) {
	repo := &lineage.Repo{Commit: "abc", Dirty: true, Files: []lineage.PathState{
		{Path: ".auditpack.yml", State: lineage.StateModified},
		{Path: "policies/new.yaml", State: lineage.StateUntracked},
		{Path: "models/model.onnx", State: lineage.StateClean},
		{Path: "eval/p.csv", State: lineage.StateUntracked},
		{Path: "eval/p.csv", State: lineage.StateUntracked},
		{Path: "/data/x.csv", State: lineage.StateOutside},
	}}
	var in Input
	in.SetRepository(repo)
	if !in.Dirty {
		t.Error("Dirty = false, want true")
	}
	if want := []string{".auditpack.yml"}; !slices.Equal(in.Changed, want) {
		t.Errorf("Changed = %q, want %q", in.Changed, want)
	}
	if want := []string{"policies/new.yaml", "eval/p.csv"}; !slices.Equal(in.Untracked, want) {
		t.Errorf("Untracked = %q, want %q", in.Untracked, want)
	}

	var none Input
	none.SetRepository(nil)
	if none.Dirty || none.Changed != nil || none.Untracked != nil {
		t.Errorf("SetRepository(nil) set %+v", none)
	}
}

func TestRenderUntrackedFiles(t *testing.T) {
	v := &policy.Verdict{Result: policy.OutcomePass, Counts: policy.Counts{Passed: 2}}
	tests := []struct {
		name string
		repo *lineage.Repo
		want string
	}{
		{
			name: "clean tree with an untracked policy",
			repo: &lineage.Repo{Files: []lineage.PathState{{Path: "policies/team.yaml", State: lineage.StateUntracked}}},
			want: "> The pack was made from a working tree with untracked files that the configuration names (`policies/team.yaml`), which no commit holds, so it does not describe a committed state.",
		},
		{
			name: "modified configuration and untracked policy",
			repo: &lineage.Repo{Dirty: true, Files: []lineage.PathState{
				{Path: ".auditpack.yml", State: lineage.StateModified}, {Path: "policies/team.yaml", State: lineage.StateUntracked}}},
			want: "> The pack was made from a working tree with uncommitted changes (`.auditpack.yml`) and untracked files that the configuration names (`policies/team.yaml`), which no commit holds, so it does not describe a committed state.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Verdict: v}
			in.SetRepository(tt.repo)
			for name, text := range map[string]string{"comment": Comment("<!-- m -->", in), "summary": Summary(in)} {
				if !strings.Contains(text, tt.want) {
					t.Errorf("%s lacks %q:\n%s", name, tt.want, text)
				}
			}
		})
	}

	clean := Input{Verdict: v}
	clean.SetRepository(&lineage.Repo{Files: []lineage.PathState{{Path: "a", State: lineage.StateClean}, {Path: "/b", State: lineage.StateOutside}}})
	if text := Summary(clean); strings.Contains(text, "[!WARNING]") {
		t.Errorf("summary of a clean tree warns:\n%s", text)
	}
}

func TestVerdictCounts(t *testing.T) {
	tests := []struct {
		name   string
		result policy.Outcome
		counts policy.Counts
		want   string
	}{
		{"one check", policy.OutcomePass, policy.Counts{Passed: 1}, "**Verdict: PASS.** 1 rule check passed, 0 warned, 0 failed."},
		{"several checks", policy.OutcomePass, policy.Counts{Passed: 3}, "**Verdict: PASS.** 3 rule checks passed, 0 warned, 0 failed."},
		{"nothing applied", policy.OutcomePass, policy.Counts{NotApplicable: 7},
			"**Verdict: PASS (no rule checked).** No rule was checked: 7 rules not applicable."},
		{"only baseline rules", policy.OutcomePass, policy.Counts{NoBaseline: 2},
			"**Verdict: PASS (no rule checked).** No rule was checked: 2 not checked for lack of a baseline."},
		{"no rules", policy.OutcomePass, policy.Counts{}, "**Verdict: PASS (no rule checked).** No rule was checked."},
		{"warned only", policy.OutcomeWarn, policy.Counts{Warned: 1}, "**Verdict: PASS with warnings.** 0 rule checks passed, 1 warned, 0 failed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := Summary(Input{Verdict: &policy.Verdict{Result: tt.result, Counts: tt.counts}})
			if !strings.Contains(text, tt.want) {
				t.Errorf("summary lacks %q:\n%s", tt.want, text)
			}
		})
	}
}
