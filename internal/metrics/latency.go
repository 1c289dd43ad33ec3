package metrics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/auditpack/auditpack/internal/ingest"
)

// latencyScale converts a latency unit into milliseconds.
var latencyScale = map[string]float64{"ms": 1, "s": 1000, "us": 0.001}

// EvaluateLatency reads a file of per-request latencies and returns their
// count, mean, percentiles and maximum in milliseconds, and the throughput
// when a timestamp column is given. Percentiles interpolate linearly
// between order statistics, as numpy.percentile does by default. Memory
// grows by 8 bytes per request.
func EvaluateLatency(ctx context.Context, spec Spec) (*Summary, error) {
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	columns := []string{spec.Columns.Latency}
	if spec.Columns.Timestamp != "" {
		columns = append(columns, spec.Columns.Timestamp)
	}
	scale := latencyScale[spec.LatencyUnit]
	var latencies []float64
	var sum compensatedSum
	first, last := math.Inf(1), math.Inf(-1)

	source, err := scan(ctx, spec, columns, func(values []string, line int) error {
		v, err := parseValue(values[0])
		if err == nil && v < 0 {
			err = fmt.Errorf("%q is negative: a latency is a duration", values[0])
		}
		if err != nil {
			return &ingest.RowError{Path: spec.DisplayPath, Line: line, Column: spec.Columns.Latency, Err: err}
		}
		v *= scale
		latencies = append(latencies, v)
		sum.add(v)
		if len(values) > 1 {
			t, err := parseTimestamp(values[1])
			if err != nil {
				return &ingest.RowError{Path: spec.DisplayPath, Line: line, Column: spec.Columns.Timestamp, Err: err}
			}
			first, last = min(first, t), max(last, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	s := &Summary{Name: spec.Name, Task: spec.Task, Source: source, Unit: "ms", Metrics: map[string]*float64{}, Undefined: map[string]string{}}
	slices.Sort(latencies)
	n := float64(len(latencies))
	m := s.Metrics
	m["count"] = ptr(n)
	m["mean"] = finite(sum.value()/n, s.Undefined, "mean")
	m["min"] = ptr(latencies[0])
	m["max"] = ptr(latencies[len(latencies)-1])
	for _, p := range []int{50, 90, 95, 99} {
		m[fmt.Sprintf("p%d", p)] = ptr(quantile(latencies, float64(p)/100))
	}
	switch {
	case spec.Columns.Timestamp == "":
		m["throughput"] = nil
		s.Undefined["throughput"] = "no timestamp column was configured (columns.timestamp)"
	case last == first:
		m["throughput"] = nil
		s.Undefined["throughput"] = "every request has the same timestamp, so the duration is 0"
	default:
		// Requests per second over the span from the first timestamp to
		// the last.
		m["throughput"] = finite(n/(last-first), s.Undefined, "throughput")
	}
	return s, nil
}

// parseTimestamp reads seconds since the Unix epoch, or an RFC 3339 time.
func parseTimestamp(text string) (float64, error) {
	trimmed := strings.TrimSpace(text)
	if v, err := parseDecimal(trimmed); err == nil {
		return v, nil
	}
	t, err := time.Parse(time.RFC3339Nano, trimmed)
	if err != nil {
		return 0, fmt.Errorf("%q is neither seconds since the Unix epoch nor an RFC 3339 time such as 2024-05-01T12:00:00.250Z", text)
	}
	return float64(t.UnixNano()) / 1e9, nil
}
