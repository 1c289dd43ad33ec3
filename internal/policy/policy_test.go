package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// metricsDoc is a small metrics document in the shape of metrics.json.
const metricsDoc = `{
  "evaluations": {
    "holdout": {
      "metrics": {"accuracy": 0.72, "rocAuc": null, "fnr": 0.31},
      "undefined": {"rocAuc": "no score column"},
      "groups": {
        "race": {"fairness": {"disparateImpactRatio": 0.61, "equalizedOddsRatio": null},
                 "undefined": {"fairness.equalizedOddsRatio": "a group has no positives"}},
        "sex": {"fairness": {"disparateImpactRatio": 0.9, "equalizedOddsRatio": 0.8}}
      }
    },
    "nogroups": {"metrics": {"accuracy": 0.5}, "groups": {}}
  }
}`

// dottedDoc has group values that a plain dotted path cannot address.
const dottedDoc = `{
  "evaluations": {
    "dotted": {"metrics": {}, "groups": {"site": {"groups": {
      "a.b": {"fpr": 0.1}, "a": {"b": {"fpr": 0.9}}, "q\"x": {"fpr": 0.2}, "*": {"fpr": 0.3}, "": {"fpr": 0.4}, "back\\slash": {"fpr": 0.5}
    }}}}
  }
}`

// numbersDoc has group values that are numbers written with a '.', as a
// float column gives them.
const numbersDoc = `{
  "evaluations": {
    "numbers": {"metrics": {}, "groups": {"edu": {"groups": {
      "13.0": {"accuracy": 0.8}, "9.0": {"accuracy": 0.7}, "1.2.3": {"accuracy": 0.6}
    }}}}
  }
}`

func ptr(v float64) *float64 { return &v }

func mustParse(t *testing.T, yaml string) File {
	t.Helper()
	f, err := Parse("p.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return *f
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []Result
		result Outcome
	}{
		{
			name:   "min passes and fails per evaluation",
			policy: "rules:\n  - {id: acc, metric: evaluations.*.metrics.accuracy, min: 0.7, severity: block}\n",
			want: []Result{
				{RuleID: "acc", Metric: "evaluations.holdout.metrics.accuracy", Severity: SeverityBlock, Min: ptr(0.7), Value: ptr(0.72), Outcome: OutcomePass},
				{RuleID: "acc", Metric: "evaluations.nogroups.metrics.accuracy", Severity: SeverityBlock, Min: ptr(0.7), Value: ptr(0.5), Outcome: OutcomeFail},
			},
			result: OutcomeFail,
		},
		{
			name:   "warn severity never fails",
			policy: "rules:\n  - {id: dir, metric: evaluations.*.groups.*.fairness.disparateImpactRatio, min: 0.8, severity: warn}\n",
			want: []Result{
				{RuleID: "dir", Metric: "evaluations.holdout.groups.race.fairness.disparateImpactRatio", Severity: SeverityWarn, Min: ptr(0.8), Value: ptr(0.61), Outcome: OutcomeWarn},
				{RuleID: "dir", Metric: "evaluations.holdout.groups.sex.fairness.disparateImpactRatio", Severity: SeverityWarn, Min: ptr(0.8), Value: ptr(0.9), Outcome: OutcomePass},
			},
			result: OutcomeWarn,
		},
		{
			name:   "max bound inclusive",
			policy: "rules:\n  - {id: fnr, metric: evaluations.holdout.metrics.fnr, max: 0.31, severity: block}\n",
			want: []Result{
				{RuleID: "fnr", Metric: "evaluations.holdout.metrics.fnr", Severity: SeverityBlock, Max: ptr(0.31), Value: ptr(0.31), Outcome: OutcomePass},
			},
			result: OutcomePass,
		},
		{
			name:   "undefined metric fails with reason",
			policy: "rules:\n  - {id: auc, metric: evaluations.holdout.metrics.rocAuc, min: 0.6, severity: block}\n",
			want: []Result{
				{RuleID: "auc", Metric: "evaluations.holdout.metrics.rocAuc", Severity: SeverityBlock, Min: ptr(0.6), Outcome: OutcomeFail},
			},
			result: OutcomeFail,
		},
		{
			name:   "nested undefined reason",
			policy: "rules:\n  - {id: eo, metric: evaluations.holdout.groups.race.fairness.equalizedOddsRatio, min: 0.6, severity: warn}\n",
			want: []Result{
				{RuleID: "eo", Metric: "evaluations.holdout.groups.race.fairness.equalizedOddsRatio", Severity: SeverityWarn, Min: ptr(0.6), Outcome: OutcomeWarn},
			},
			result: OutcomeWarn,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Evaluate([]byte(metricsDoc), []File{mustParse(t, tt.policy)})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			ignore := cmpopts.IgnoreFields(Result{}, "Message", "Policy")
			if diff := cmp.Diff(tt.want, v.Results, ignore); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
			if v.Result != tt.result {
				t.Errorf("verdict = %s, want %s", v.Result, tt.result)
			}
		})
	}
}

