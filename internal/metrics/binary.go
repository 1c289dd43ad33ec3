package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/auditpack/auditpack/internal/ingest"
)

// Evaluate reads the binary-classification predictions file described by
// spec once and returns its metrics. Bad rows are reported as
// *ingest.RowError, a file without data rows as an error wrapping
// ingest.ErrEmpty. Evaluate stops with ctx.Err() when ctx is cancelled.
// Run dispatches every task; Evaluate is the binary-classification one.
//
// Memory grows with the number of scored rows (8 bytes each, for ROC AUC and
// average precision), with the number of distinct groups and, with a
// bootstrap, with resamples times groups. Everything else is constant.
func Evaluate(ctx context.Context, spec Spec) (*Evaluation, error) {
	spec = spec.withDefaults()
	if spec.Task != TaskBinaryClassification {
		return nil, fmt.Errorf("evaluation %q: task %q is not %s: use Run", spec.Name, spec.Task, TaskBinaryClassification)
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
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

	acc := newAccumulator(spec, scoreIndex >= 0)
	source, err := scan(ctx, spec, columns, func(values []string, line int) error {
		r := row{label: values[0], prediction: values[1], groups: values[firstGroup:]}
		if scoreIndex >= 0 {
			r.score = values[scoreIndex]
		}
		return acc.add(r, line)
	})
	if err != nil {
		return nil, err
	}

	evaluation, err := acc.result(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	evaluation.Name = spec.Name
	evaluation.Task = spec.Task
	evaluation.Source = source
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

func (c *counts) add(actual, predicted bool) { c.addN(actual, predicted, 1) }

// addN counts a row n times, as a bootstrap resample does.
func (c *counts) addN(actual, predicted bool, n int64) {
	switch {
	case actual && predicted:
		c.tp += n
	case !actual && predicted:
		c.fp += n
	case !actual && !predicted:
		c.tn += n
	default:
		c.fn += n
	}
}

// outsideProbability records the first score that rules out the metrics
// that need probabilities.
type outsideProbability struct {
	line  int
	value string
}

// accumulator gathers everything the binary metrics need in one pass.
type accumulator struct {
	spec      Spec
	hasScore  bool
	negative  string
	negLine   int // line the negative label was inferred from, or 0 if configured
	overall   counts
	index     *groupIndex
	ids       []int32    // the current row's group in each dimension
	groups    [][]counts // dimension, then group id
	scores    scoreSet
	brier     compensatedSum
	logLoss   compensatedSum
	calib     *calibration
	sweep     *thresholdSweep
	notProbab *outsideProbability
	boot      *binaryBootstrap
	parsed    scoreCache
}

func newAccumulator(spec Spec, hasScore bool) *accumulator {
	acc := &accumulator{spec: spec, hasScore: hasScore, negative: spec.NegativeLabel}
	acc.index = newGroupIndex(spec)
	acc.ids = make([]int32, len(acc.index.parts))
	acc.groups = make([][]counts, len(acc.index.parts))
	if hasScore {
		acc.calib = newCalibration(spec.CalibrationBins)
		acc.sweep = newThresholdSweep(spec.Thresholds)
	}
	if spec.Bootstrap != nil {
		acc.boot = newBinaryBootstrap(*spec.Bootstrap, len(acc.index.parts))
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
		score, err := a.parsed.parse(r.score)
		if err != nil {
			return &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: a.spec.Columns.Score, Err: err}
		}
		a.scores.add(score, actual)
		a.sweep.add(score, actual)
		if score < 0 || score > 1 {
			if a.notProbab == nil {
				a.notProbab = &outsideProbability{line: line, value: strings.Clone(r.score)}
			}
		} else if a.notProbab == nil {
			target := 0.0
			if actual {
				target = 1
			}
			a.brier.add((score - target) * (score - target))
			a.logLoss.add(logLossTerm(score, actual))
			a.calib.add(score, actual)
		}
	}

	a.overall.add(actual, predicted)
	created, err := a.index.assign(r.groups, a.ids, line)
	if err != nil {
		return err
	}
	if created {
		for d, id := range a.ids {
			if int(id) == len(a.groups[d]) {
				a.groups[d] = append(a.groups[d], counts{})
			}
		}
	}
	for d, id := range a.ids {
		a.groups[d][id].add(actual, predicted)
	}
	if a.boot != nil {
		a.boot.add(actual, predicted, a.ids)
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
	case a.negative == "" && sameNumberHint(value, a.spec.PositiveLabel) != "":
		// Taking "1.0" as the negative label beside a positive "1" would
		// silently swap the classes of those rows.
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q would be taken as the negative label, but it is the positive label %q written differently: write the labels as the positive label is written, or set positive_label to %q%s",
			value, a.spec.PositiveLabel, value, sameNumberHint(value, a.spec.PositiveLabel))}
	case a.negative == "":
		a.negative = strings.Clone(value)
		a.negLine = line
		return false, nil
	case value == a.negative:
		return false, nil
	case a.negLine == 0:
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q is neither the positive label %q nor the negative label %q: fix the row, or correct positive_label or negative_label in the config%s",
			value, a.spec.PositiveLabel, a.negative, sameNumberHint(value, a.spec.PositiveLabel, a.negative))}
	default:
		return false, &ingest.RowError{Path: a.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q is a third distinct value after the positive label %q and %q (first seen on line %d, taken as the negative label): set negative_label in the config, or fix the row%s",
			value, a.spec.PositiveLabel, a.negative, a.negLine, sameNumberHint(value, a.spec.PositiveLabel, a.negative))}
	}
}

// sameNumberHint explains a label that differs from a configured one only
// in how the number is written, such as "1.0" against "1" (pandas writes
// an integer column as floats once it holds a missing value). Labels are
// compared as text, so the hint names the labels to configure.
func sameNumberHint(value string, labels ...string) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil {
		return ""
	}
	for _, label := range labels {
		if l, err := strconv.ParseFloat(strings.TrimSpace(label), 64); err == nil && l == v {
			return fmt.Sprintf(" (%q and %q are the same number written differently; labels are compared as text, so write every label the same way)", value, label)
		}
	}
	return ""
}

// scoreCache remembers the value of up to maxCountedScores score texts.
// Models that round their scores repeat a few thousand texts, and a map
// lookup costs a fraction of strconv.ParseFloat. The zero value is ready
// to use.
type scoreCache struct {
	values map[string]float64
}

// parse returns parseScore(text), from the cache when it can.
func (c *scoreCache) parse(text string) (float64, error) {
	if score, ok := c.values[text]; ok {
		return score, nil
	}
	score, err := parseScore(text)
	if err != nil {
		return 0, err
	}
	if c.values == nil {
		c.values = map[string]float64{}
	}
	if len(c.values) < maxCountedScores {
		// The clone keeps the reader's buffer from being pinned.
		c.values[strings.Clone(text)] = score
	}
	return score, nil
}

// parseScore parses a score, which must be a finite number in decimal
// notation.
func parseScore(text string) (float64, error) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return 0, errors.New("the score is empty: give every row a score, or remove the score column from the config")
	}
	score, err := parseDecimal(trimmed)
	switch {
	case errors.Is(err, errNotDecimal):
		return 0, fmt.Errorf("%q is not written in decimal notation: scores must be finite decimal numbers such as 0.73 or 7.3e-1", text)
	case err != nil:
		return 0, fmt.Errorf("%q is %v: scores must be finite decimal numbers such as 0.73 or 7.3e-1", text, err)
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
