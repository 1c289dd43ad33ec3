package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/auditpack/auditpack/internal/ingest"
)

// checkEvery is how many rows Evaluate reads between two checks of its
// context.
const checkEvery = 4096

// Columns names the columns of a predictions file.
type Columns struct {
	// Label is the column holding the true label. Required.
	Label string
	// Prediction is the column holding the predicted label. Required.
	Prediction string
	// Score is the column holding the model's score for the positive class,
	// used for ROC AUC and the Brier score. Empty means no score column:
	// both metrics are then undefined.
	Score string
}

// Spec describes one evaluation: the predictions file and how to read it.
type Spec struct {
	// Name is the evaluation's name.
	Name string
	// Task must be TaskBinaryClassification.
	Task string
	// Path is the absolute path of the predictions file.
	Path string
	// DisplayPath is the path as written in the configuration, used in
	// messages and in Source.Path. Empty means Path.
	DisplayPath string
	// Format is "csv", "jsonl" or "ndjson". Empty picks it from the file
	// name's extension.
	Format string
	// Columns names the label, prediction and score columns.
	Columns Columns
	// PositiveLabel is the label value of the positive class. Required.
	PositiveLabel string
	// NegativeLabel is the label value of the negative class. Empty means the
	// first value other than PositiveLabel met in the label or prediction
	// column, after which any third value is an error.
	NegativeLabel string
	// Groups are the protected-attribute columns to break the metrics down
	// by.
	Groups []string
}

// validate reports every problem of the spec at once.
func (s Spec) validate() error {
	var problems []error
	if s.Task != TaskBinaryClassification {
		problems = append(problems, fmt.Errorf("task %q is not supported: use %q", s.Task, TaskBinaryClassification))
	}
	if s.Path == "" {
		problems = append(problems, errors.New("the predictions path is empty"))
	}
	if s.Columns.Label == "" {
		problems = append(problems, errors.New("the label column is not set"))
	}
	if s.Columns.Prediction == "" {
		problems = append(problems, errors.New("the prediction column is not set"))
	}
	if s.PositiveLabel == "" {
		problems = append(problems, errors.New("the positive label is not set"))
	}
	if s.NegativeLabel != "" && s.NegativeLabel == s.PositiveLabel {
		problems = append(problems, fmt.Errorf("the negative label %q equals the positive label: set two different values", s.NegativeLabel))
	}
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
	return errors.Join(problems...)
}

