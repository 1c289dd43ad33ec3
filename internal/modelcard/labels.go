package modelcard

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// metricLabels maps the metric keys of metrics.json to the labels the card
// shows. A key missing here, such as a harness metric named by its
// harness, is shown as it is written.
var metricLabels = map[string]string{
	// Binary and multiclass classification.
	"accuracy":                 "Accuracy",
	"balancedAccuracy":         "Balanced accuracy",
	"precision":                "Precision",
	"recall":                   "Recall",
	"specificity":              "Specificity",
	"tpr":                      "TPR",
	"fpr":                      "FPR",
	"fnr":                      "FNR",
	"f1":                       "F1",
	"rocAuc":                   "ROC AUC",
	"brierScore":               "Brier score",
	"averagePrecision":         "Average precision",
	"logLoss":                  "Log loss",
	"expectedCalibrationError": "Expected calibration error",
	"positives":                "Rows with the positive label",
	"negatives":                "Rows with the negative label",
	"predictedPositives":       "Predicted positives",
	"baseRate":                 "Base rate",
	"selectionRate":            "Selection rate",
	"count":                    "Count",
	"support":                  "Support",
	"macroF1":                  "Macro F1",
	"macroPrecision":           "Macro precision",
	"macroRecall":              "Macro recall",
	"macroRocAuc":              "Macro ROC AUC",
	"microF1":                  "Micro F1",
	"microPrecision":           "Micro precision",
	"microRecall":              "Micro recall",
	"weightedF1":               "Weighted F1",
	"weightedPrecision":        "Weighted precision",
	"weightedRecall":           "Weighted recall",
	"weightedRocAuc":           "Weighted ROC AUC",
	// Regression.
	"mae":                 "MAE",
	"mse":                 "MSE",
	"rmse":                "RMSE",
	"r2":                  "R²",
	"mape":                "MAPE",
	"maxError":            "Maximum error",
	"meanError":           "Mean error",
	"medianAbsoluteError": "Median absolute error",
	// Latency.
	"mean":       "Mean",
	"min":        "Minimum",
	"max":        "Maximum",
	"throughput": "Throughput (requests/s)",
	// promptfoo and garak.
	"passRate":             "Pass rate",
	"meanScore":            "Mean score",
	"tests":                "Tests",
	"passed":               "Passed",
	"failed":               "Failed",
	"errors":               "Errors",
	"attackSuccessRate":    "Attack success rate",
	"maxAttackSuccessRate": "Maximum attack success rate",
	"evaluated":            "Outputs evaluated",
	"hits":                 "Hits",
}

var topKAccuracy = regexp.MustCompile(`^top([0-9]+)Accuracy$`)

// label returns the human label of a metric key, escaped for a table
// cell.
func label(key string) string {
	if l, ok := metricLabels[key]; ok {
		return l
	}
	if m := topKAccuracy.FindStringSubmatch(key); m != nil {
		return "Top-" + m[1] + " accuracy"
	}
	return cell(key)
}

// lowerLabel is label for use inside a sentence: the first letter is
// lowered unless the label starts with an abbreviation, such as MAE.
func lowerLabel(key string) string {
	l := label(key)
	if len(l) > 1 && l[0] >= 'A' && l[0] <= 'Z' && l[1] >= 'a' && l[1] <= 'z' {
		return strings.ToLower(l[:1]) + l[1:]
	}
	return l
}

// gapLabel returns the label of a measure across the groups of a
// multiclass or regression group column: "<m>Difference" (largest group
// value minus smallest), "<m>Ratio" (smallest over largest) or
// "<m>ReferenceDifference" (the largest absolute difference from the
// reference group ref).
func gapLabel(key, ref string) string {
	switch {
	case strings.HasSuffix(key, "ReferenceDifference"):
		m := strings.TrimSuffix(key, "ReferenceDifference")
		against := "the reference group"
		if ref != "" {
			against = cell(ref)
		}
		return "Largest absolute " + lowerLabel(m) + " difference from " + against
	case strings.HasSuffix(key, "Difference"):
		return label(strings.TrimSuffix(key, "Difference")) + " difference"
	case strings.HasSuffix(key, "Ratio"):
		return label(strings.TrimSuffix(key, "Ratio")) + " ratio"
	}
	return label(key)
}

// sortedGroups returns the group names in numeric order when every name
// is a number, such as the values of an education-years column (so that
// 2.0 comes before 10.0), and in text order otherwise.
func sortedGroups[V any](groups map[string]V) []string {
	names := slices.Sorted(maps.Keys(groups))
	values := make(map[string]float64, len(names))
	for _, name := range names {
		v, err := strconv.ParseFloat(strings.TrimSpace(name), 64)
		if err != nil {
			return names
		}
		values[name] = v
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(values[a], values[b]) })
	return names
}
