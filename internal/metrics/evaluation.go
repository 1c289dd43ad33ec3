// Package metrics computes binary-classification metrics and group fairness
// measures from a predictions file in one streaming pass.
//
// Every metric whose denominator is zero, or whose inputs are missing, is left
// nil (JSON null) and explained in an Undefined map beside it: the result
// never carries a number that was not computed, nor a NaN or an infinity.
// docs/metrics.md gives each formula and where the results differ from
// scikit-learn and fairlearn.
package metrics

// TaskBinaryClassification is the only task Evaluate supports so far.
const TaskBinaryClassification = "binary-classification"

// Evaluation is the result of one evaluation: the object stored under
// evaluations.<name> in metrics.json.
type Evaluation struct {
	// Name is the evaluation's name from the configuration.
	Name string `json:"name"`
	// Task is the kind of model evaluated, for now always
	// TaskBinaryClassification.
	Task string `json:"task"`
	// Source identifies the predictions file the numbers come from.
	Source Source `json:"source"`
	// PositiveLabel is the label value counted as the positive class.
	PositiveLabel string `json:"positiveLabel"`
	// ConfusionMatrix holds the overall counts.
	ConfusionMatrix ConfusionMatrix `json:"confusionMatrix"`
	// Metrics holds the overall metrics.
	Metrics Metrics `json:"metrics"`
	// Undefined maps the JSON name of each nil field of Metrics (for example
	// "rocAuc") to the reason it could not be computed. It is empty, never
	// nil, when every metric is defined.
	Undefined map[string]string `json:"undefined"`
	// Groups maps each protected-attribute column to its per-group results.
	// It is empty, never nil, when no group column was configured.
	Groups map[string]*GroupColumn `json:"groups"`
}

// Source describes the predictions file.
type Source struct {
	// Path is the file's path as written in the configuration.
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 of the file's bytes as stored (compressed,
	// if the file is gzip).
	SHA256 string `json:"sha256"`
	// Rows is the number of data rows, not counting the header.
	Rows int64 `json:"rows"`
}

// ConfusionMatrix counts rows by label and prediction.
type ConfusionMatrix struct {
	TP int64 `json:"tp"` // label positive, predicted positive
	FP int64 `json:"fp"` // label negative, predicted positive
	TN int64 `json:"tn"` // label negative, predicted negative
	FN int64 `json:"fn"` // label positive, predicted negative
}

// Metrics are the overall metrics. A nil field could not be computed, and
// Evaluation.Undefined contains the reason.
type Metrics struct {
	Accuracy           float64  `json:"accuracy"`
	BalancedAccuracy   *float64 `json:"balancedAccuracy"`
	Precision          *float64 `json:"precision"`
	Recall             *float64 `json:"recall"`
	Specificity        *float64 `json:"specificity"`
	FPR                *float64 `json:"fpr"`
	FNR                *float64 `json:"fnr"`
	F1                 *float64 `json:"f1"`
	ROCAUC             *float64 `json:"rocAuc"`
	BrierScore         *float64 `json:"brierScore"`
	Positives          int64    `json:"positives"`
	Negatives          int64    `json:"negatives"`
	PredictedPositives int64    `json:"predictedPositives"`
}

// GroupColumn holds the results for one protected-attribute column.
type GroupColumn struct {
	// Column is the column's name in the predictions file.
	Column string `json:"column"`
	// Groups maps each value found in the column to that group's metrics.
	// An empty cell forms the group "".
	Groups map[string]*GroupMetrics `json:"groups"`
	// Undefined maps a path relative to this object, such as
	// "groups.Asian.precision" or "fairness.equalizedOddsRatio", to the
	// reason that value is nil. It is empty, never nil, when all are defined.
	Undefined map[string]string `json:"undefined"`
	// Fairness holds the measures across the groups of this column.
	Fairness Fairness `json:"fairness"`
}

// GroupMetrics are the metrics of the rows sharing one value of a group
// column. Count is at least 1, so the rates over Count are always defined.
type GroupMetrics struct {
	Count         int64    `json:"count"`
	Positives     int64    `json:"positives"`
	BaseRate      float64  `json:"baseRate"`
	SelectionRate float64  `json:"selectionRate"`
	TPR           *float64 `json:"tpr"`
	FPR           *float64 `json:"fpr"`
	FNR           *float64 `json:"fnr"`
	Precision     *float64 `json:"precision"`
	Accuracy      float64  `json:"accuracy"`
}

// Fairness holds the between-group measures of one group column, following
// fairlearn's "between_groups" definitions. A nil field could not be
// computed, and GroupColumn.Undefined contains the reason under
// "fairness.<name>".
type Fairness struct {
	// DemographicParityDifference is the largest selection rate minus the
	// smallest.
	DemographicParityDifference *float64 `json:"demographicParityDifference"`
	// DemographicParityRatio is the smallest selection rate over the largest.
	DemographicParityRatio *float64 `json:"demographicParityRatio"`
	// EqualizedOddsDifference is the larger of the TPR difference and the
	// FPR difference (each the largest group value minus the smallest).
	EqualizedOddsDifference *float64 `json:"equalizedOddsDifference"`
	// EqualizedOddsRatio is the smaller of the TPR ratio and the FPR ratio
	// (each the smallest group value over the largest).
	EqualizedOddsRatio *float64 `json:"equalizedOddsRatio"`
	// DisparateImpactRatio is the lowest selection rate over the highest,
	// the same number as DemographicParityRatio.
	DisparateImpactRatio *float64 `json:"disparateImpactRatio"`
	// FourFifthsRule reports whether DisparateImpactRatio is at least 0.8.
	FourFifthsRule *bool `json:"fourFifthsRule"`
}
