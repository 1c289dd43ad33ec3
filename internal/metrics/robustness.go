package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/auditpack/auditpack/internal/ingest"
)

// Robustness compares a stressed evaluation with its clean baseline on the
// same rows.
type Robustness struct {
	// Baseline names the clean evaluation.
	Baseline string `json:"baseline"`
	// Kind is how the inputs were stressed: noise, perturbation, shift or
	// adversarial.
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	// Drop maps every overall metric defined in both evaluations to how
	// much worse the stressed one is: clean minus stressed for a metric
	// where higher is better, stressed minus clean for an error or a loss,
	// and the growth of the absolute value for a signed bias (meanError).
	// A positive drop is always a deterioration.
	Drop map[string]*float64 `json:"drop"`
	// FlipRate is Flips over PairedRows: the share of rows whose predicted
	// label differs between the two evaluations. Both are nil for a task
	// that predicts no labels (regression, latency and the harnesses).
	FlipRate *float64 `json:"flipRate"`
	Flips    *int64   `json:"flips"`
	// PairedRows is the number of rows of each file, read side by side.
	PairedRows int64 `json:"pairedRows"`
	// Undefined maps "drop.<metric>", "flipRate" or "flips" to the reason
	// that value is nil.
	Undefined map[string]string `json:"undefined"`
}

// lowerIsBetter lists the metrics for which a larger value is worse.
var lowerIsBetter = map[string]bool{
	"brierScore": true, "logLoss": true, "expectedCalibrationError": true,
	"fpr": true, "fnr": true, "mae": true, "mse": true, "rmse": true, "mape": true,
	"medianAbsoluteError": true, "maxError": true,
}

// zeroIsBest lists the signed metrics whose ideal value is 0, so that a
// larger absolute value is worse whatever the sign.
var zeroIsBest = map[string]bool{"meanError": true}

// drop returns how much worse the stressed value of a metric is than the
// clean one; a positive drop is a deterioration.
func drop(metric string, clean, stressed float64) float64 {
	switch {
	case zeroIsBest[metric]:
		return math.Abs(stressed) - math.Abs(clean)
	case lowerIsBetter[metric]:
		return stressed - clean
	}
	return clean - stressed
}

// Report is the result of one evaluation of any task, as stored under
// evaluations.<name> in metrics.json.
type Report interface {
	// headline returns the overall metrics that a robustness comparison
	// measures the drop of.
	headline() map[string]*float64
	setRobustness(*Robustness)
}

func (e *Evaluation) headline() map[string]*float64 {
	m := e.Metrics
	return map[string]*float64{
		"accuracy": &m.Accuracy, "balancedAccuracy": m.BalancedAccuracy, "precision": m.Precision,
		"recall": m.Recall, "specificity": m.Specificity, "fpr": m.FPR, "fnr": m.FNR, "f1": m.F1,
		"rocAuc": m.ROCAUC, "averagePrecision": m.AveragePrecision, "brierScore": m.BrierScore,
		"logLoss": m.LogLoss, "expectedCalibrationError": m.ExpectedCalibrationError,
	}
}

func (e *Evaluation) setRobustness(r *Robustness) { e.Robustness = r }

// StressSpec declares how a stressed evaluation relates to its baseline.
type StressSpec struct {
	Kind        string
	Description string
}

