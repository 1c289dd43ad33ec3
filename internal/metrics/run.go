package metrics

import (
	"context"
	"fmt"
)

// Run computes the evaluation that spec describes, whatever its task.
func Run(ctx context.Context, spec Spec) (Report, error) {
	switch spec.Task {
	case TaskBinaryClassification:
		return Evaluate(ctx, spec)
	case TaskMulticlassClassification:
		return EvaluateMulticlass(ctx, spec)
	case TaskRegression:
		return EvaluateRegression(ctx, spec)
	case TaskLatency:
		return EvaluateLatency(ctx, spec)
	case TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON:
		return ReadHarness(ctx, spec)
	}
	return nil, fmt.Errorf("evaluation %q: %w", spec.Name, spec.withDefaults().validate())
}
