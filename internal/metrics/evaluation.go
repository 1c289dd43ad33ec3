// Package metrics computes the metrics of an evaluation: binary and
// multiclass classification, regression, latency, and the results of
// language-model harnesses, with per-group fairness measures, bootstrap
// confidence intervals and the drop under stress. Prediction files are read
// in one streaming pass.
//
// Every metric whose denominator is zero, or whose inputs are missing, is left
// nil (JSON null) and explained in an Undefined map beside it: the result
// never carries a number that was not computed, nor a NaN or an infinity.
// docs/metrics.md gives each formula and where the results differ from
// scikit-learn and fairlearn.
package metrics

// Evaluation is the result of one evaluation: the object stored under
// evaluations.<name> in metrics.json.
type Evaluation struct {
	// Name is the evaluation's name from the configuration.
	Name string `json:"name"`
	// Task is TaskBinaryClassification.
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
	// Groups maps each protected-attribute column, and each intersection
	// of columns (named like "race+sex"), to its per-group results. It is
	// empty, never nil, when no group column was configured.
	Groups map[string]*GroupColumn `json:"groups"`
	// Calibration is the reliability curve behind
	// Metrics.ExpectedCalibrationError; nil without a score column or when
	// a score is outside [0, 1].
	Calibration *Calibration `json:"calibration,omitempty"`
	// Thresholds is the threshold sweep, one point per configured
	// threshold in increasing order; omitted when none is configured.
	Thresholds []ThresholdPoint `json:"thresholds,omitempty"`
	// Bootstrap and ConfidenceIntervals are set when a bootstrap is
	// configured. A nil bound is explained in Undefined under
	// "confidenceIntervals.<metric>.lower" (and ".upper").
	Bootstrap           *BootstrapInfo       `json:"bootstrap,omitempty"`
	ConfidenceIntervals map[string]*Interval `json:"confidenceIntervals,omitempty"`
	// Robustness compares this stressed evaluation with its baseline.
	Robustness *Robustness `json:"robustness,omitempty"`
}

// Calibration is a reliability curve over equal-width score bins.
type Calibration struct {
	// Bins is the number of bins of [0, 1].
	Bins int `json:"bins"`
	// Strategy is "uniform": equal-width bins, a score on an inner edge
	// falling into the lower bin.
	Strategy string `json:"strategy"`
	// Points lists the non-empty bins in increasing order.
	Points []ReliabilityPoint `json:"points"`
}

// ReliabilityPoint is one bin of a reliability curve.
type ReliabilityPoint struct {
	Lower            float64 `json:"lower"`
	Upper            float64 `json:"upper"`
	Count            int64   `json:"count"`
	MeanScore        float64 `json:"meanScore"`
	FractionPositive float64 `json:"fractionPositive"`
}

// ThresholdPoint gives the rates obtained by predicting positive every row
// whose score is at or above Threshold.
type ThresholdPoint struct {
	Threshold          float64           `json:"threshold"`
	PredictedPositives int64             `json:"predictedPositives"`
	TPR                *float64          `json:"tpr"`
	FPR                *float64          `json:"fpr"`
	Precision          *float64          `json:"precision"`
	Undefined          map[string]string `json:"undefined"`
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
	Accuracy         float64  `json:"accuracy"`
	BalancedAccuracy *float64 `json:"balancedAccuracy"`
	Precision        *float64 `json:"precision"`
	Recall           *float64 `json:"recall"`
	Specificity      *float64 `json:"specificity"`
	FPR              *float64 `json:"fpr"`
	FNR              *float64 `json:"fnr"`
	F1               *float64 `json:"f1"`
	ROCAUC           *float64 `json:"rocAuc"`
	BrierScore       *float64 `json:"brierScore"`
	// AveragePrecision is the area under the precision-recall curve.
	AveragePrecision *float64 `json:"averagePrecision"`
	LogLoss          *float64 `json:"logLoss"`
	// ExpectedCalibrationError is the count-weighted mean gap between the
	// fraction of positives and the mean score of each calibration bin.
	ExpectedCalibrationError *float64 `json:"expectedCalibrationError"`
	Positives                int64    `json:"positives"`
	Negatives                int64    `json:"negatives"`
	PredictedPositives       int64    `json:"predictedPositives"`
}

// GroupColumn holds the results for one protected-attribute column or one
// intersection of columns.
type GroupColumn struct {
	// Column is the column's name in the predictions file, or the
	// intersection's name such as "race+sex".
	Column string `json:"column"`
	// Columns lists the columns of an intersection; omitted for a single
	// column.
	Columns []string `json:"columns,omitempty"`
	// MinGroupSize is the configured minimum group size (0 for none).
	MinGroupSize int64 `json:"minGroupSize"`
	// ExcludedGroups lists, sorted, the groups smaller than MinGroupSize:
	// they are reported but left out of Fairness.
	ExcludedGroups []string `json:"excludedGroups"`
	// Groups maps each value found in the column to that group's metrics.
	// An empty cell forms the group "".
	Groups map[string]*GroupMetrics `json:"groups"`
	// Undefined maps a path relative to this object, such as
	// "groups.Asian.precision" or "fairness.equalizedOddsRatio", to the
	// reason that value is nil. It is empty, never nil, when all are defined.
	Undefined map[string]string `json:"undefined"`
	// Fairness holds the measures across the groups of this column.
	Fairness Fairness `json:"fairness"`
	// Reference compares each group with a configured reference group.
	Reference *Reference `json:"reference,omitempty"`
	// ConfidenceIntervals holds bootstrap intervals of the fairness
	// measures; a nil bound is explained in Undefined under
	// "confidenceIntervals.<measure>.lower".
	ConfidenceIntervals map[string]*Interval `json:"confidenceIntervals,omitempty"`
}

// Reference compares every included group with one reference group.
type Reference struct {
	// Group is the reference group's name.
	Group string `json:"group"`
	// Groups maps every other included group to its gaps.
	Groups map[string]*ReferenceGap `json:"groups"`
	// DisparateImpactRatio is the smallest of the groups'
	// SelectionRateRatio.
	DisparateImpactRatio *float64 `json:"disparateImpactRatio"`
	// EqualizedOddsDifference is the largest absolute TPR or FPR
	// difference of a group from the reference.
	EqualizedOddsDifference *float64 `json:"equalizedOddsDifference"`
	// Undefined maps a path relative to this object, such as
	// "groups.Asian.tprDifference", to the reason that value is nil.
	Undefined map[string]string `json:"undefined"`
}

// ReferenceGap compares one group with the reference group.
type ReferenceGap struct {
	// SelectionRateRatio is the group's selection rate over the
	// reference's.
	SelectionRateRatio *float64 `json:"selectionRateRatio"`
	// SelectionRateDifference, TPRDifference and FPRDifference are the
	// group's rate minus the reference's.
	SelectionRateDifference *float64 `json:"selectionRateDifference"`
	TPRDifference           *float64 `json:"tprDifference"`
	FPRDifference           *float64 `json:"fprDifference"`
}

// Interval is a confidence interval; its bounds are nil when undefined.
type Interval struct {
	Lower *float64 `json:"lower"`
	Upper *float64 `json:"upper"`
}

// BootstrapInfo records how the confidence intervals were computed.
type BootstrapInfo struct {
	// Method is "poisson-percentile": every row enters each resample a
	// Poisson(1)-distributed number of times, and the interval is the
	// percentile interval of the resampled values.
	Method     string  `json:"method"`
	Resamples  int     `json:"resamples"`
	Seed       int64   `json:"seed"`
	Confidence float64 `json:"confidence"`
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