func TestEvaluateMessages(t *testing.T) {
	v, err := Evaluate([]byte(metricsDoc), []File{mustParse(t, `rules:
  - {id: auc, metric: evaluations.holdout.metrics.rocAuc, min: 0.6, severity: block}
  - {id: eo, metric: evaluations.holdout.groups.race.fairness.equalizedOddsRatio, min: 0.6, severity: warn}
  - {id: acc, metric: evaluations.nogroups.metrics.accuracy, min: 0.7, severity: block}
`)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	want := []string{
		"evaluations.holdout.metrics.rocAuc is undefined (no score column), so the rule cannot be shown to hold",
		"evaluations.holdout.groups.race.fairness.equalizedOddsRatio is undefined (a group has no positives), so the rule cannot be shown to hold",
		"evaluations.nogroups.metrics.accuracy is 0.5, below the minimum 0.7",
	}
	for i, w := range want {
		if got := v.Results[i].Message; got != w {
			t.Errorf("message %d = %q, want %q", i, got, w)
		}
	}
	if v.Counts != (Counts{Passed: 0, Warned: 1, Failed: 2}) {
		t.Errorf("counts = %+v", v.Counts)
	}
}

func TestEvaluatePathErrors(t *testing.T) {
	tests := []struct {
		name, metric, want string
	}{
		{"typo in leaf", "evaluations.holdout.metrics.acuracy", `evaluations.holdout.metrics has no key "acuracy"; it has accuracy, fnr, rocAuc`},
		{"empty map", "evaluations.dotted.metrics.accuracy", `evaluations.dotted.metrics has no key "accuracy": it is empty`},
		{"no group columns", "evaluations.nogroups.groups.race.fairness.disparateImpactRatio",
			`evaluations.nogroups.groups has no key "race": it is empty, because the evaluation has no group columns; set groups`},
		{"dotted key unquoted", "evaluations.dotted.groups.site.groups.a.fpr", `has no key "fpr"; it has b`},
		{"keys listed as segments", "evaluations.dotted.groups.site.groups.x.fpr", `has no key "x"; it has "", "*", a, "a.b", back\slash, "q\"x"`},
		{"dotted key not split", "evaluations.numbers.groups.edu.groups.13.0.accuracy",
			`it has "1.2.3", "13.0", "9.0". A key that contains '.' is written in double quotes: evaluations.numbers.groups.edu.groups."13.0".accuracy`},
		{"dotted key before a wildcard", "evaluations.numbers.groups.edu.groups.13.0.*",
			`written in double quotes: evaluations.numbers.groups.edu.groups."13.0".*`},
		{"dotted key of three segments", "evaluations.numbers.groups.edu.groups.1.2.3.accuracy",
			`written in double quotes: evaluations.numbers.groups.edu.groups."1.2.3".accuracy`},
		{"no dotted key to suggest", "evaluations.numbers.groups.edu.groups.14.0.accuracy",
			`has no key "14"; it has "1.2.3", "13.0", "9.0"`},
		{"unknown evaluation", "evaluations.test.metrics.accuracy", `evaluations has no key "test"`},
		{"unknown root", "metrics.accuracy", `the metrics document has no key "metrics"`},
		{"not a number", "evaluations.holdout.metrics", "resolves to a map, not a number"},
		{"through a number", "evaluations.holdout.metrics.accuracy.x", "is not a map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, "rules:\n  - id: r\n    metric: "+tt.metric+"\n    min: 0\n    severity: block\n")
			doc := metricsDoc
			if strings.Contains(tt.metric, "dotted") {
				doc = dottedDoc
			}
			if strings.Contains(tt.metric, "numbers") {
				doc = numbersDoc
			}
			_, err := Evaluate([]byte(doc), []File{f})
			if err == nil {
				t.Fatal("Evaluate succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "p.yaml:3: metric: rule r: ") {
				t.Errorf("error = %v\nwant it located at the metric key, p.yaml:3", err)
			}
		})
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		path string
		want []segment
	}{
		{"a.b", []segment{{key: "a"}, {key: "b"}}},
		{"a.*.c", []segment{{key: "a"}, {key: "*", wildcard: true}, {key: "c"}}},
		{`a."b.c".d`, []segment{{key: "a"}, {key: "b.c"}, {key: "d"}}},
		{`"*"`, []segment{{key: "*"}}},
		{`a.""`, []segment{{key: "a"}, {key: ""}}},
		{`"q\"x".y`, []segment{{key: `q"x`}, {key: "y"}}},
		{`"a\\b"`, []segment{{key: `a\b`}}},
		{`a\b`, []segment{{key: `a\b`}}},
		{"race+sex.x", []segment{{key: "race+sex"}, {key: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := splitPath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(segment{})); diff != "" {
				t.Errorf("segments mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatPathRoundTrip(t *testing.T) {
	for _, keys := range [][]string{
		{"a", "b"}, {"a.b"}, {"*"}, {""}, {`q"x`}, {`back\slash`}, {`"`, `\`, `\"`}, {"a", "*", "b.c", ""},
	} {
		path := formatPath(keys)
		segments, err := splitPath(path)
		if err != nil {
			t.Fatalf("splitPath(formatPath(%q) = %q): %v", keys, path, err)
		}
		var got []string
		for _, s := range segments {
			if s.wildcard {
				t.Errorf("formatPath(%q) = %q reads back with a wildcard", keys, path)
			}
			got = append(got, s.key)
		}
		if diff := cmp.Diff(keys, got); diff != "" {
			t.Errorf("keys of %q mismatch (-want +got):\n%s", path, diff)
		}
	}
}

func TestQuotedSegments(t *testing.T) {
	tests := []struct {
		metric     string
		wantMetric []string
		wantValue  []float64
	}{
		{`evaluations.dotted.groups.site.groups."a.b".fpr`, []string{`evaluations.dotted.groups.site.groups."a.b".fpr`}, []float64{0.1}},
		{`evaluations.dotted.groups.site.groups.a.b.fpr`, []string{`evaluations.dotted.groups.site.groups.a.b.fpr`}, []float64{0.9}},
		{`evaluations.dotted.groups.site.groups."q\"x".fpr`, []string{`evaluations.dotted.groups.site.groups."q\"x".fpr`}, []float64{0.2}},
		{`evaluations.dotted.groups.site.groups."*".fpr`, []string{`evaluations.dotted.groups.site.groups."*".fpr`}, []float64{0.3}},
		{`evaluations.dotted.groups.site.groups."".fpr`, []string{`evaluations.dotted.groups.site.groups."".fpr`}, []float64{0.4}},
		{`evaluations.dotted.groups.site.groups."back\\slash".fpr`, []string{`evaluations.dotted.groups.site.groups.back\slash.fpr`}, []float64{0.5}},
		{`"evaluations"."dotted".groups.site.groups."a.b"."fpr"`, []string{`evaluations.dotted.groups.site.groups."a.b".fpr`}, []float64{0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			yaml := "rules:\n  - id: r\n    metric: '" + tt.metric + "'\n    max: 1\n    severity: block\n"
			v, err := Evaluate([]byte(dottedDoc), []File{mustParse(t, yaml)})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			var metrics []string
			var values []float64
			for _, r := range v.Results {
				metrics = append(metrics, r.Metric)
				values = append(values, *r.Value)
			}
			if diff := cmp.Diff(tt.wantMetric, metrics); diff != "" {
				t.Errorf("metrics mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantValue, values); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPassMessages(t *testing.T) {
	v, err := Evaluate([]byte(metricsDoc), []File{mustParse(t, `rules:
  - {id: lo, metric: evaluations.holdout.metrics.accuracy, min: 0.72, severity: block}
  - {id: hi, metric: evaluations.holdout.metrics.fnr, max: 0.31, severity: block}
  - {id: both, metric: evaluations.holdout.metrics.fnr, min: 0.1, max: 0.5, severity: block}
`)})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	want := []string{
		"evaluations.holdout.metrics.accuracy is 0.72, at or above the minimum 0.72",
		"evaluations.holdout.metrics.fnr is 0.31, at or below the maximum 0.31",
		"evaluations.holdout.metrics.fnr is 0.31, within [0.1, 0.5]",
	}
	var got []string
	for _, r := range v.Results {
		got = append(got, r.Message)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages mismatch (-want +got):\n%s", diff)
	}
}

func TestWildcardOverEmptyMap(t *testing.T) {
	f := mustParse(t, "rules:\n  - {id: r, metric: evaluations.nogroups.groups.*.fairness.disparateImpactRatio, min: 0.8, severity: block}\n")
	v, err := Evaluate([]byte(metricsDoc), []File{f})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if len(v.Results) != 1 || v.Result != OutcomePass {
		t.Fatalf("got %d results and verdict %s, want one and pass", len(v.Results), v.Result)
	}
	if r := v.Results[0]; r.Outcome != OutcomeNotApplicable || !strings.Contains(r.Message, "matches no metric") {
		t.Errorf("result = %+v, want not-applicable saying the path matches no metric", r)
	}
	if v.Counts.NotApplicable != 1 {
		t.Errorf("counts.notApplicable = %d, want 1", v.Counts.NotApplicable)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"no rules", "rules: []\n", "rules: required"},
		{"missing id", "rules:\n  - {metric: a.b, min: 1, severity: block}\n", "rules[0].id: required"},
		{"bad id", "rules:\n  - {id: Bad Id, metric: a.b, min: 1, severity: block}\n", `"Bad Id" is not a valid id`},
		{"no bound", "rules:\n  - {id: a, metric: a.b, severity: block}\n", "p.yaml:2: rules[0]: set min, max or both"},
		{"min above max", "rules:\n  - {id: a, metric: a.b, min: 2, max: 1, severity: block}\n", "min 2 is greater than max 1"},
		{"bad severity", "rules:\n  - {id: a, metric: a.b, min: 1, severity: error}\n", `must be "block" or "warn", got "error"`},
		{"empty segment", "rules:\n  - {id: a, metric: a..b, min: 1, severity: warn}\n", "empty segment"},
		{"trailing dot", "rules:\n  - {id: a, metric: a.b., min: 1, severity: warn}\n", "empty segment"},
		{"unclosed quote", "rules:\n  - {id: a, metric: 'a.\"b.c', min: 1, severity: warn}\n", "no closing quote"},
		{"text after quote", "rules:\n  - {id: a, metric: 'a.\"b\"c', min: 1, severity: warn}\n", `is followed by "c"`},
		{"bad escape", "rules:\n  - {id: a, metric: 'a.\"b\\n\"', min: 1, severity: warn}\n", "backslash must be followed"},
		{"quote inside segment", "rules:\n  - {id: a, metric: 'a.b\"c', min: 1, severity: warn}\n", "contains a double quote"},
		{"NaN threshold", "rules:\n  - {id: a, metric: a.b, min: .nan, severity: warn}\n", "rules[0].min: must be a finite number, got NaN"},
		{"infinite threshold", "rules:\n  - {id: a, metric: a.b, max: .inf, severity: warn}\n", "rules[0].max: must be a finite number, got +Inf"},
		{"string threshold", "rules:\n  - {id: a, metric: a.b, min: high, severity: warn}\n", `rules[0].min: must be a number, got "high"`},
		{"duplicate id", "rules:\n  - {id: a, metric: a.b, min: 1, severity: warn}\n  - {id: a, metric: a.c, min: 1, severity: warn}\n", `duplicate rule id "a"`},
		{"unknown key", "rules:\n  - {id: a, metric: a.b, minimum: 1, severity: warn}\n", "rules[0].minimum: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	builtins := fstest.MapFS{"default.yaml": {Data: []byte("rules:\n  - {id: a, metric: x.y, min: 1, severity: warn}\n")}}
	files, err := Load([]string{"builtin:default"}, func(s string) string { return s }, builtins)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(files) != 1 || files[0].Path != "builtin:default" || len(files[0].SHA256) != 64 {
		t.Errorf("Load = %+v", files)
	}

	_, err = Load([]string{"builtin:strict"}, func(s string) string { return s }, builtins)
	if err == nil || !strings.Contains(err.Error(), `no built-in policy named "strict"`) {
		t.Errorf("unknown builtin: err = %v", err)
	}
	_, err = Load([]string{"missing.yaml"}, func(s string) string { return "/nonexistent/" + s }, builtins)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: policy file not found") {
		t.Errorf("missing file: err = %v", err)
	}
	_, err = Load([]string{"builtin:default", "builtin:default"}, func(s string) string { return s }, builtins)
	if err == nil || !strings.Contains(err.Error(), `rule id "a" is already used`) {
		t.Errorf("duplicate across files: err = %v", err)
	}
}

func TestLoadErrorIsTyped(t *testing.T) {
	builtins := fstest.MapFS{
		"default.yaml": {Data: []byte("rules:\n  - {id: a, metric: x.y, min: 1, severity: warn}\n")},
		"bad.yaml":     {Data: []byte("rules:\n  - {id: a, metric: x.y, min: 1, severity: blocker}\n")},
	}
	unreadable := func(string) ([]byte, error) { return nil, errors.New("permission denied") }
	tests := []struct {
		name string
		refs []string
		read ReadFunc
	}{
		{"unknown preset", []string{"builtin:nope"}, nil},
		{"missing file", []string{"missing.yaml"}, DiskReader(func(s string) string { return "/nonexistent/" + s })},
		{"unreadable file", []string{"p.yaml"}, unreadable},
		{"invalid file", []string{"builtin:bad"}, nil},
		{"rule id repeated across files", []string{"builtin:default", "builtin:default"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom(tt.refs, tt.read, builtins)
			var loadErr *LoadError
			if !errors.As(err, &loadErr) {
				t.Fatalf("error %v (%T) is not a *LoadError", err, err)
			}
			if wrapped := fmt.Errorf("policies: %w", err); !errors.As(wrapped, &loadErr) {
				t.Errorf("a wrapped error is not a *LoadError")
			}
		})
	}
	var located *strictyaml.Error
	if _, err := LoadFrom([]string{"builtin:bad"}, nil, builtins); !errors.As(err, &located) || located.Line != 2 {
		t.Errorf("error of an invalid file: %v, want a *strictyaml.Error at line 2 inside the *LoadError", err)
	}
}

func TestFormat(t *testing.T) {
	tests := map[float64]string{0.5: "0.5", 0.69996: "0.69996", 0.6616383: "0.661638", 1: "1", 0: "0", 1234567: "1234567", 0.00001234: "0.00001234"}
	for in, want := range tests {
		if got := Format(in); got != want {
			t.Errorf("Format(%v) = %q, want %q", in, got, want)
		}
	}
}
