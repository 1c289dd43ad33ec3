package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Task names, the same strings as in the configuration.
const (
	TaskBinaryClassification     = "binary-classification"
	TaskMulticlassClassification = "multiclass-classification"
	TaskRegression               = "regression"
	TaskLatency                  = "latency"
	TaskLMEvalHarness            = "lm-eval-harness"
	TaskPromptfoo                = "promptfoo"
	TaskGarak                    = "garak"
	TaskMetricsJSON              = "metrics-json"
)

// Defaults applied when a Spec leaves a setting at its zero value.
const (
	DefaultCalibrationBins     = 10
	DefaultBootstrapResamples  = 1000
	DefaultBootstrapConfidence = 0.95
	// DefaultMaxGroups is the number of distinct values a group column
	// (or an intersection) may have when Spec.MaxGroups is 0. Every group
	// is stored with all its metrics in several files of a pack, and a
	// protected attribute has a handful of values, so more than this
	// means an identifier was configured as a group column.
	DefaultMaxGroups = 1000
)

// Columns names the columns of a predictions file.
type Columns struct {
	// Label is the column holding the true label (or, for a regression,
	// the true value). Required for classification and regression.
	Label string
	// Prediction is the column holding the predicted label or value.
	Prediction string
	// Score is the column holding the model's score for the positive class
	// of a binary evaluation, used for ROC AUC, average precision, log
	// loss, the Brier score and calibration. Empty means no score column:
	// those metrics are then undefined.
	Score string
	// Scores maps each class of a multiclass evaluation to its score
	// column. Empty means no scores: top-k accuracy, one-vs-rest ROC AUC
	// and log loss are then undefined.
	Scores map[string]string
	// ID is an optional row identifier, used to check that a stressed
	// evaluation's rows pair with its baseline's.
	ID string
	// Latency and Timestamp are the columns of a latency evaluation.
	Latency   string
	Timestamp string
}

// Bootstrap configures the bootstrap confidence intervals.
type Bootstrap struct {
	// Resamples is the number of resamples; 0 means
	// DefaultBootstrapResamples.
	Resamples int
	// Seed seeds the resampling.
	Seed int64
	// Confidence is the two-sided confidence level; 0 means
	// DefaultBootstrapConfidence.
	Confidence float64
}

// Spec describes one evaluation: the input file and how to read it.
type Spec struct {
	// Name is the evaluation's name.
	Name string
	// Task is one of the Task constants.
	Task string
	// Path is the absolute path of the predictions or results file.
	Path string
	// DisplayPath is the path as written in the configuration, used in
	// messages and in Source.Path. Empty means Path.
	DisplayPath string
	// Format is "csv", "jsonl", "ndjson" or "parquet". Empty picks it from
	// the file name's extension.
	Format string
	// Delimiter separates CSV fields; 0 means ','.
	Delimiter rune
	// Header names the columns of a CSV file without a header row; empty
	// means the first row is the header.
	Header []string
	// Columns names the columns used.
	Columns Columns
	// PositiveLabel is the label value of the positive class of a binary
	// evaluation. Required for that task.
	PositiveLabel string
	// NegativeLabel is the label value of the negative class. Empty means the
	// first value other than PositiveLabel met in the label or prediction
	// column, after which any third value is an error.
	NegativeLabel string
	// Classes is the declared class set of a multiclass evaluation. Empty
	// means the values met in the label and prediction columns.
	Classes []string
	// Groups are the protected-attribute columns to break the metrics down
	// by.
	Groups []string
	// Intersections lists combinations of Groups, each reported as one
	// more group column named like "race+sex".
	Intersections [][]string
	// MinGroupSize is the number of rows below which a group is reported
	// but left out of the fairness measures. 0 keeps every group.
	MinGroupSize int64
	// MaxGroups is the number of distinct values above which a group
	// column or an intersection is an error; 0 means DefaultMaxGroups.
	MaxGroups int
	// ReferenceGroups maps a group column or intersection to the group
	// the other groups are compared with.
	ReferenceGroups map[string]string
	// CalibrationBins is the number of equal-width bins of [0, 1] for the
	// calibration error; 0 means DefaultCalibrationBins.
	CalibrationBins int
	// Thresholds are the score thresholds of a binary threshold sweep.
	Thresholds []float64
	// TopK lists the k of the multiclass top-k accuracies.
	TopK []int
	// Bootstrap turns on bootstrap confidence intervals when not nil.
	Bootstrap *Bootstrap
	// LatencyUnit is "ms" (the default), "s" or "us".
	LatencyUnit string
}

