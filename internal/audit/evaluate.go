package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/metrics"
)

// evaluate computes every evaluation of cfg, then compares every stressed
// evaluation with its baseline, and returns metrics.json.
func evaluate(ctx context.Context, cfg *config.Config, log *slog.Logger) ([]byte, error) {
	evaluations := map[string]metrics.Report{}
	specs := map[string]metrics.Spec{}
	for i, e := range cfg.Evaluations {
		spec := specOf(cfg, e)
		log.InfoContext(ctx, "evaluating", "evaluation", e.Name, "task", e.Task, "input", spec.DisplayPath)
		report, err := metrics.Run(ctx, spec)
		if err != nil {
			return nil, evaluationError(cfg, i, err)
		}
		evaluations[e.Name] = report
		specs[e.Name] = spec
	}

	for _, e := range cfg.Evaluations {
		if e.Stress == nil {
			continue
		}
		log.InfoContext(ctx, "comparing with the baseline", "evaluation", e.Name, "baseline", e.Stress.Baseline, "kind", e.Stress.Kind)
		err := metrics.Compare(ctx, specs[e.Stress.Baseline], specs[e.Name], evaluations[e.Stress.Baseline], evaluations[e.Name],
			metrics.StressSpec{Kind: e.Stress.Kind, Description: e.Stress.Description})
		if err != nil {
			return nil, fmt.Errorf("evaluation %s: %w", e.Name, err)
		}
	}
	return marshal(map[string]any{"evaluations": evaluations})
}

// evaluationError returns the error of the i-th evaluation. A reference
// group that is missing or too small points at its configuration key, and
// the evaluation's name is given once.
func evaluationError(cfg *config.Config, i int, err error) error {
	e := cfg.Evaluations[i]
	msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("evaluation %q: ", e.Name))
	groupKey := func(column string) string {
		return fmt.Sprintf("evaluations[%d].fairness.reference_groups.%s", i, column)
	}

	var refErr *metrics.ReferenceGroupError
	if errors.As(err, &refErr) {
		return cfg.Errorf(groupKey(refErr.Column), "%s", msg)
	}
	// NOTE: metrics reports a reference group below min_group_size as
	// plain text, so the column is found by matching the configured
	// reference groups against the message. A typed error in metrics
	// would make this a type assertion.
	if strings.Contains(msg, "the minimum group size") {
		for _, column := range slices.Sorted(maps.Keys(e.Fairness.ReferenceGroups)) {
			if strings.Contains(msg, fmt.Sprintf("the reference group %q of %s ", e.Fairness.ReferenceGroups[column], column)) {
				return cfg.Errorf(groupKey(column), "%s", msg)
			}
		}
	}
	if msg != err.Error() {
		// metrics named the evaluation already.
		return err
	}
	return fmt.Errorf("evaluation %s: %w", e.Name, err)
}

// specOf translates one configured evaluation into a metrics.Spec.
func specOf(cfg *config.Config, e config.Evaluation) metrics.Spec {
	input := e.Predictions
	if input == "" {
		input = e.Results
	}
	spec := metrics.Spec{
		Name:        e.Name,
		Task:        e.Task,
		Path:        cfg.Resolve(input),
		DisplayPath: input,
		Format:      e.Format,
		Header:      e.CSV.Header,
		Columns: metrics.Columns{
			Label: e.Columns.Label, Prediction: e.Columns.Prediction, Score: e.Columns.Score,
			Scores: e.Columns.Scores, ID: e.Columns.ID, Latency: e.Columns.Latency, Timestamp: e.Columns.Timestamp,
		},
		PositiveLabel:   e.PositiveLabel,
		NegativeLabel:   e.NegativeLabel,
		Classes:         e.Classes,
		Groups:          e.Groups,
		Intersections:   e.Intersections,
		MinGroupSize:    int64(e.Fairness.MinGroupSize),
		MaxGroups:       e.Fairness.MaxGroups,
		ReferenceGroups: e.Fairness.ReferenceGroups,
		CalibrationBins: e.CalibrationBins,
		Thresholds:      e.Thresholds,
		TopK:            e.TopK,
		LatencyUnit:     e.LatencyUnit,
	}
	switch d := e.CSV.Delimiter; d {
	case "":
	case "tab":
		spec.Delimiter = '\t'
	default:
		spec.Delimiter = []rune(d)[0]
	}
	if b := e.Bootstrap; b != nil {
		spec.Bootstrap = &metrics.Bootstrap{Resamples: b.Resamples, Confidence: b.Confidence}
		if b.Seed != nil {
			spec.Bootstrap.Seed = *b.Seed
		}
	}
	return spec
}