// Compare attaches to stressed the drop of every metric against clean and,
// for a classification task, the prediction flip rate. For every task with
// a predictions file it reads both files side by side. They must have the
// same number of rows in the same order, and when both configure an id
// column, the ids of every pair must match.
func Compare(ctx context.Context, cleanSpec, stressedSpec Spec, clean, stressed Report, stress StressSpec) error {
	r := &Robustness{
		Baseline: cleanSpec.Name, Kind: stress.Kind, Description: stress.Description,
		Drop: map[string]*float64{}, Undefined: map[string]string{},
	}
	before, after := clean.headline(), stressed.headline()
	for _, key := range slices.Sorted(maps.Keys(before)) {
		b, a := before[key], after[key]
		if b == nil || a == nil {
			r.Drop[key] = nil
			r.Undefined["drop."+key] = "the metric is undefined in the clean or the stressed evaluation"
			continue
		}
		r.Drop[key] = finite(drop(key, *b, *a), r.Undefined, "drop."+key)
	}

	switch cleanSpec.Task {
	case TaskBinaryClassification, TaskMulticlassClassification, TaskRegression:
		flips, paired, err := pairRows(ctx, cleanSpec.withDefaults(), stressedSpec.withDefaults())
		if err != nil {
			return fmt.Errorf("comparing %s with its baseline %s: %w", stressedSpec.Name, cleanSpec.Name, err)
		}
		r.PairedRows = paired
		if cleanSpec.Task == TaskRegression {
			noFlips(r, cleanSpec.Task)
			break
		}
		r.Flips = &flips
		r.FlipRate = ratio(flips, paired, r.Undefined, "flipRate", "no paired rows")
	default:
		noFlips(r, cleanSpec.Task)
	}
	stressed.setRobustness(r)
	return nil
}

// noFlips leaves the flip count and rate of r nil, with the reason.
func noFlips(r *Robustness, task string) {
	reason := "a flip is a changed predicted label, and task " + task + " predicts no labels"
	r.Undefined["flipRate"] = reason
	r.Undefined["flips"] = reason
}

// pairRows reads the prediction columns of both files in step, checks
// that their rows pair up, and counts the rows whose prediction differs
// as text. The count is a flip count only for a classification task.
func pairRows(ctx context.Context, cleanSpec, stressedSpec Spec) (flips, paired int64, err error) {
	withID := cleanSpec.Columns.ID != "" && stressedSpec.Columns.ID != ""
	open := func(s Spec) (*ingest.Reader, error) {
		columns := []string{s.Columns.Prediction}
		if withID {
			columns = append(columns, s.Columns.ID)
		}
		var format ingest.Format
		if s.Format != "" {
			if format, err = ingest.ParseFormat(s.Format); err != nil {
				return nil, err
			}
		}
		return ingest.Open(s.Path, ingest.Options{DisplayPath: s.DisplayPath, Format: format, Columns: columns, Delimiter: s.Delimiter, Header: s.Header})
	}
	cleanReader, err := open(cleanSpec)
	if err != nil {
		return 0, 0, err
	}
	defer cleanReader.Close()
	stressedReader, err := open(stressedSpec)
	if err != nil {
		return 0, 0, err
	}
	defer stressedReader.Close()

	width := 1
	if withID {
		width = 2
	}
	a, b := make([]string, width), make([]string, width)
	for {
		if paired%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
		}
		errA, errB := cleanReader.Next(a), stressedReader.Next(b)
		switch {
		case errA == io.EOF && errB == io.EOF:
			return flips, paired, nil
		case errA == io.EOF || errB == io.EOF:
			return 0, 0, fmt.Errorf("%s has %d rows or more but %s ends after %d: a stressed evaluation must score the same rows in the same order",
				longer(errA, cleanSpec, stressedSpec), paired+1, shorter(errA, cleanSpec, stressedSpec), paired)
		case errA != nil:
			return 0, 0, errA
		case errB != nil:
			return 0, 0, errB
		}
		if withID && a[1] != b[1] {
			return 0, 0, &ingest.RowError{Path: stressedSpec.DisplayPath, Line: stressedReader.Line(), Column: stressedSpec.Columns.ID,
				Err: fmt.Errorf("id %q does not match id %q of row %d of %s: write both files in the same row order", b[1], a[1], paired+1, cleanSpec.DisplayPath)}
		}
		if a[0] != b[0] {
			flips++
		}
		paired++
	}
}

func longer(errClean error, clean, stressed Spec) string {
	if errors.Is(errClean, io.EOF) {
		return stressed.DisplayPath
	}
	return clean.DisplayPath
}

func shorter(errClean error, clean, stressed Spec) string {
	if errors.Is(errClean, io.EOF) {
		return clean.DisplayPath
	}
	return stressed.DisplayPath
}