// withDefaults returns s with its zero-valued settings filled in.
func (s Spec) withDefaults() Spec {
	if s.DisplayPath == "" {
		s.DisplayPath = s.Path
	}
	if s.CalibrationBins == 0 {
		s.CalibrationBins = DefaultCalibrationBins
	}
	if s.Bootstrap != nil {
		b := *s.Bootstrap
		if b.Resamples == 0 {
			b.Resamples = DefaultBootstrapResamples
		}
		if b.Confidence == 0 {
			b.Confidence = DefaultBootstrapConfidence
		}
		s.Bootstrap = &b
	}
	if s.LatencyUnit == "" {
		s.LatencyUnit = "ms"
	}
	if s.MaxGroups == 0 {
		s.MaxGroups = DefaultMaxGroups
	}
	return s
}

// validate reports every problem of the spec at once.
func (s Spec) validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if s.Path == "" {
		add("the input path is empty")
	}
	switch s.Task {
	case TaskBinaryClassification:
		problems = append(problems, s.validateLabelColumns()...)
		if s.PositiveLabel == "" {
			add("the positive label is not set")
		}
		if s.NegativeLabel != "" && s.NegativeLabel == s.PositiveLabel {
			add("the negative label %q equals the positive label: set two different values", s.NegativeLabel)
		}
		for _, t := range s.Thresholds {
			if math.IsNaN(t) || math.IsInf(t, 0) {
				add("threshold %v is not a finite number", t)
			}
		}
	case TaskMulticlassClassification:
		problems = append(problems, s.validateLabelColumns()...)
		for _, k := range s.TopK {
			if k < 1 {
				add("top-k needs k of at least 1, got %d", k)
			}
		}
		if len(s.TopK) > 0 && len(s.Columns.Scores) == 0 {
			add("top-k accuracy needs a score column for every class")
		}
	case TaskRegression:
		problems = append(problems, s.validateLabelColumns()...)
	case TaskLatency:
		if s.Columns.Latency == "" {
			add("the latency column is not set")
		}
		switch s.LatencyUnit {
		case "", "ms", "s", "us":
		default:
			add("latency unit %q is not one of ms, s and us", s.LatencyUnit)
		}
	case TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON:
	default:
		add("task %q is not supported: use one of %s, %s, %s, %s, %s, %s, %s or %s", s.Task,
			TaskBinaryClassification, TaskMulticlassClassification, TaskRegression, TaskLatency,
			TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON)
	}
	if s.CalibrationBins < 0 {
		add("the number of calibration bins must not be negative")
	}
	if s.MinGroupSize < 0 {
		add("the minimum group size must not be negative")
	}
	if s.MaxGroups < 0 {
		add("the maximum number of groups must not be negative")
	}
	if b := s.Bootstrap; b != nil {
		if b.Resamples < 0 {
			add("the number of bootstrap resamples must not be negative")
		}
		if b.Confidence < 0 || b.Confidence >= 1 {
			add("the bootstrap confidence %v is not between 0 and 1", b.Confidence)
		}
	}
	problems = append(problems, s.validateGroups()...)
	return errors.Join(problems...)
}

func (s Spec) validateLabelColumns() []error {
	var problems []error
	if s.Columns.Label == "" {
		problems = append(problems, errors.New("the label column is not set"))
	}
	if s.Columns.Prediction == "" {
		problems = append(problems, errors.New("the prediction column is not set"))
	}
	return problems
}

func (s Spec) validateGroups() []error {
	var problems []error
	seen := make(map[string]bool, len(s.Groups))
	for _, group := range s.Groups {
		switch {
		case group == "":
			problems = append(problems, errors.New("a group column name is empty"))
		case seen[group]:
			problems = append(problems, fmt.Errorf("group column %q is listed twice", group))
		}
		seen[group] = true
	}
	dimensions := copySet(seen)
	for _, combo := range s.Intersections {
		if len(combo) < 2 {
			problems = append(problems, fmt.Errorf("intersection %v needs at least two group columns", combo))
			continue
		}
		for _, column := range combo {
			if !seen[column] {
				problems = append(problems, fmt.Errorf("intersection %v names %q, which is not a group column", combo, column))
			}
		}
		dimensions[intersectionName(combo)] = true
	}
	for column := range s.ReferenceGroups {
		if !dimensions[column] {
			problems = append(problems, fmt.Errorf("reference group for %q: no group column or intersection has that name", column))
		}
	}
	return problems
}

func copySet(set map[string]bool) map[string]bool {
	out := make(map[string]bool, len(set))
	for k, v := range set {
		out[k] = v
	}
	return out
}

// intersectionName names an intersection of group columns, like "race+sex".
func intersectionName(columns []string) string { return strings.Join(columns, "+") }

// dimensionNames returns the group columns followed by the intersections.
func (s Spec) dimensionNames() []string {
	names := slices.Clone(s.Groups)
	for _, combo := range s.Intersections {
		names = append(names, intersectionName(combo))
	}
	return names
}
