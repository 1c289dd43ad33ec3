package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/ingest"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// basicCSV has tp=2, fn=1, fp=1, tn=2 and a tie at score 0.4 between a
// positive and a negative row. Group A holds rows 1-3, group B rows 4-6.
const basicCSV = `label,prediction,score,group
1,1,0.9,A
1,0,0.4,A
0,1,0.6,A
0,0,0.4,B
1,1,0.8,B
0,0,0.1,B
`

// writeFile writes content to name in a new temporary directory and returns
// its path.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t *testing.T, content string) []byte {
	t.Helper()
	var buffer bytes.Buffer
	writer := gzip.NewWriter(&buffer)
	if _, err := writer.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	return buffer.Bytes()
}

func basicSpec(path string) Spec {
	return Spec{
		Name:          "holdout",
		Task:          TaskBinaryClassification,
		Path:          path,
		DisplayPath:   "eval/" + filepath.Base(path),
		Columns:       Columns{Label: "label", Prediction: "prediction", Score: "score"},
		PositiveLabel: "1",
		Groups:        []string{"group"},
	}
}

func value(v float64) *float64 { return &v }

func assertClose(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > 1e-15 {
		t.Errorf("%s = %.17g, want %.17g", name, *got, want)
	}
}

func TestEvaluateBasicHandComputed(t *testing.T) {
	path := writeFile(t, "predictions.csv", []byte(basicCSV))
	evaluation, err := Evaluate(t.Context(), basicSpec(path))
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(ConfusionMatrix{TP: 2, FP: 1, TN: 2, FN: 1}, evaluation.ConfusionMatrix); diff != "" {
		t.Errorf("confusion matrix (-want +got):\n%s", diff)
	}
	m := evaluation.Metrics
	assertClose(t, "accuracy", &m.Accuracy, 4.0/6)
	assertClose(t, "balancedAccuracy", m.BalancedAccuracy, 2.0/3)
	assertClose(t, "precision", m.Precision, 2.0/3)
	assertClose(t, "recall", m.Recall, 2.0/3)
	assertClose(t, "specificity", m.Specificity, 2.0/3)
	assertClose(t, "fpr", m.FPR, 1.0/3)
	assertClose(t, "fnr", m.FNR, 1.0/3)
	assertClose(t, "f1", m.F1, 2.0/3)
	// Positive scores 0.9, 0.8, 0.4 against negatives 0.6, 0.4, 0.1: 3 + 3
	// pairs won, then 0.4 loses to 0.6, ties 0.4 (half) and beats 0.1.
	assertClose(t, "rocAuc", m.ROCAUC, 7.5/9)
	assertClose(t, "brierScore", m.BrierScore, (0.01+0.36+0.36+0.16+0.04+0.01)/6)
	if m.Positives != 3 || m.Negatives != 3 || m.PredictedPositives != 3 {
		t.Errorf("positives, negatives, predictedPositives = %d, %d, %d, want 3, 3, 3", m.Positives, m.Negatives, m.PredictedPositives)
	}
	if len(evaluation.Undefined) != 0 {
		t.Errorf("undefined = %v, want none", evaluation.Undefined)
	}

	content, _ := os.ReadFile(path)
	sum := sha256.Sum256(content)
	want := Source{Path: "eval/predictions.csv", SHA256: hex.EncodeToString(sum[:]), Rows: 6}
	if diff := cmp.Diff(want, evaluation.Source); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}

	groups := evaluation.Groups["group"]
	a, b := groups.Groups["A"], groups.Groups["B"]
	assertClose(t, "A.baseRate", &a.BaseRate, 2.0/3)
	assertClose(t, "A.selectionRate", &a.SelectionRate, 2.0/3)
	assertClose(t, "A.tpr", a.TPR, 0.5)
	assertClose(t, "A.fpr", a.FPR, 1)
	assertClose(t, "A.fnr", a.FNR, 0.5)
	assertClose(t, "A.precision", a.Precision, 0.5)
	assertClose(t, "A.accuracy", &a.Accuracy, 1.0/3)
	assertClose(t, "B.selectionRate", &b.SelectionRate, 1.0/3)
	assertClose(t, "B.tpr", b.TPR, 1)
	assertClose(t, "B.fpr", b.FPR, 0)
	assertClose(t, "B.accuracy", &b.Accuracy, 1)

	f := groups.Fairness
	assertClose(t, "demographicParityDifference", f.DemographicParityDifference, 1.0/3)
	assertClose(t, "demographicParityRatio", f.DemographicParityRatio, 0.5)
	assertClose(t, "disparateImpactRatio", f.DisparateImpactRatio, 0.5)
	// TPR 0.5 vs 1 and FPR 1 vs 0: the FPR gap of 1 and ratio of 0 dominate.
	assertClose(t, "equalizedOddsDifference", f.EqualizedOddsDifference, 1)
	assertClose(t, "equalizedOddsRatio", f.EqualizedOddsRatio, 0)
	if f.FourFifthsRule == nil || *f.FourFifthsRule {
		t.Errorf("fourFifthsRule = %v, want false", f.FourFifthsRule)
	}
}

