package policy

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const baselineDoc = `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.80, "fnr": 0.30}}}}`

func TestEvaluateBaseline(t *testing.T) {
	tests := []struct {
		name     string
		metrics  string
		baseline string // empty means no baseline
		policy   string
		outcome  Outcome
		base     *float64
		delta    *float64
		message  string
		result   Outcome
	}{
		{
			name:     "drop within max_drop passes",
			metrics:  `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.78}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: acc-drop, metric: evaluations.holdout.metrics.accuracy, max_drop: 0.05, severity: block}\n",
			outcome:  OutcomePass, base: ptr(0.80), delta: ptr(0.78 - 0.80),
			message: "within the allowed change",
			result:  OutcomePass,
		},
		{
			name:     "drop of exactly max_drop passes",
			metrics:  `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.75}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: acc-drop, metric: evaluations.holdout.metrics.accuracy, max_drop: 0.05, severity: block}\n",
			outcome:  OutcomePass, base: ptr(0.80), delta: ptr(0.75 - 0.80),
			message: "within the allowed change",
			result:  OutcomePass,
		},
		{
			name:     "drop over max_drop blocks",
			metrics:  `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.70}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: acc-drop, metric: evaluations.holdout.metrics.accuracy, max_drop: 0.05, severity: block}\n",
			outcome:  OutcomeFail, base: ptr(0.80), delta: ptr(0.70 - 0.80),
			message: "a drop of more than max_drop 0.05",
			result:  OutcomeFail,
		},
		{
			name:     "increase over max_increase warns",
			metrics:  `{"evaluations": {"holdout": {"metrics": {"fnr": 0.40}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: fnr-rise, metric: evaluations.holdout.metrics.fnr, max_increase: 0.02, severity: warn}\n",
			outcome:  OutcomeWarn, base: ptr(0.30), delta: ptr(0.40 - 0.30),
			message: "an increase of more than max_increase 0.02",
			result:  OutcomeWarn,
		},
		{
			name:    "only max_drop without baseline does not block",
			metrics: `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.10}}}}`,
			policy:  "rules:\n  - {id: acc-drop, metric: evaluations.holdout.metrics.accuracy, max_drop: 0.05, severity: block}\n",
			outcome: OutcomeNoBaseline,
			message: "there is no baseline value to compare with",
			result:  OutcomePass,
		},
		{
			name:    "min with max_drop without baseline checks min",
			metrics: `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.60}}}}`,
			policy:  "rules:\n  - {id: acc, metric: evaluations.holdout.metrics.accuracy, min: 0.7, max_drop: 0.05, severity: block}\n",
			outcome: OutcomeFail,
			message: "below the minimum 0.7; there is no baseline value",
			result:  OutcomeFail,
		},
		{
			name:     "path missing from baseline is no baseline",
			metrics:  `{"evaluations": {"other": {"metrics": {"accuracy": 0.9}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: acc-drop, metric: evaluations.*.metrics.accuracy, max_drop: 0.05, severity: block}\n",
			outcome:  OutcomeNoBaseline,
			message:  "no baseline value",
			result:   OutcomePass,
		},
		{
			name:     "plain rule records the delta",
			metrics:  `{"evaluations": {"holdout": {"metrics": {"accuracy": 0.85}}}}`,
			baseline: baselineDoc,
			policy:   "rules:\n  - {id: acc, metric: evaluations.holdout.metrics.accuracy, min: 0.7, severity: block}\n",
			outcome:  OutcomePass, base: ptr(0.80), delta: ptr(0.85 - 0.80),
			message: "at or above the minimum 0.7",
			result:  OutcomePass,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var baseline []byte
			if tt.baseline != "" {
				baseline = []byte(tt.baseline)
			}
			v, err := EvaluateBaseline([]byte(tt.metrics), baseline, []File{mustParse(t, tt.policy)})
			if err != nil {
				t.Fatalf("EvaluateBaseline: %v", err)
			}
			if len(v.Results) != 1 {
				t.Fatalf("got %d results, want 1", len(v.Results))
			}
			r := v.Results[0]
			if r.Outcome != tt.outcome {
				t.Errorf("outcome = %q, want %q (%s)", r.Outcome, tt.outcome, r.Message)
			}
			if diff := cmp.Diff(tt.base, r.Baseline); diff != "" {
				t.Errorf("baseline (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.delta, r.Delta, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("delta (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", r.Message, tt.message)
			}
			if v.Result != tt.result {
				t.Errorf("verdict = %q, want %q", v.Result, tt.result)
			}
			if tt.outcome == OutcomeNoBaseline && v.Counts.NoBaseline != 1 {
				t.Errorf("counts.noBaseline = %d, want 1", v.Counts.NoBaseline)
			}
		})
	}
}

func TestParseBaselineBounds(t *testing.T) {
	_, err := Parse("p.yaml", []byte("rules:\n  - {id: a, metric: m.x, max_drop: -0.1, severity: block}\n"))
	if err == nil || !strings.Contains(err.Error(), "rules[0].max_drop: must be zero or positive") {
		t.Errorf("Parse error = %v, want a max_drop error", err)
	}
}

func TestLoadFromReader(t *testing.T) {
	builtins := fstest.MapFS{"default.yaml": {Data: []byte("rules:\n  - {id: b, metric: m.x, min: 0, severity: warn}\n")}}
	files := map[string]string{"team.yaml": "rules:\n  - {id: a, metric: m.x, min: 1, severity: block}\n"}
	read := func(ref string) ([]byte, error) {
		data, ok := files[ref]
		if !ok {
			return nil, &notExist{ref}
		}
		return []byte(data), nil
	}
	got, err := LoadFrom([]string{"builtin:default", "team.yaml"}, read, builtins)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if len(got) != 2 || got[1].Rules[0].ID != "a" {
		t.Fatalf("LoadFrom = %+v, want the builtin and team.yaml", got)
	}
	_, err = LoadFrom([]string{"gone.yaml"}, read, builtins)
	if err == nil || !strings.Contains(err.Error(), "gone.yaml: policy file not found") {
		t.Errorf("LoadFrom missing file error = %v, want not found", err)
	}
}

type notExist struct{ ref string }

func (e *notExist) Error() string { return e.ref + " does not exist" }
func (e *notExist) Is(target error) bool {
	return target == fsErrNotExist
}

var fsErrNotExist = fs.ErrNotExist
