package aibom

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tasksMetrics is the path of a metrics.json with one evaluation of every task: binary
// (with a reference group and bootstrap intervals), a stressed binary
// evaluation, multiclass (with a group below min_group_size), regression
// (with a reference group), latency and the four harness readers.
var tasksMetrics = filepath.Join("testdata", "tasks.metrics.json")

// TestPerformanceMetricsCoverEveryTask checks that every defined number of
// every task is copied, in order, and that undefined values, counts of the
// confusion matrix, calibration points, threshold sweeps and harness
// standard errors are not.
func TestPerformanceMetricsCoverEveryTask(t *testing.T) {
	data, err := os.ReadFile(tasksMetrics)
	if err != nil {
		t.Fatal(err)
	}
	evals, err := parseMetrics(data)
	if err != nil {
		t.Fatal(err)
	}
	// slice, type, value and, when present, the interval's bounds.
	want := [][]string{
		{"bin", "accuracy", "0.8", "0.72", "0.87"},
		{"bin", "averagePrecision", "0.71"},
		{"bin", "balancedAccuracy", "0.79"},
		{"bin", "brierScore", "0.15"},
		{"bin", "expectedCalibrationError", "0.04"},
		{"bin", "f1", "0.75"},
		{"bin", "fnr", "0.25"},
		{"bin", "fpr", "0.16666666666666666"},
		{"bin", "logLoss", "0.45"},
		{"bin", "negatives", "60"},
		{"bin", "positives", "40"},
		{"bin", "precision", "0.75"},
		{"bin", "predictedPositives", "40"},
		{"bin", "recall", "0.75"},
		{"bin", "specificity", "0.8333333333333334"},
		{"bin: sex=f", "accuracy", "0.82"},
		{"bin: sex=f", "baseRate", "0.4"},
		{"bin: sex=f", "count", "50"},
		{"bin: sex=f", "fnr", "0.3"},
		{"bin: sex=f", "fpr", "0.1"},
		{"bin: sex=f", "positives", "20"},
		{"bin: sex=f", "precision", "0.8"},
		{"bin: sex=f", "selectionRate", "0.3"},
		{"bin: sex=f", "tpr", "0.7"},
		{"bin: sex=m", "accuracy", "0.78"},
		{"bin: sex=m", "baseRate", "0.4"},
		{"bin: sex=m", "count", "50"},
		{"bin: sex=m", "fnr", "0.2"},
		{"bin: sex=m", "positives", "20"},
		{"bin: sex=m", "precision", "0.7"},
		{"bin: sex=m", "selectionRate", "0.5"},
		{"bin: sex=m", "tpr", "0.8"},
		{"bin: sex", "demographicParityDifference", "0.2"},
		{"bin: sex", "demographicParityRatio", "0.6"},
		{"bin: sex", "disparateImpactRatio", "0.6", "0.4", "0.8"},
		{"bin: sex, against sex=m", "disparateImpactRatio", "0.6"},
		{"bin: sex=f, against sex=m", "selectionRateDifference", "-0.2"},
		{"bin: sex=f, against sex=m", "selectionRateRatio", "0.6"},
		{"bin: sex=f, against sex=m", "tprDifference", "-0.1"},
		{"bin-noisy", "accuracy", "0.7"},
		{"bin-noisy: noise against bin", "drop.accuracy", "0.1"},
		{"bin-noisy: noise against bin", "flipRate", "0.12"},
		{"bin-noisy: noise against bin", "flips", "12"},
		{"bin-noisy: noise against bin", "pairedRows", "100"},
		{"garak", "attackSuccessRate", "0.25"},
		{"garak", "evaluated", "20"},
		{"garak", "hits", "5"},
		{"garak: probe=dan_Dan_11_0", "maxAttackSuccessRate", "0.25"},
		{"garak: probe=dan_Dan_11_0, detector=dan_DAN", "attackSuccessRate", "0.25"},
		{"garak: probe=dan_Dan_11_0, detector=dan_DAN", "evaluated", "20"},
		{"garak: probe=dan_Dan_11_0, detector=dan_DAN", "hits", "5"},
		{"lat", "count", "1000"},
		{"lat", "max", "250"},
		{"lat", "mean", "42.5"},
		{"lat", "min", "3"},
		{"lat", "p50", "38"},
		{"lat", "p90", "80"},
		{"lat", "p95", "110"},
		{"lat", "p99", "200"},
		{"lm: task=arc_easy", "acc,none", "0.75"},
		{"lm: task=arc_easy", "acc_norm,none", "0.72"},
		{"mj", "rouge_l", "0.41"},
		{"multi", "accuracy", "0.8333333333333334"},
		{"multi", "balancedAccuracy", "0.8333333333333334"},
		{"multi", "macroF1", "0.8328173374613003", "0.75", "0.9"},
		{"multi: class=cat", "f1", "0.8421052631578947"},
		{"multi: class=cat", "precision", "0.8"},
		{"multi: class=cat", "recall", "0.8888888888888888"},
		{"multi: class=cat", "support", "45"},
		{"multi: class=dog", "f1", "0.8235294117647058"},
		{"multi: class=dog", "precision", "0.875"},
		{"multi: class=dog", "recall", "0.7777777777777778"},
		{"multi: class=dog", "support", "45"},
		{"multi: region=n", "accuracy", "0.86"},
		{"multi: region=n", "balancedAccuracy", "0.85"},
		{"multi: region=n", "count", "50"},
		{"multi: region=s", "accuracy", "0.8"},
		{"multi: region=s", "balancedAccuracy", "0.81"},
		{"multi: region=s", "count", "35"},
		{"multi: region=x (fewer than 10 rows, left out of the fairness measures)", "accuracy", "0.8"},
		{"multi: region=x (fewer than 10 rows, left out of the fairness measures)", "count", "5"},
		{"multi: region", "accuracyDifference", "0.06"},
		{"multi: region", "accuracyRatio", "0.9302325581395349"},
		{"multi: region", "balancedAccuracyDifference", "0.04"},
		{"multi: region", "balancedAccuracyRatio", "0.9529411764705882"},
		{"pf", "errors", "0"},
		{"pf", "failed", "1"},
		{"pf", "meanScore", "0.9"},
		{"pf", "passRate", "0.9"},
		{"pf", "passed", "9"},
		{"pf", "tests", "10"},
		{"pf: provider=gpt", "errors", "0"},
		{"pf: provider=gpt", "failed", "1"},
		{"pf: provider=gpt", "meanScore", "0.9"},
		{"pf: provider=gpt", "passRate", "0.9"},
		{"pf: provider=gpt", "passed", "9"},
		{"pf: provider=gpt", "tests", "10"},
		{"reg", "mae", "3.985184", "3.7", "4.3"},
		{"reg", "mape", "1.0042622782968547"},
		{"reg", "maxError", "13.556"},
		{"reg", "meanError", "-0.262652"},
		{"reg", "medianAbsoluteError", "3.337"},
		{"reg", "mse", "25.023521652"},
		{"reg", "r2", "0.9720177835170503"},
		{"reg", "rmse", "5.00235161219201", "4.7", "5.3"},
		{"reg: g=a", "count", "245"},
		{"reg: g=a", "mae", "4.16"},
		{"reg: g=a", "mape", "1.86"},
		{"reg: g=a", "maxError", "13.067"},
		{"reg: g=a", "meanError", "0.123"},
		{"reg: g=a", "mse", "26.41"},
		{"reg: g=a", "r2", "0.97"},
		{"reg: g=a", "rmse", "5.14"},
		{"reg: g=b", "count", "255"},
		{"reg: g=b", "mae", "3.82"},
		{"reg: g=b", "mape", "0.18"},
		{"reg: g=b", "maxError", "13.556"},
		{"reg: g=b", "meanError", "-0.633"},
		{"reg: g=b", "mse", "23.69"},
		{"reg: g=b", "r2", "0.973"},
		{"reg: g=b", "rmse", "4.87"},
		{"reg: g", "maeDifference", "0.34"},
		{"reg: g", "maeRatio", "0.917"},
		{"reg: g", "maeReferenceDifference", "0.34"},
		{"reg: g", "rmseDifference", "0.27"},
		{"reg: g", "rmseRatio", "0.947"},
		{"reg: g", "rmseReferenceDifference", "0.27"},
		{"reg: g=a, against g=b", "maeDifference", "0.34"},
		{"reg: g=a, against g=b", "rmseDifference", "0.27"},
	}
	var got [][]string
	for _, m := range performanceMetrics(evals) {
		row := []string{m.Slice, m.Type, m.Value}
		if ci := m.ConfidenceInterval; ci != nil {
			row = append(row, ci.LowerBound, ci.UpperBound)
		}
		got = append(got, row)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("performance metrics (-want +got):\n%s", diff)
	}
}

