package metrics

import (
	"math"
	"strings"
	"testing"
)

// TestEdgeCasesFromIssueTrackers turns kinds of input that users of
// scikit-learn, fairlearn and pandas have reported as surprising into
// cases with the behaviour chosen here. Each case names the public issue
// it comes from, and docs/metrics.md explains the choice where it
// differs from the library.
func TestEdgeCasesFromIssueTrackers(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		// edit adjusts the spec built by edgeSpec.
		edit func(*Spec)
		// check inspects the result; wantErr, when set, is a text the
		// error must contain instead.
		check   func(*testing.T, *Evaluation)
		wantErr string
	}{
		{
			// scikit-learn/scikit-learn#4230 and #24381: roc_auc_score
			// raises "Only one class present in y_true".
			name: "roc auc with one class",
			csv:  "label,prediction,score,g\n1,1,0.9,a\n1,0,0.3,a\n",
			edit: func(s *Spec) { s.NegativeLabel = "0" },
			check: func(t *testing.T, e *Evaluation) {
				wantUndefined(t, e.Metrics.ROCAUC, e.Undefined, "rocAuc", "only one class")
			},
		},
		{
			// scikit-learn/scikit-learn#8245 (fixed by #8280 and #13891)
			// and #24381: average_precision_score with no positive label
			// returned nan, and now returns -0.0 with a warning.
			name: "average precision with all-negative labels",
			csv:  "label,prediction,score,g\n0,1,0.8,a\n0,0,0.1,a\n",
			edit: func(s *Spec) { s.NegativeLabel = "0" },
			check: func(t *testing.T, e *Evaluation) {
				wantUndefined(t, e.Metrics.AveragePrecision, e.Undefined, "averagePrecision", "no rows with the positive label")
			},
		},
		{
			// scikit-learn/scikit-learn#13453 and #14876: precision with
			// no predicted positive is 0 (zero_division="warn") there.
			name: "precision with zero predicted positives",
			csv:  "label,prediction,score,g\n1,0,0.4,a\n0,0,0.2,a\n",
			check: func(t *testing.T, e *Evaluation) {
				wantUndefined(t, e.Metrics.Precision, e.Undefined, "precision", "no predicted positives")
				// F1 stays defined: 2tp + fp + fn = 1.
				wantValue(t, "f1", e.Metrics.F1, 0)
			},
		},
		{
			// scikit-learn/scikit-learn#13453: y_true and y_pred all
			// negative; precision, recall and F1 are all 0/0.
			name: "all negative labels and predictions",
			csv:  "label,prediction,g\n0,0,a\n0,0,a\n",
			edit: func(s *Spec) { s.NegativeLabel = "0"; s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				wantUndefined(t, e.Metrics.Precision, e.Undefined, "precision", "no predicted positives")
				wantUndefined(t, e.Metrics.Recall, e.Undefined, "recall", "no rows with the positive label")
				wantUndefined(t, e.Metrics.F1, e.Undefined, "f1", "2tp + fp + fn = 0")
				wantValue(t, "accuracy", &e.Metrics.Accuracy, 1)
			},
		},
		{
			// scikit-learn/scikit-learn#17399 and #24354: log_loss clips
			// probabilities of exactly 0 and 1; since 1.2 the bound is
			// the float64 machine epsilon.
			name: "log loss with certain wrong probabilities",
			csv:  "label,prediction,score,g\n1,0,0,a\n0,1,1,a\n",
			check: func(t *testing.T, e *Evaluation) {
				// Both rows cost -log(2^-52) = 52 log 2.
				wantValue(t, "logLoss", e.Metrics.LogLoss, 52*math.Ln2)
			},
		},
		{
			// scikit-learn/scikit-learn#34889 and online-ml/river#1953:
			// balanced accuracy when a class is missing from the labels.
			// With one class in a binary file, scikit-learn warns and
			// returns the recall of the class present; here it is
			// undefined.
			name: "balanced accuracy with one class in the labels",
			csv:  "label,prediction,g\n1,1,a\n1,0,a\n",
			edit: func(s *Spec) { s.NegativeLabel = "0"; s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				wantUndefined(t, e.Metrics.BalancedAccuracy, e.Undefined, "balancedAccuracy", "only one class")
			},
		},
		{
			// Trusted-AI/AIF360#307 (a zero denominator in a rate): with
			// no predicted positive in any group the selection-rate
			// ratio is 0/0.
			name: "demographic parity ratio with no selections",
			csv:  "label,prediction,g\n1,0,a\n0,0,b\n",
			edit: func(s *Spec) { s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				f := e.Groups["g"].Fairness
				wantUndefined(t, f.DemographicParityRatio, e.Groups["g"].Undefined, "fairness.demographicParityRatio", "")
				wantValue(t, "demographicParityDifference", f.DemographicParityDifference, 0)
				if f.FourFifthsRule != nil {
					t.Errorf("fourFifthsRule = %v, want null", *f.FourFifthsRule)
				}
			},
		},
		{
			// JobCollins/fairness_pipeline_dev_toolkit#29: a group with
			// no positive label made equalized odds look perfectly fair
			// (0). fairlearn counts that group's TPR as 0.
			name: "group without positive labels",
			csv:  "label,prediction,g\n1,1,a\n0,0,a\n0,1,b\n0,0,b\n",
			edit: func(s *Spec) { s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				column := e.Groups["g"]
				wantUndefined(t, column.Fairness.EqualizedOddsDifference, column.Undefined, "fairness.equalizedOddsDifference", "b")
				wantUndefined(t, column.Groups["b"].TPR, column.Undefined, "groups.b.tpr", "")
			},
		},
		{
			// fairlearn's between_groups difference and ratio over a
			// single group: 0 and 1 (no issue; checked by the same
			// definitions as the cases above).
			name: "single group",
			csv:  "label,prediction,g\n1,1,a\n0,1,a\n",
			edit: func(s *Spec) { s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				f := e.Groups["g"].Fairness
				wantValue(t, "demographicParityDifference", f.DemographicParityDifference, 0)
				wantValue(t, "demographicParityRatio", f.DemographicParityRatio, 1)
			},
		},
		{
			// pandas-dev/pandas#10647, #50458 and OasisLMF/OasisLMF#307:
			// read_csv turns "NA", "N/A" and "nan" into NaN by default, so
			// Namibia ("NA") vanishes from a group column.
			name: "NA strings are group values",
			csv:  "label,prediction,g\n1,1,NA\n0,0,N/A\n1,0,nan\n0,1,\n",
			edit: func(s *Spec) { s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				groups := e.Groups["g"].Groups
				for _, name := range []string{"NA", "N/A", "nan", ""} {
					if groups[name] == nil || groups[name].Count != 1 {
						t.Errorf("group %q = %+v, want one row of its own", name, groups[name])
					}
				}
			},
		},
		{
			// pandas-dev/pandas#10647: "nan" as a score is NaN in pandas;
			// here a score must be a finite number.
			name:    "nan score",
			csv:     "label,prediction,score,g\n1,1,nan,a\n",
			wantErr: `"nan" is not a finite number`,
		},
		{
			// pandas-dev/pandas#20717 and calpaterson/csvbase#11: an
			// integer column with a missing value is written back as
			// 1.0, 0.0. Labels are compared as text, so "1.0" would
			// otherwise become the negative label beside a positive "1".
			name:    "labels written as floats",
			csv:     "label,prediction,g\n1.0,1,a\n0.0,0,a\n",
			edit:    func(s *Spec) { s.Columns.Score = "" },
			wantErr: `"1.0" would be taken as the negative label, but it is the positive label "1" written differently`,
		},
		{
			// The same file with the negative label configured: "1.0" is
			// then a value outside both labels.
			name:    "labels written as floats with a negative label",
			csv:     "label,prediction,g\n1.0,1,a\n",
			edit:    func(s *Spec) { s.Columns.Score = ""; s.NegativeLabel = "0" },
			wantErr: `"1.0" and "1" are the same number written differently`,
		},
		{
			// pandas-dev/pandas#19383 and #14704: read_csv renames a
			// second "label" column to "label.1" and reads the first.
			name:    "duplicated header name",
			csv:     "label,prediction,label,g\n1,1,0,a\n",
			edit:    func(s *Spec) { s.Columns.Score = "" },
			wantErr: "the header names this column more than once",
		},
		{
			// No issue found: blank lines (here at the end, with CRLF)
			// are skipped, as read_csv does with its default
			// skip_blank_lines=True, and do not count as rows.
			name: "trailing empty lines",
			csv:  "label,prediction,g\r\n1,1,a\r\n0,0,a\r\n\r\n\r\n",
			edit: func(s *Spec) { s.Columns.Score = "" },
			check: func(t *testing.T, e *Evaluation) {
				if e.Source.Rows != 2 {
					t.Errorf("rows = %d, want 2", e.Source.Rows)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{
				Name: "edge", Task: TaskBinaryClassification, Path: writeFile(t, "p.csv", []byte(tt.csv)),
				Columns: Columns{Label: "label", Prediction: "prediction", Score: "score"}, PositiveLabel: "1",
				Groups: []string{"g"},
			}
			if tt.edit != nil {
				tt.edit(&spec)
			}
			e, err := Evaluate(t.Context(), spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e)
		})
	}
}