// TestEvaluateGoldenJSON pins the JSON document of the basic file.
func TestEvaluateGoldenJSON(t *testing.T) {
	path := writeFile(t, "predictions.csv", []byte(basicCSV))
	evaluation, err := Evaluate(t.Context(), basicSpec(path))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(evaluation, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')

	golden := filepath.Join("testdata", "basic.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestEvaluateGoldenJSON -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("JSON differs from %s (-want +got):\n%s", golden, diff)
	}
}

// TestEvaluateSameResultAcrossEncodings reads basicCSV written in other
// encodings and formats and expects the same metrics.
func TestEvaluateSameResultAcrossEncodings(t *testing.T) {
	jsonl := `{"label": 1, "prediction": 1, "score": 0.9, "group": "A"}
{"label": "1", "prediction": 0, "score": "0.4", "group": "A"}

{"label": 0, "prediction": 1, "score": 0.6, "group": "A", "extra": {"ignored": true}}
{"label": 0, "prediction": 0, "score": 0.4, "group": "B"}
{"label": 1, "prediction": 1, "score": 0.8, "group": "B"}
{"label": 0, "prediction": 0, "score": 0.1, "group": "B"}
`
	quoted := "\"label\",\"prediction\",\"score\",\"group\"\n" +
		strings.ReplaceAll(strings.ReplaceAll(strings.SplitN(basicCSV, "\n", 2)[1], ",A", `,"A, the first"`), ",B", `,"B ""second"""`)

	tests := []struct {
		name    string
		file    string
		content []byte
		groups  []string // expected group names
	}{
		{"crlf", "p.csv", []byte(strings.ReplaceAll(basicCSV, "\n", "\r\n")), []string{"A", "B"}},
		{"bom", "p.csv", append([]byte("\uFEFF"), basicCSV...), []string{"A", "B"}},
		{"quoted commas", "p.csv", []byte(quoted), []string{"A, the first", `B "second"`}},
		{"gzip csv", "p.csv.gz", gzipped(t, basicCSV), []string{"A", "B"}},
		{"jsonl", "p.jsonl", []byte(jsonl), []string{"A", "B"}},
		{"gzip ndjson", "p.ndjson.gz", gzipped(t, jsonl), []string{"A", "B"}},
	}
	reference, err := Evaluate(t.Context(), basicSpec(writeFile(t, "p.csv", []byte(basicCSV))))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.content)
			evaluation, err := Evaluate(t.Context(), basicSpec(path))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(reference.Metrics, evaluation.Metrics); diff != "" {
				t.Errorf("metrics differ from the plain CSV (-want +got):\n%s", diff)
			}
			sum := sha256.Sum256(tt.content)
			if got := evaluation.Source.SHA256; got != hex.EncodeToString(sum[:]) {
				t.Errorf("sha256 = %s, want the digest of the stored bytes %x", got, sum)
			}
			for _, name := range tt.groups {
				if _, ok := evaluation.Groups["group"].Groups[name]; !ok {
					t.Errorf("group %q missing; groups are %v", name, evaluation.Groups["group"].Groups)
				}
			}
		})
	}
}

