package aibom

import (
	"strings"
	"testing"
)

// compasMetrics is the race+sex intersection of a COMPAS evaluation with
// min_group_size 30, with the selection rates auditpack measured on the
// ProPublica data. A positive prediction flags a high risk of
// reoffending. Asian+Female (2 rows, rate 0) and Native American+Female
// (2 rows, rate 1) are excluded; the quoted ratio 0.144 is
// Hispanic+Female's rate over African-American+Male's.
const compasMetrics = `{"evaluations": {"clean": {"metrics": {}, "groups": {"race+sex": {
  "column": "race+sex", "minGroupSize": 30,
  "excludedGroups": ["Asian+Female", "Native American+Female"],
  "groups": {
    "African-American+Male": {"count": 2626, "selectionRate": 0.5929169840060929},
    "Asian+Female": {"count": 2, "selectionRate": 0},
    "Caucasian+Male": {"count": 1621, "selectionRate": 0.3159},
    "Hispanic+Female": {"count": 82, "selectionRate": 0.08536585365853659},
    "Native American+Female": {"count": 2, "selectionRate": 1}},
  "fairness": {"disparateImpactRatio": 0.14397606403809704, "demographicParityDifference": 0.5075511303475564, "fourFifthsRule": false}}}}}}`

func TestFairnessGroupAtRisk(t *testing.T) {
	tests := []struct {
		name    string
		outcome string
		// wantGroup is the groupAtRisk; empty means none is named.
		wantGroup string
		wantHarms []string
	}{
		{
			name:      "unfavorable names the highest",
			outcome:   OutcomeUnfavorable,
			wantGroup: "race+sex=African-American+Male",
			wantHarms: []string{
				"a positive prediction is unfavorable, so the group at risk is the one with the highest selection rate, race+sex=African-American+Male (0.5929).",
				"The lowest selection rate is that of race+sex=Hispanic+Female (0.08537).",
			},
		},
		{
			name:      "favorable names the lowest",
			outcome:   OutcomeFavorable,
			wantGroup: "race+sex=Hispanic+Female",
			wantHarms: []string{
				"a positive prediction is favorable, so the group at risk is the one with the lowest selection rate, race+sex=Hispanic+Female (0.08537).",
				"The highest selection rate is that of race+sex=African-American+Male (0.5929).",
			},
		},
		{
			name:    "unset names no group",
			outcome: "",
			wantHarms: []string{
				"the lowest selection rate is that of race+sex=Hispanic+Female (0.08537) and the highest that of race+sex=African-American+Male (0.5929).",
				"Set fairness.positive_outcome to name the group at risk.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evals, err := parseMetrics([]byte(compasMetrics))
			if err != nil {
				t.Fatal(err)
			}
			fa := fairnessAssessments(evals, map[string]string{"clean": tt.outcome})
			if len(fa) != 1 {
				t.Fatalf("got %d assessments, want 1: %+v", len(fa), fa)
			}
			if fa[0].GroupAtRisk != tt.wantGroup {
				t.Errorf("groupAtRisk = %q, want %q", fa[0].GroupAtRisk, tt.wantGroup)
			}
			wantHarms := append(tt.wantHarms,
				"Over the included groups: disparate impact ratio 0.144, demographic parity difference 0.5076.",
				"The four-fifths rule is not met.",
				"Left out of the fairness measures for having fewer than 30 rows: race+sex=Asian+Female (2 rows, selection rate 0), race+sex=Native American+Female (2 rows, selection rate 1).",
			)
			for _, want := range wantHarms {
				if !strings.Contains(fa[0].Harms, want) {
					t.Errorf("harms do not contain %q:\n%s", want, fa[0].Harms)
				}
			}
		})
	}
}

func TestFairnessWithoutExtremes(t *testing.T) {
	tests := []struct {
		name      string
		groups    string
		wantHarms string
	}{
		{
			name:      "one included group",
			groups:    `"excludedGroups": ["b"], "groups": {"a": {"count": 50, "selectionRate": 0.5}, "b": {"count": 3, "selectionRate": 0.1}}`,
			wantHarms: "In evaluation e, fewer than two groups of g are included in the fairness measures, so no group at risk is named.",
		},
		{
			name:      "equal rates",
			groups:    `"excludedGroups": [], "groups": {"a": {"count": 50, "selectionRate": 0.5}, "b": {"count": 50, "selectionRate": 0.5}}`,
			wantHarms: "In evaluation e, every included group of g has selection rate 0.5, so no group at risk is named.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := `{"evaluations": {"e": {"groups": {"g": {"column": "g", "minGroupSize": 10, ` + tt.groups + `, "fairness": {"fourFifthsRule": true}}}}}}`
			evals, err := parseMetrics([]byte(metrics))
			if err != nil {
				t.Fatal(err)
			}
			fa := fairnessAssessments(evals, map[string]string{"e": OutcomeFavorable})
			if len(fa) != 1 {
				t.Fatalf("got %d assessments, want 1: %+v", len(fa), fa)
			}
			if fa[0].GroupAtRisk != "" {
				t.Errorf("groupAtRisk = %q, want none", fa[0].GroupAtRisk)
			}
			if !strings.HasPrefix(fa[0].Harms, tt.wantHarms) {
				t.Errorf("harms = %q, want the prefix %q", fa[0].Harms, tt.wantHarms)
			}
			if !strings.Contains(fa[0].Harms, "The four-fifths rule is met.") {
				t.Errorf("harms = %q, want the met four-fifths rule", fa[0].Harms)
			}
		})
	}
}

func TestFairnessTiedGroupsAtRisk(t *testing.T) {
	metrics := `{"evaluations": {"e": {"groups": {"g": {"column": "g", "excludedGroups": [],
	  "groups": {"a": {"selectionRate": 0.2}, "b": {"selectionRate": 0.2}, "c": {"selectionRate": 0.6}}, "fairness": {}}}}}}`
	evals, err := parseMetrics([]byte(metrics))
	if err != nil {
		t.Fatal(err)
	}
	fa := fairnessAssessments(evals, map[string]string{"e": OutcomeFavorable})
	if len(fa) != 1 || fa[0].GroupAtRisk != "g=a, g=b" {
		t.Errorf("assessments = %+v, want g=a and g=b at risk", fa)
	}
}

func TestFairnessSkipsGroupsWithoutSelectionRate(t *testing.T) {
	// Multiclass and regression groups have no selection rate.
	metrics := `{"evaluations": {"e": {"groups": {"g": {"column": "g", "excludedGroups": ["b"],
	  "groups": {"a": {"count": 40, "mae": 1.5}, "b": {"count": 2, "mae": 3}}, "fairness": {}}}}}}`
	evals, err := parseMetrics([]byte(metrics))
	if err != nil {
		t.Fatal(err)
	}
	if fa := fairnessAssessments(evals, nil); len(fa) != 0 {
		t.Errorf("assessments = %+v, want none", fa)
	}
}