func TestMulticlassBalancedAccuracyPredictedOnlyClass(t *testing.T) {
	// scikit-learn/scikit-learn#34889 and online-ml/river#1953: a class
	// that is predicted but never true is left out of balanced accuracy,
	// as scikit-learn does: (1/2 + 2/2) / 2.
	csv := "label,prediction\n0,0\n0,2\n1,1\n1,1\n"
	s, err := EvaluateMulticlass(t.Context(), Spec{Name: "m", Task: TaskMulticlassClassification,
		Path: writeFile(t, "m.csv", []byte(csv)), Columns: Columns{Label: "label", Prediction: "prediction"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, s.Metrics, "balancedAccuracy"); math.Abs(got-0.75) > 1e-15 {
		t.Errorf("balancedAccuracy = %v, want 0.75", got)
	}
}

// wantUndefined fails t unless value is nil and undefined[key] contains
// reason.
func wantUndefined(t *testing.T, value *float64, undefined map[string]string, key, reason string) {
	t.Helper()
	if value != nil {
		t.Errorf("%s = %v, want null", key, *value)
	}
	if got, ok := undefined[key]; !ok || !strings.Contains(got, reason) {
		t.Errorf("undefined[%q] = %q, want a reason containing %q", key, got, reason)
	}
}

func wantValue(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > 1e-12 {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}