func TestEvaluateUndefinedMetrics(t *testing.T) {
	tests := []struct {
		name          string
		csv           string
		noScore       bool
		wantUndefined map[string]string // key to a substring of the reason
		wantGroup     map[string]string // group column "group" undefined entries
		check         func(t *testing.T, e *Evaluation)
	}{
		{
			name: "all one class",
			csv:  "label,prediction,score,group\n1,1,0.9,A\n1,0,0.2,A\n",
			wantUndefined: map[string]string{
				"rocAuc": "only one class", "balancedAccuracy": "only one class",
				"specificity": "negative label", "fpr": "negative label",
			},
			wantGroup: map[string]string{
				"groups.A.fpr":                     "negative label",
				"fairness.equalizedOddsDifference": `FPR is undefined for group "A"`,
				"fairness.equalizedOddsRatio":      `FPR is undefined for group "A"`,
			},
			check: func(t *testing.T, e *Evaluation) {
				assertClose(t, "recall", e.Metrics.Recall, 0.5)
				assertClose(t, "brierScore", e.Metrics.BrierScore, (0.01+0.64)/2)
			},
		},
		{
			name:          "two groups without negatives",
			csv:           "label,prediction,score,group\n1,1,0.9,F\n1,0,0.2,M\n0,0,0.3,X\n1,1,0.8,X\n",
			wantUndefined: map[string]string{},
			wantGroup: map[string]string{
				"groups.F.fpr":                     "negative label",
				"groups.M.fpr":                     "negative label",
				"groups.M.precision":               "no predicted positives",
				"fairness.equalizedOddsDifference": `FPR is undefined for groups "F", "M", which have no rows with the negative label`,
				"fairness.equalizedOddsRatio":      `FPR is undefined for groups "F", "M", which have no rows`,
			},
		},
		{
			name:          "one group without negatives",
			csv:           "label,prediction,score,group\n1,1,0.9,F\n0,0,0.3,X\n1,1,0.8,X\n",
			wantUndefined: map[string]string{},
			wantGroup: map[string]string{
				"groups.F.fpr":                     "negative label",
				"fairness.equalizedOddsDifference": `FPR is undefined for group "F", which has no rows with the negative label`,
				"fairness.equalizedOddsRatio":      `FPR is undefined for group "F", which has no rows`,
			},
		},
		{
			name:          "tied scores everywhere",
			csv:           "label,prediction,score,group\n1,1,0.5,A\n0,1,0.5,A\n1,1,0.5,A\n0,0,0.5,A\n",
			wantUndefined: map[string]string{},
			wantGroup:     map[string]string{},
			check: func(t *testing.T, e *Evaluation) {
				// One threshold: the curve is the diagonal.
				assertClose(t, "rocAuc", e.Metrics.ROCAUC, 0.5)
			},
		},
		{
			name:          "group without positives and single-row group",
			csv:           "label,prediction,score,group\n1,1,0.9,A\n0,0,0.1,A\n0,1,0.7,B\n0,0,0.3,B\n1,0,0.4,C\n",
			wantUndefined: map[string]string{},
			wantGroup: map[string]string{
				"groups.B.tpr":                     "positive label",
				"groups.B.fnr":                     "positive label",
				"groups.C.fpr":                     "negative label",
				"groups.C.precision":               "no predicted positives",
				"fairness.equalizedOddsDifference": `TPR is undefined for group "B"`,
				"fairness.equalizedOddsRatio":      `FPR is undefined for group "C"`,
			},
			check: func(t *testing.T, e *Evaluation) {
				c := e.Groups["group"].Groups["C"]
				if c.Count != 1 || c.Positives != 1 {
					t.Errorf("group C count, positives = %d, %d, want 1, 1", c.Count, c.Positives)
				}
				assertClose(t, "C.tpr", c.TPR, 0)
				f := e.Groups["group"].Fairness
				// Selection rates A 0.5, B 0.5, C 0.
				assertClose(t, "demographicParityDifference", f.DemographicParityDifference, 0.5)
				assertClose(t, "demographicParityRatio", f.DemographicParityRatio, 0)
				if f.EqualizedOddsDifference != nil || f.EqualizedOddsRatio != nil {
					t.Errorf("equalized odds = %v, %v, want null", f.EqualizedOddsDifference, f.EqualizedOddsRatio)
				}
			},
		},
		{
			name: "zero predicted positives",
			csv:  "label,prediction,score,group\n1,0,0.9,A\n0,0,0.1,A\n0,0,0.2,B\n1,0,0.3,B\n",
			wantUndefined: map[string]string{
				"precision": "no predicted positives",
			},
			wantGroup: map[string]string{
				"groups.A.precision":              "no predicted positives",
				"groups.B.precision":              "no predicted positives",
				"fairness.demographicParityRatio": "no group has a predicted positive",
				"fairness.disparateImpactRatio":   "no group has a predicted positive",
				"fairness.fourFifthsRule":         "no group has a predicted positive",
				"fairness.equalizedOddsRatio":     "every group's TPR is 0",
			},
			check: func(t *testing.T, e *Evaluation) {
				// 2tp + fp + fn = 2, so F1 is a defined 0.
				assertClose(t, "f1", e.Metrics.F1, 0)
				assertClose(t, "recall", e.Metrics.Recall, 0)
				// Positive 0.9 beats both negatives, 0.3 beats 0.1 and 0.2.
				assertClose(t, "rocAuc", e.Metrics.ROCAUC, 1)
				f := e.Groups["group"].Fairness
				assertClose(t, "demographicParityDifference", f.DemographicParityDifference, 0)
				assertClose(t, "equalizedOddsDifference", f.EqualizedOddsDifference, 0)
				if f.FourFifthsRule != nil {
					t.Errorf("fourFifthsRule = %v, want null", *f.FourFifthsRule)
				}
			},
		},
		{
			name: "score outside probability range",
			csv:  "label,prediction,score,group\n1,1,2.5,A\n0,0,-1,A\n",
			wantUndefined: map[string]string{
				"brierScore":               `the score "2.5" on line 2 is outside [0, 1]`,
				"logLoss":                  `the score "2.5" on line 2 is outside [0, 1]`,
				"expectedCalibrationError": `the score "2.5" on line 2 is outside [0, 1]`,
			},
			// One group, no false positives: the FPR ratio is 0/0.
			wantGroup: map[string]string{"fairness.equalizedOddsRatio": "every group's FPR is 0"},
			check: func(t *testing.T, e *Evaluation) {
				assertClose(t, "rocAuc", e.Metrics.ROCAUC, 1)
			},
		},
		{
			name:    "no score column",
			csv:     "label,prediction,group\n1,1,A\n0,0,A\n",
			noScore: true,
			wantUndefined: map[string]string{
				"rocAuc":                   "not configured",
				"averagePrecision":         "not configured",
				"brierScore":               "not configured",
				"logLoss":                  "not configured",
				"expectedCalibrationError": "not configured",
			},
			wantGroup: map[string]string{"fairness.equalizedOddsRatio": "every group's FPR is 0"},
		},
		{
			name:          "inferred negative label",
			csv:           "label,prediction,score,group\nyes,no,0.4,A\nno,no,0.2,A\n",
			wantUndefined: map[string]string{"precision": "no predicted positives"},
			wantGroup:     map[string]string{"groups.A.precision": "no predicted positives", "fairness.demographicParityRatio": "no group", "fairness.disparateImpactRatio": "no group", "fairness.fourFifthsRule": "no group", "fairness.equalizedOddsRatio": "TPR is 0"},
			check: func(t *testing.T, e *Evaluation) {
				if e.Metrics.Positives != 1 || e.Metrics.Negatives != 1 {
					t.Errorf("positives, negatives = %d, %d, want 1, 1", e.Metrics.Positives, e.Metrics.Negatives)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := basicSpec(writeFile(t, "p.csv", []byte(tt.csv)))
			if tt.noScore {
				spec.Columns.Score = ""
			}
			if tt.name == "inferred negative label" {
				spec.PositiveLabel = "yes"
			}
			evaluation, err := Evaluate(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			assertReasons(t, "undefined", evaluation.Undefined, tt.wantUndefined)
			assertReasons(t, "groups.group.undefined", evaluation.Groups["group"].Undefined, tt.wantGroup)
			assertNullsExplained(t, evaluation)
			if tt.check != nil {
				tt.check(t, evaluation)
			}
		})
	}
}

// assertReasons checks that got has exactly the keys of want, each reason
// containing the wanted text.
func assertReasons(t *testing.T, name string, got, want map[string]string) {
	t.Helper()
	for key, text := range want {
		reason, ok := got[key]
		if !ok {
			t.Errorf("%s[%q] missing; have %v", name, key, got)
			continue
		}
		if !strings.Contains(reason, text) {
			t.Errorf("%s[%q] = %q, want it to contain %q", name, key, reason, text)
		}
	}
	for key, reason := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s[%q] = %q is unexpected", name, key, reason)
		}
	}
}

