package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/ingest"
)

func metricValue(t *testing.T, values map[string]*float64, key string) float64 {
	t.Helper()
	v, ok := values[key]
	if !ok || v == nil {
		t.Fatalf("%s is missing or null", key)
	}
	return *v
}

func TestMulticlassEdgeCases(t *testing.T) {
	tests := []struct {
		name      string
		csv       string
		spec      func(*Spec)
		wantError string
		check     func(t *testing.T, s *Summary)
	}{
		{
			name:      "label outside declared classes",
			csv:       "y,p\ncat,cat\nemu,cat\n",
			spec:      func(s *Spec) { s.Classes = []string{"cat", "dog"} },
			wantError: `:3: column "y": "emu" is not one of the declared classes "cat", "dog": fix the row`,
		},
		{
			name: "two classes never predicted",
			csv:  "y,p\ncat,cat\ndog,cat\nemu,cat\n",
			check: func(t *testing.T, s *Summary) {
				if !strings.Contains(s.Undefined["macroPrecision"], `precision is undefined for classes "dog", "emu"`) {
					t.Errorf("macroPrecision reason = %q", s.Undefined["macroPrecision"])
				}
			},
		},
		{
			name: "class never predicted",
			csv:  "y,p\ncat,cat\ndog,cat\n",
			check: func(t *testing.T, s *Summary) {
				if s.PerClass["dog"]["precision"] != nil {
					t.Errorf("precision of a never predicted class = %v, want null", *s.PerClass["dog"]["precision"])
				}
				if !strings.Contains(s.Undefined["macroPrecision"], `precision is undefined for class "dog"`) {
					t.Errorf("macroPrecision reason = %q", s.Undefined["macroPrecision"])
				}
				if got := metricValue(t, s.Metrics, "macroRecall"); got != 0.5 {
					t.Errorf("macroRecall = %v, want 0.5", got)
				}
			},
		},
		{
			name:      "NaN score",
			csv:       "y,p,s_cat,s_dog\ncat,cat,NaN,0.2\n",
			spec:      func(s *Spec) { s.Columns.Scores = map[string]string{"cat": "s_cat", "dog": "s_dog"} },
			wantError: `"NaN" is not a finite number`,
		},
		{
			name: "tied scores rank the later class first",
			csv:  "y,p,s_a,s_b,s_c\na,a,0.4,0.4,0.2\nb,a,0.4,0.4,0.2\n",
			spec: func(s *Spec) {
				s.Columns.Scores = map[string]string{"a": "s_a", "b": "s_b", "c": "s_c"}
				s.TopK = []int{1}
			},
			check: func(t *testing.T, s *Summary) {
				// scikit-learn's top_k_accuracy_score ranks b above a on a
				// tie, so only the second row is a top-1 hit.
				if got := metricValue(t, s.Metrics, "top1Accuracy"); got != 0.5 {
					t.Errorf("top1Accuracy = %v, want 0.5", got)
				}
			},
		},
		{
			name: "class with one row only in the labels",
			csv:  "y,p,g\na,a,x\na,b,x\nb,b,y\n",
			spec: func(s *Spec) { s.Groups = []string{"g"}; s.MinGroupSize = 2 },
			check: func(t *testing.T, s *Summary) {
				g := s.Groups["g"]
				if len(g.ExcludedGroups) != 1 || g.ExcludedGroups[0] != "y" {
					t.Errorf("excluded groups = %v, want [y]", g.ExcludedGroups)
				}
				if got := metricValue(t, g.Fairness, "accuracyDifference"); got != 0 {
					t.Errorf("accuracyDifference over the one included group = %v, want 0", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Name: "m", Task: TaskMulticlassClassification, Path: writeFile(t, "p.csv", []byte(tt.csv)),
				Columns: Columns{Label: "y", Prediction: "p"}}
			if tt.spec != nil {
				tt.spec(&spec)
			}
			s, err := EvaluateMulticlass(t.Context(), spec)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestRegressionEdgeCases(t *testing.T) {
	tests := []struct {
		name      string
		csv       string
		wantError string
		wantNull  map[string]string
	}{
		{"zero true value", "y,p\n0,1\n2,2\n", "", map[string]string{"mape": "line 2 is 0"}},
		{"constant true value", "y,p\n3,1\n3,2\n", "", map[string]string{"r2": "total sum of squares of 0"}},
		{"infinite prediction", "y,p\n3,inf\n", `"inf" is not a finite number`, nil},
		{"empty value", "y,p\n3,\n", "the value is empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := EvaluateRegression(t.Context(), Spec{Name: "r", Task: TaskRegression,
				Path: writeFile(t, "p.csv", []byte(tt.csv)), Columns: Columns{Label: "y", Prediction: "p"}})
			if tt.wantError != "" {
				var rowErr *ingest.RowError
				if err == nil || !strings.Contains(err.Error(), tt.wantError) || !errors.As(err, &rowErr) {
					t.Fatalf("error = %v, want a row error containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for key, reason := range tt.wantNull {
				if s.Metrics[key] != nil {
					t.Errorf("%s = %v, want null", key, *s.Metrics[key])
				}
				if !strings.Contains(s.Undefined[key], reason) {
					t.Errorf("undefined[%s] = %q, want it to contain %q", key, s.Undefined[key], reason)
				}
			}
		})
	}
}

func TestLatencyPercentiles(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4, 10], [50, 90, 95, 99]) gives
	// 3, 7.6, 8.8, 9.76.
	csv := "ms,at\n4,100.5\n1,100\n10,101\n3,101.5\n2,102\n"
	s, err := EvaluateLatency(t.Context(), Spec{Name: "l", Task: TaskLatency, Path: writeFile(t, "l.csv", []byte(csv)),
		Columns: Columns{Latency: "ms", Timestamp: "at"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"count": 5, "mean": 4, "min": 1, "p50": 3, "p90": 7.6, "p95": 8.8, "p99": 9.76, "max": 10, "throughput": 2.5}
	for key, w := range want {
		if got := metricValue(t, s.Metrics, key); math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", key, got, w)
		}
	}
}

func TestBootstrapReproducible(t *testing.T) {
	path := writeFile(t, "p.csv", []byte(basicCSV))
	run := func(seed int64) []byte {
		spec := basicSpec(path)
		spec.Bootstrap = &Bootstrap{Resamples: 200, Seed: seed}
		e, err := Evaluate(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first, second, other := run(1), run(1), run(2)
	if string(first) != string(second) {
		t.Error("the same seed gave different output")
	}
	if string(first) == string(other) {
		t.Error("different seeds gave the same output")
	}
	var e Evaluation
	if err := json.Unmarshal(first, &e); err != nil {
		t.Fatal(err)
	}
	accuracy := e.ConfidenceIntervals["accuracy"]
	if accuracy == nil || accuracy.Lower == nil || accuracy.Upper == nil || *accuracy.Lower > e.Metrics.Accuracy || *accuracy.Upper < e.Metrics.Accuracy {
		t.Errorf("accuracy interval %+v does not contain %v", accuracy, e.Metrics.Accuracy)
	}
	// Six rows: some resamples have no positive, so the recall interval
	// is undefined and gives the reason.
	if e.ConfidenceIntervals["recall"].Lower != nil || !strings.Contains(e.Undefined["confidenceIntervals.recall.lower"], "resamples") {
		t.Errorf("recall interval = %+v, reason %q", e.ConfidenceIntervals["recall"], e.Undefined["confidenceIntervals.recall.lower"])
	}
	if e.Bootstrap == nil || e.Bootstrap.Method != BootstrapMethod || e.Bootstrap.Resamples != 200 || e.Bootstrap.Confidence != 0.95 {
		t.Errorf("bootstrap record = %+v", e.Bootstrap)
	}
}

func TestIntersectionsAndReference(t *testing.T) {
	csv := "label,prediction,race,sex\n1,1,a,f\n0,1,a,m\n1,0,b,f\n0,0,b,m\n1,1,b,m\n"
	spec := Spec{Name: "i", Task: TaskBinaryClassification, Path: writeFile(t, "p.csv", []byte(csv)),
		Columns: Columns{Label: "label", Prediction: "prediction"}, PositiveLabel: "1",
		Groups: []string{"race", "sex"}, Intersections: [][]string{{"race", "sex"}},
		ReferenceGroups: map[string]string{"race": "b"}, MinGroupSize: 2}
	e, err := Evaluate(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	cross := e.Groups["race+sex"]
	if cross == nil || len(cross.Groups) != 4 {
		t.Fatalf("race+sex groups = %+v, want 4", cross)
	}
	if got := cross.Groups["b+m"].Count; got != 2 {
		t.Errorf("b+m count = %d, want 2", got)
	}
	if got := strings.Join(cross.ExcludedGroups, ","); got != "a+f,a+m,b+f" {
		t.Errorf("excluded = %s, want a+f,a+m,b+f", got)
	}
	ref := e.Groups["race"].Reference
	// Selection rates: a 2/2, b 1/3, so a's ratio to the reference is 3.
	if ref == nil || ref.DisparateImpactRatio == nil || math.Abs(*ref.DisparateImpactRatio-3) > 1e-15 {
		t.Errorf("reference comparison = %+v", ref)
	}

	spec.ReferenceGroups = map[string]string{"race": "z"}
	if _, err := Evaluate(t.Context(), spec); err == nil || !strings.Contains(err.Error(), `no group "z"`) {
		t.Errorf("unknown reference group: error = %v", err)
	}
}

func TestCompareFlipsAndDrop(t *testing.T) {
	dir := t.TempDir()
	clean := writeFileIn(t, dir, "clean.csv", "id,label,prediction,score\n1,1,1,0.9\n2,0,0,0.2\n3,1,1,0.8\n4,0,0,0.3\n")
	noisy := writeFileIn(t, dir, "noisy.csv", "id,label,prediction,score\n1,1,0,0.4\n2,0,0,0.2\n3,1,1,0.7\n4,0,1,0.6\n")
	spec := func(name, path string) Spec {
		return Spec{Name: name, Task: TaskBinaryClassification, Path: path, PositiveLabel: "1",
			Columns: Columns{Label: "label", Prediction: "prediction", Score: "score", ID: "id"}}
	}
	cleanSpec, noisySpec := spec("clean", clean), spec("noisy", noisy)
	a, err := Evaluate(t.Context(), cleanSpec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Evaluate(t.Context(), noisySpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(t.Context(), cleanSpec, noisySpec, a, b, StressSpec{Kind: "noise"}); err != nil {
		t.Fatal(err)
	}
	r := b.Robustness
	if r.Flips == nil || *r.Flips != 2 || r.PairedRows != 4 || r.FlipRate == nil || *r.FlipRate != 0.5 {
		t.Errorf("flips %v of %d, rate %v; want 2 of 4", r.Flips, r.PairedRows, r.FlipRate)
	}
	if got := *r.Drop["accuracy"]; got != 0.5 {
		t.Errorf("accuracy drop = %v, want 0.5", got)
	}
	if got := *r.Drop["fpr"]; got != 0.5 {
		t.Errorf("fpr drop = %v, want 0.5 (an increase of an error rate is a positive drop)", got)
	}

	shuffled := writeFileIn(t, dir, "shuffled.csv", "id,label,prediction,score\n2,0,0,0.2\n1,1,0,0.4\n3,1,1,0.7\n4,0,1,0.6\n")
	if err := Compare(t.Context(), cleanSpec, spec("s", shuffled), a, b, StressSpec{Kind: "noise"}); err == nil || !strings.Contains(err.Error(), `id "2" does not match id "1"`) {
		t.Errorf("shuffled rows: error = %v", err)
	}
	short := writeFileIn(t, dir, "short.csv", "id,label,prediction,score\n1,1,0,0.4\n")
	if err := Compare(t.Context(), cleanSpec, spec("s", short), a, b, StressSpec{Kind: "noise"}); err == nil || !strings.Contains(err.Error(), "same rows in the same order") {
		t.Errorf("short file: error = %v", err)
	}
}

func writeFileIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := writeBytes(path, []byte(content)); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHarnessFiles(t *testing.T) {
	examples := "../../testdata/examples/"
	tests := []struct {
		name, task, path string
		check            func(t *testing.T, h *HarnessReport)
	}{
		{"lm-eval v0.4", TaskLMEvalHarness, "lm-eval-harness/cpu_regression_expected.json", func(t *testing.T, h *HarnessReport) {
			if got := metricValue(t, h.Tasks["arc_easy"].Metrics, "acc,none"); got != 0.3 {
				t.Errorf("arc_easy acc,none = %v, want 0.3", got)
			}
			if h.Tasks["arc_easy"].Stderr["acc,none"] != nil || !strings.Contains(h.Undefined["tasks.arc_easy.stderr.acc,none"], `"N/A"`) {
				t.Errorf("N/A stderr: %v, reason %q", h.Tasks["arc_easy"].Stderr["acc,none"], h.Undefined["tasks.arc_easy.stderr.acc,none"])
			}
		}},
		{"lm-eval v0.3", TaskLMEvalHarness, "lm-eval-harness/arc_easy-v0-res.json", func(t *testing.T, h *HarnessReport) {
			if got := metricValue(t, h.Tasks["arc_easy"].Stderr, "acc_norm"); got != 0.008772796145221907 {
				t.Errorf("acc_norm stderr = %v", got)
			}
		}},
		{"garak", TaskGarak, "garak/test_with_ci.report.jsonl", func(t *testing.T, h *HarnessReport) {
			d := h.Probes["test_Test"].Detectors["always_Pass"]
			if d.Evaluated != 50 || d.Hits != 13 || *d.AttackSuccessRate != 0.26 {
				t.Errorf("test.Test always.Pass = %+v", d)
			}
		}},
		{"garak aggregated", TaskGarak, "garak/agg.report.jsonl", func(t *testing.T, h *HarnessReport) {
			if got := metricValue(t, h.Metrics, "evaluated"); got != 9 {
				t.Errorf("evaluated = %v, want 9", got)
			}
			if got := metricValue(t, h.Metrics, "attackSuccessRate"); got != 0 {
				t.Errorf("attack success rate = %v, want 0", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := filepath.Abs(examples + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			h, err := ReadHarness(t.Context(), Spec{Name: "h", Task: tt.task, Path: path})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, h)
		})
	}
}

func writeBytes(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// promptfooOutput has the layout of `promptfoo eval --output x.json`
// (promptfoo 0.118): results.results with provider objects, success,
// score and failureReason (1 a failed assertion, 2 an error).
const promptfooOutput = `{"evalId": "eval-1", "results": {"version": 3, "results": [
 {"provider": {"id": "openai:gpt-5", "label": ""}, "success": true, "score": 1, "failureReason": 0},
 {"provider": {"id": "openai:gpt-5", "label": ""}, "success": false, "score": 0.5, "failureReason": 1, "error": "Latency 5794ms is greater than threshold 3000ms"},
 {"provider": {"id": "openai:gpt-4.1-mini", "label": ""}, "success": false, "score": 0, "failureReason": 2, "error": "API error"},
 {"provider": "openai:gpt-4.1-mini", "success": true, "score": 1}
], "stats": {"successes": 2, "failures": 1, "errors": 1}}, "config": {}}`

func TestPromptfooOutput(t *testing.T) {
	h, err := ReadHarness(t.Context(), Spec{Name: "p", Task: TaskPromptfoo, Path: writeFile(t, "out.json", []byte(promptfooOutput))})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{"tests": 4, "passed": 2, "failed": 1, "errors": 1, "passRate": 0.5, "meanScore": 0.625} {
		if got := metricValue(t, h.Metrics, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	mini := h.Providers["openai:gpt-4_1-mini"]
	if mini == nil {
		t.Fatalf("providers = %v, want the dotted id with '_'", h.Providers)
	}
	if got := metricValue(t, mini, "errors"); got != 1 {
		t.Errorf("gpt-4.1-mini errors = %v, want 1", got)
	}
}

func TestHarnessErrors(t *testing.T) {
	tests := []struct{ name, task, content, want string }{
		{"lm-eval without results", TaskLMEvalHarness, `{"versions": {}}`, `no "results" object`},
		{"garak without eval entries", TaskGarak, `{"entry_type": "init"}` + "\n", `no "eval" entries`},
		{"garak passed above total", TaskGarak, `{"entry_type": "eval", "probe": "a.B", "detector": "c.D", "passed": 3, "total": 2}` + "\n", "passed 3 is more than"},
		{"metrics-json nested", TaskMetricsJSON, `{"a": {"b": 1}}`, "flatten nested objects"},
		{"metrics-json names equal once dots become underscores", TaskMetricsJSON, `{"a.b": 1, "a_b": 2}`, `metrics "a.b" and "a_b" have the same name "a_b"`},
		{"promptfoo without results", TaskPromptfoo, `{"evalId": "x"}`, `no "results"`},
		{"lm-eval invalid UTF-8 task name", TaskLMEvalHarness, "{\"results\": {\n  \"t\xe5sk\": {\"acc\": 0.5}}}", "r.json:2:5: the byte 0xe5 is not part of a UTF-8 character"},
		{"garak invalid UTF-8 probe name", TaskGarak, "{\"entry_type\": \"init\"}\n{\"entry_type\": \"eval\", \"probe\": \"d\xffn\"}\n", "r.json:2:35: the byte 0xff"},
		{"metrics-json invalid UTF-8 name", TaskMetricsJSON, "{\"acc\xe9\": 1, \"acc\xe8\": 2}", "iconv -f latin1 -t utf-8"},
		{"promptfoo invalid UTF-8 provider", TaskPromptfoo, "{\"results\": [{\"success\": true, \"provider\": \"gpt\xa0\"}]}", "r.json:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHarness(t.Context(), Spec{Name: "h", Task: tt.task, Path: writeFile(t, "r.json", []byte(tt.content))})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestReferenceDifferencesAreGroupMinusReference checks that every task
// reports a group's difference from the reference group as the group's
// value minus the reference's.
func TestReferenceDifferencesAreGroupMinusReference(t *testing.T) {
	// Group M is the reference. In every task F does worse than M and X
	// does better or worse by a smaller amount.
	tests := []struct {
		name   string
		task   string
		csv    string
		metric string
		// want maps each group to its difference from M.
		want map[string]float64
		// wantLargest is the largest absolute difference.
		wantLargest float64
	}{
		{
			name: "multiclass accuracy", task: TaskMulticlassClassification, metric: "accuracy",
			csv: "y,p,g\n" +
				"a,a,M\nb,b,M\nc,c,M\na,a,M\n" +
				"a,a,F\nb,b,F\nc,a,F\na,b,F\n" +
				"a,a,X\nb,b,X\nc,c,X\na,c,X\n",
			want:        map[string]float64{"F": -0.5, "X": -0.25},
			wantLargest: 0.5,
		},
		{
			name: "regression mae", task: TaskRegression, metric: "mae",
			csv:         "y,p,g\n10,11,M\n20,19,M\n10,13,F\n20,17,F\n10,10,X\n20,20,X\n",
			want:        map[string]float64{"F": 2, "X": -1},
			wantLargest: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Name: "r", Task: tt.task, Path: writeFile(t, "p.csv", []byte(tt.csv)),
				Columns: Columns{Label: "y", Prediction: "p"}, Groups: []string{"g"}, ReferenceGroups: map[string]string{"g": "M"}}
			report, err := Run(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			g := report.(*Summary).Groups["g"]
			if g.Reference == nil || g.Reference.Group != "M" {
				t.Fatalf("reference = %+v, want the comparison with M", g.Reference)
			}
			if _, ok := g.Reference.Groups["M"]; ok {
				t.Error("the reference group is compared with itself")
			}
			for group, want := range tt.want {
				got := metricValue(t, g.Reference.Groups[group], tt.metric+"Difference")
				if math.Abs(got-want) > 1e-12 {
					t.Errorf("reference.groups.%s.%sDifference = %v, want %v (group minus reference)", group, tt.metric, got, want)
				}
			}
			if got := metricValue(t, g.Fairness, tt.metric+"ReferenceDifference"); math.Abs(got-tt.wantLargest) > 1e-12 {
				t.Errorf("fairness.%sReferenceDifference = %v, want %v", tt.metric, got, tt.wantLargest)
			}
		})
	}

	t.Run("binary tpr", func(t *testing.T) {
		csv := "label,prediction,g\n1,1,M\n1,1,M\n0,0,M\n1,1,F\n1,0,F\n0,0,F\n"
		spec := Spec{Name: "b", Task: TaskBinaryClassification, Path: writeFile(t, "p.csv", []byte(csv)), PositiveLabel: "1",
			Columns: Columns{Label: "label", Prediction: "prediction"}, Groups: []string{"g"}, ReferenceGroups: map[string]string{"g": "M"}}
		e, err := Evaluate(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		gap := e.Groups["g"].Reference.Groups["F"]
		if gap == nil || gap.TPRDifference == nil || *gap.TPRDifference != -0.5 {
			t.Errorf("reference.groups.F = %+v, want tprDifference -0.5 (group minus reference)", gap)
		}
	})
}

func TestReferenceDifferenceWithoutOtherGroups(t *testing.T) {
	// X is below the minimum group size, so M has no group to compare with.
	csv := "y,p,g\n10,11,M\n20,19,M\n10,13,X\n"
	spec := Spec{Name: "r", Task: TaskRegression, Path: writeFile(t, "p.csv", []byte(csv)),
		Columns: Columns{Label: "y", Prediction: "p"}, Groups: []string{"g"}, MinGroupSize: 2, ReferenceGroups: map[string]string{"g": "M"}}
	s, err := EvaluateRegression(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Groups["g"]
	if len(g.Reference.Groups) != 0 {
		t.Errorf("reference.groups = %v, want none: X is excluded", g.Reference.Groups)
	}
	if v, ok := g.Fairness["maeReferenceDifference"]; !ok || v != nil {
		t.Errorf("maeReferenceDifference = %v (present %v), want null", v, ok)
	}
	if reason := g.Undefined["fairness.maeReferenceDifference"]; !strings.Contains(reason, "no other group") {
		t.Errorf("reason = %q, want it to say that no other group is compared", reason)
	}
}