// Evaluate reads the predictions file described by spec once and returns its
// metrics. Bad rows are reported as *ingest.RowError, a file without data
// rows as an error wrapping ingest.ErrEmpty. Evaluate stops with ctx.Err()
// when ctx is cancelled.
//
// Memory grows with the number of scored rows (8 bytes each, for ROC AUC) and
// with the number of distinct group values. Everything else is constant.
func Evaluate(ctx context.Context, spec Spec) (*Evaluation, error) {
	if spec.DisplayPath == "" {
		spec.DisplayPath = spec.Path
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	var format ingest.Format
	if spec.Format != "" {
		var err error
		if format, err = ingest.ParseFormat(spec.Format); err != nil {
			return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
		}
	}

	// Columns are requested in the order label, prediction, [score], groups.
	columns := []string{spec.Columns.Label, spec.Columns.Prediction}
	scoreIndex := -1
	if spec.Columns.Score != "" {
		scoreIndex = len(columns)
		columns = append(columns, spec.Columns.Score)
	}
	firstGroup := len(columns)
	columns = append(columns, spec.Groups...)

	reader, err := ingest.Open(spec.Path, ingest.Options{DisplayPath: spec.DisplayPath, Format: format, Columns: columns})
	if err != nil {
		return nil, err
	}
	defer reader.Close()

	acc := newAccumulator(spec, scoreIndex >= 0)
	values := make([]string, len(columns))
	for {
		if reader.Rows()%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		err := reader.Next(values)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		row := row{label: values[0], prediction: values[1], groups: values[firstGroup:]}
		if scoreIndex >= 0 {
			row.score = values[scoreIndex]
		}
		if err := acc.add(row, reader.Line()); err != nil {
			return nil, err
		}
	}

	digest, err := reader.SHA256()
	if err != nil {
		return nil, err
	}
	evaluation := acc.result()
	evaluation.Name = spec.Name
	evaluation.Task = spec.Task
	evaluation.Source = Source{Path: spec.DisplayPath, SHA256: digest, Rows: int64(reader.Rows())}
	evaluation.PositiveLabel = spec.PositiveLabel
	return evaluation, nil
}

// row is one data row's requested values.
type row struct {
	label, prediction, score string
	groups                   []string
}

// counts is a confusion matrix under construction.
type counts struct{ tp, fp, tn, fn int64 }

func (c *counts) add(actual, predicted bool) {
	switch {
	case actual && predicted:
		c.tp++
	case !actual && predicted:
		c.fp++
	case !actual && !predicted:
		c.tn++
	default:
		c.fn++
	}
}

// outsideProbability records the first score that rules out a Brier score.
type outsideProbability struct {
	line  int
	value string
}

// accumulator gathers everything the metrics need in one pass.
type accumulator struct {
	spec      Spec
	hasScore  bool
	negative  string
	negLine   int // line the negative label was inferred from, or 0 if configured
	overall   counts
	groups    []map[string]*counts // one map per group column
	scores    scoreSet
	brier     compensatedSum
	notProbab *outsideProbability
}

func newAccumulator(spec Spec, hasScore bool) *accumulator {
	acc := &accumulator{spec: spec, hasScore: hasScore, negative: spec.NegativeLabel}
	acc.groups = make([]map[string]*counts, len(spec.Groups))
	for i := range acc.groups {
		acc.groups[i] = make(map[string]*counts)
	}
	return acc
}

func (a *accumulator) add(r row, line int) error {
	actual, err := a.classify(r.label, a.spec.Columns.Label, line)
	if err != nil {
		return err
	}
	predicted, err := a.classify(r.prediction, a.spec.Columns.Prediction, line)
	if err != nil {
		return err
	}

	if a.hasScore {
		score, err := parseScore(r.score)
		if err != nil {
			return &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: a.spec.Columns.Score, Err: err}
		}
		a.scores.add(score, actual)
		if score < 0 || score > 1 {
			if a.notProbab == nil {
				a.notProbab = &outsideProbability{line: line, value: strings.Clone(r.score)}
			}
		} else {
			target := 0.0
			if actual {
				target = 1
			}
			a.brier.add((score - target) * (score - target))
		}
	}

	a.overall.add(actual, predicted)
	for i, value := range r.groups {
		group := a.groups[i][value]
		if group == nil {
			group = &counts{}
			// Clone so the map does not pin the reader's record buffer.
			a.groups[i][strings.Clone(value)] = group
		}
		group.add(actual, predicted)
	}
	return nil
}

// classify reports whether value is the positive label.
func (a *accumulator) classify(value, column string, line int) (bool, error) {
	switch {
	case value == a.spec.PositiveLabel:
		return true, nil
	case value == "":
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"the value is empty: every row needs the positive label %q or a negative label", a.spec.PositiveLabel)}
	case a.negative == "":
		a.negative = strings.Clone(value)
		a.negLine = line
		return false, nil
	case value == a.negative:
		return false, nil
	case a.negLine == 0:
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q is neither the positive label %q nor the negative label %q: fix the row, or correct positive_label or negative_label in the config",
			value, a.spec.PositiveLabel, a.negative)}
	default:
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q is a third distinct value after the positive label %q and %q (first seen on line %d, taken as the negative label): set negative_label in the config, or fix the row",
			value, a.spec.PositiveLabel, a.negative, a.negLine)}
	}
}

// parseScore parses a score, which must be a finite number.
func parseScore(text string) (float64, error) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return 0, errors.New("the score is empty: give every row a score, or remove the score column from the config")
	}
	score, err := strconv.ParseFloat(trimmed, 64)
	// ParseFloat reports ErrRange with ±Inf on overflow. An underflow to
	// zero or a subnormal is a usable score.
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a number: scores must be finite numbers such as 0.73", text)
	}
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return 0, fmt.Errorf("%q is not a finite number: scores must be finite numbers such as 0.73", text)
	}
	return score, nil
}

// compensatedSum adds float64 values with Neumaier's compensation, so that
// the error of a long sum does not grow with the number of terms.
type compensatedSum struct{ sum, compensation float64 }

func (s *compensatedSum) add(x float64) {
	t := s.sum + x
	if math.Abs(s.sum) >= math.Abs(x) {
		s.compensation += (s.sum - t) + x
	} else {
		s.compensation += (x - t) + s.sum
	}
	s.sum = t
}

func (s *compensatedSum) value() float64 { return s.sum + s.compensation }