// assertNullsExplained checks, on the JSON form, that every null metric has
// a reason and every reason belongs to a null metric.
func assertNullsExplained(t *testing.T, evaluation *Evaluation) {
	t.Helper()
	document := toJSONValue(t, evaluation)
	check := func(where string, values map[string]any, prefix string, undefined map[string]any) {
		for key, v := range values {
			_, explained := undefined[prefix+key]
			if v == nil && !explained {
				t.Errorf("%s: %s%s is null without a reason", where, prefix, key)
			}
			if v != nil && explained {
				t.Errorf("%s: %s%s = %v but has a reason %v", where, prefix, key, v, undefined[prefix+key])
			}
		}
	}
	check("metrics", document["metrics"].(map[string]any), "", document["undefined"].(map[string]any))
	for name, column := range document["groups"].(map[string]any) {
		column := column.(map[string]any)
		undefined := column["undefined"].(map[string]any)
		check(name, column["fairness"].(map[string]any), "fairness.", undefined)
		for group, metrics := range column["groups"].(map[string]any) {
			check(name, metrics.(map[string]any), "groups."+group+".", undefined)
		}
	}
}

func TestEvaluateRowErrors(t *testing.T) {
	tests := []struct {
		name       string
		csv        string
		negative   string
		wantLine   int
		wantColumn string
		wantText   []string
	}{
		{
			name:       "third label value",
			csv:        "label,prediction,score,group\n1,1,0.9,A\n0,0,0.1,A\n2,0,0.5,B\n",
			wantLine:   4,
			wantColumn: "label",
			wantText:   []string{`"2" is a third distinct value`, `"0" (first seen on line 3`, "set negative_label"},
		},
		{
			name:       "value outside configured labels",
			csv:        "label,prediction,score,group\n1,1,0.9,A\n0,yes,0.1,A\n",
			negative:   "0",
			wantLine:   3,
			wantColumn: "prediction",
			wantText:   []string{`"yes" is neither the positive label "1" nor the negative label "0"`},
		},
		{
			name:       "empty label",
			csv:        "label,prediction,score,group\n,1,0.9,A\n",
			wantLine:   2,
			wantColumn: "label",
			wantText:   []string{"the value is empty"},
		},
		{
			name:       "NaN score",
			csv:        "label,prediction,score,group\n1,1,0.9,A\n0,0,NaN,A\n",
			wantLine:   3,
			wantColumn: "score",
			wantText:   []string{`"NaN" is not a finite number`},
		},
		{
			name:       "infinite score",
			csv:        "label,prediction,score,group\n1,1,1e999,A\n",
			wantLine:   2,
			wantColumn: "score",
			wantText:   []string{`"1e999" is not a finite number`},
		},
		{
			name:       "text score",
			csv:        "label,prediction,score,group\n1,1,abc,A\n",
			wantLine:   2,
			wantColumn: "score",
			wantText:   []string{`eval/p.csv:2: column "score": "abc" is not a number`},
		},
		{
			name:       "empty score",
			csv:        "label,prediction,score,group\n1,1,,A\n",
			wantLine:   2,
			wantColumn: "score",
			wantText:   []string{"the score is empty"},
		},
		{
			name:       "missing column",
			csv:        "label,prediction,probability,group\n1,1,0.5,A\n",
			wantLine:   1,
			wantColumn: "score",
			wantText:   []string{`eval/p.csv:1: column "score": column not found in the header`, `"probability"`},
		},
		{
			name:     "wrong field count",
			csv:      "label,prediction,score,group\n1,1,0.5,A\n1,1,0.5,A,extra\n",
			wantLine: 3,
			wantText: []string{"wrong number of fields", "the row has 5 fields but the header has 4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := basicSpec(writeFile(t, "p.csv", []byte(tt.csv)))
			spec.NegativeLabel = tt.negative
			_, err := Evaluate(t.Context(), spec)
			var rowErr *ingest.RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v, want a *ingest.RowError", err)
			}
			if rowErr.Line != tt.wantLine || rowErr.Column != tt.wantColumn {
				t.Errorf("line, column = %d, %q, want %d, %q", rowErr.Line, rowErr.Column, tt.wantLine, tt.wantColumn)
			}
			if rowErr.Path != "eval/p.csv" {
				t.Errorf("path = %q, want the display path eval/p.csv", rowErr.Path)
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestEvaluateEmptyInput(t *testing.T) {
	for name, content := range map[string]string{
		"empty file":     "",
		"header only":    "label,prediction,score,group\n",
		"BOM and header": "\uFEFFlabel,prediction,score,group\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Evaluate(t.Context(), basicSpec(writeFile(t, "p.csv", []byte(content))))
			if !errors.Is(err, ingest.ErrEmpty) {
				t.Fatalf("error = %v, want ingest.ErrEmpty", err)
			}
			if !strings.HasPrefix(err.Error(), "eval/p.csv: ") {
				t.Errorf("error %q does not start with the display path", err)
			}
		})
	}
}

func TestEvaluateInvalidSpec(t *testing.T) {
	path := writeFile(t, "p.csv", []byte(basicCSV))
	tests := []struct {
		name   string
		modify func(*Spec)
		want   string
	}{
		{"regression task", func(s *Spec) { s.Task = "regression" }, `task "regression" is not binary-classification`},
		{"unknown task", func(s *Spec) { s.Task = "clustering"; s.Name = "x" }, `task "clustering" is not binary-classification`},
		{"no positive label", func(s *Spec) { s.PositiveLabel = "" }, "positive label is not set"},
		{"same labels", func(s *Spec) { s.NegativeLabel = "1" }, "equals the positive label"},
		{"duplicate group", func(s *Spec) { s.Groups = []string{"group", "group"} }, `"group" is listed twice`},
		{"unknown format", func(s *Spec) { s.Format = "xlsx" }, `unknown predictions format "xlsx"`},
		{"csv read as parquet", func(s *Spec) { s.Format = "parquet" }, `not a readable Parquet file`},
		{"no label column", func(s *Spec) { s.Columns.Label = "" }, "label column is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := basicSpec(path)
			tt.modify(&spec)
			_, err := Evaluate(t.Context(), spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEvaluateCancelled(t *testing.T) {
	path := writeFile(t, "p.csv", []byte(basicCSV))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Evaluate(ctx, basicSpec(path))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestROCAUCMatchesPairCounting(t *testing.T) {
	// The trapezoid over distinct thresholds equals the share of
	// (positive, negative) pairs ranked correctly, ties counting half.
	tests := []struct {
		name               string
		positive, negative []float64
	}{
		{"perfect", []float64{0.9, 0.8}, []float64{0.1, 0.2}},
		{"inverted", []float64{0.1}, []float64{0.9, 0.8}},
		{"ties across classes", []float64{0.5, 0.5, 0.7, 0.2}, []float64{0.5, 0.2, 0.2, 0.9, 0.5}},
		{"negative zero", []float64{0, 1}, []float64{math.Copysign(0, -1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var won float64
			for _, p := range tt.positive {
				for _, n := range tt.negative {
					switch {
					case p > n:
						won++
					case p == n:
						won += 0.5
					}
				}
			}
			want := won / float64(len(tt.positive)*len(tt.negative))
			// A limit of 1 makes the set spill to the lists of scores
			// on the second distinct score; 0 keeps the counts.
			for _, limit := range []int{0, 1} {
				set := scoreSet{limit: limit}
				for _, p := range tt.positive {
					set.add(p, true)
				}
				for _, n := range tt.negative {
					set.add(n, false)
				}
				got, ok := set.rocAUC()
				if !ok {
					t.Fatalf("limit %d: rocAUC reported one class only", limit)
				}
				assertClose(t, fmt.Sprintf("rocAuc with limit %d", limit), value(got), want)
			}
		})
	}
}