func TestModelTask(t *testing.T) {
	evals := func(tasks ...string) []evaluation {
		var out []evaluation
		for _, task := range tasks {
			out = append(out, evaluation{Task: task})
		}
		return out
	}
	tests := []struct {
		name  string
		evals []evaluation
		want  string
	}{
		{"no evaluations keeps the configured task", nil, "configured"},
		{"one task", evals("regression", "regression"), "regression"},
		{"one harness task", evals("garak"), "garak"},
		{"latency and harness beside one prediction task", evals("latency", "binary-classification", "lm-eval-harness", "binary-classification"), "binary-classification"},
		{"two prediction tasks", evals("binary-classification", "regression", "latency"), ""},
		{"only latency and harness tasks", evals("latency", "promptfoo"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := modelTask(tt.evals, "configured"); got != tt.want {
				t.Errorf("modelTask = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBuildTaskOfMixedEvaluations checks modelParameters.task in the
// document: left out when binary classification and regression are both
// evaluated, whatever the configured task.
func TestBuildTaskOfMixedEvaluations(t *testing.T) {
	data, err := os.ReadFile(tasksMetrics)
	if err != nil {
		t.Fatal(err)
	}
	in := testInput()
	in.Metrics = data
	bom, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	card := (*bom.Components)[0].ModelCard
	if card.ModelParameters.Task != "" {
		t.Errorf("modelParameters.task = %q, want none for binary and regression evaluations", card.ModelParameters.Task)
	}
	if card.ModelParameters.Datasets == nil {
		t.Error("modelParameters lost its datasets")
	}
}
