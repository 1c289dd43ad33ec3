package audit

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/metrics"
)

// evaluate computes every evaluation of cfg and returns metrics.json.
func evaluate(ctx context.Context, cfg *config.Config, log *slog.Logger) ([]byte, error) {
	evaluations := map[string]*metrics.Evaluation{}
	for _, e := range cfg.Evaluations {
		log.InfoContext(ctx, "evaluating", "evaluation", e.Name, "predictions", e.Predictions)
		ev, err := metrics.Evaluate(ctx, metrics.Spec{
			Name:          e.Name,
			Task:          e.Task,
			Path:          cfg.Resolve(e.Predictions),
			DisplayPath:   e.Predictions,
			Format:        e.Format,
			Columns:       metrics.Columns{Label: e.Columns.Label, Prediction: e.Columns.Prediction, Score: e.Columns.Score},
			PositiveLabel: e.PositiveLabel,
			NegativeLabel: e.NegativeLabel,
			Groups:        e.Groups,
		})
		if err != nil {
			return nil, fmt.Errorf("evaluation %s: %w", e.Name, err)
		}
		evaluations[e.Name] = ev
	}
	return marshal(map[string]any{"evaluations": evaluations})
}
