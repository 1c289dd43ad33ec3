package modelcard

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// keyMetrics renders the first metrics of a non-binary evaluation for the
// summary, as "label value" pairs.
func keyMetrics(ev evaluation) string {
	var parts []string
	for _, h := range taskHeadline[ev.Task] {
		if v, ok := ev.Metrics[h.key]; ok {
			parts = append(parts, h.label+" "+value(v, ev.Undefined[h.key]))
		}
	}
	if len(parts) == 0 {
		// Harness tasks without a fixed headline show their first metrics.
		for _, key := range slices.Sorted(maps.Keys(ev.Metrics))[:min(4, len(ev.Metrics))] {
			parts = append(parts, label(key)+" "+value(ev.Metrics[key], ev.Undefined[key]))
		}
	}
	if len(parts) == 0 {
		return "see model-card.md"
	}
	return strings.Join(parts, ", ")
}

// writeOtherEvaluation renders an evaluation of any task but binary
// classification: its metrics, then whatever per-class, per-group, harness,
// interval and robustness results it has.
func writeOtherEvaluation(b *bytes.Buffer, ev evaluation) {
	fmt.Fprintf(b, "### Evaluation %s\n\n", escape(ev.Name))
	unit := ""
	if ev.Unit != "" {
		unit = ", values in " + ev.Unit
	}
	rows := ""
	if n := rowCount(ev); n != "—" {
		rows = n + " rows, "
	}
	fmt.Fprintf(b, "Task %s on %s (%sSHA-256 `%s`%s).\n\n", ev.Task, cell(ev.Source.Path), rows, ev.Source.SHA256, unit)

	if len(ev.Metrics) > 0 {
		b.WriteString("| Metric | Value |\n| --- | ---: |\n")
		for _, key := range slices.Sorted(maps.Keys(ev.Metrics)) {
			fmt.Fprintf(b, "| %s | %s |\n", label(key), value(ev.Metrics[key], ev.Undefined[key]))
		}
		b.WriteString("\n")
	}
	if len(ev.PerClass) > 0 {
		writeNamedTable(b, "Class", ev.PerClass, func(class, key string) string { return ev.Undefined["perClass."+class+"."+key] })
	}
	for _, task := range slices.Sorted(maps.Keys(ev.Tasks)) {
		fmt.Fprintf(b, "#### Task %s\n\n| Metric | Value | Standard error |\n| --- | ---: | ---: |\n", escape(task))
		t := ev.Tasks[task]
		for _, key := range slices.Sorted(maps.Keys(t.Metrics)) {
			stderr := "-"
			if v, ok := t.Stderr[key]; ok {
				stderr = value(v, ev.Undefined["tasks."+task+".stderr."+key])
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", label(key), value(t.Metrics[key], ev.Undefined["tasks."+task+".metrics."+key]), stderr)
		}
		b.WriteString("\n")
	}
	if len(ev.Providers) > 0 {
		writeNamedTable(b, "Provider", ev.Providers, func(provider, key string) string { return ev.Undefined["providers."+provider+"."+key] })
	}
	if len(ev.Probes) > 0 {
		b.WriteString("| Probe | Detector | Evaluated | Hits | Attack success rate |\n| --- | --- | ---: | ---: | ---: |\n")
		for _, key := range slices.Sorted(maps.Keys(ev.Probes)) {
			p := ev.Probes[key]
			for _, dk := range slices.Sorted(maps.Keys(p.Detectors)) {
				d := p.Detectors[dk]
				fmt.Fprintf(b, "| %s | %s | %d | %d | %s |\n", cell(p.Probe), cell(d.Detector), d.Evaluated, d.Hits,
					value(d.AttackSuccessRate, ev.Undefined["probes."+key+".detectors."+dk+".attackSuccessRate"]))
			}
		}
		b.WriteString("\n")
	}
	for _, col := range slices.Sorted(maps.Keys(ev.Groups)) {
		writeGroupColumn(b, col, ev.Groups[col], false)
	}
	writeExtras(b, ev)
	if len(ev.Undefined) > 0 {
		b.WriteString("Undefined values:\n\n")
		for _, k := range slices.Sorted(maps.Keys(ev.Undefined)) {
			fmt.Fprintf(b, "- %s: %s\n", cell(k), escape(ev.Undefined[k]))
		}
		b.WriteString("\n")
	}
}

// writeNamedTable renders rows of named metric maps with one column per
// metric key found in any row.
func writeNamedTable(b *bytes.Buffer, first string, rows map[string]map[string]*float64, reason func(row, key string) string) {
	columns := slices.Sorted(maps.Keys(metricKeys(rows)))
	fmt.Fprintf(b, "| %s |", first)
	for _, c := range columns {
		fmt.Fprintf(b, " %s |", label(c))
	}
	b.WriteString("\n| --- |")
	for range columns {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, name := range sortedGroups(rows) {
		fmt.Fprintf(b, "| %s |", cell(name))
		for _, c := range columns {
			v, ok := rows[name][c]
			if !ok {
				b.WriteString(" - |")
				continue
			}
			fmt.Fprintf(b, " %s |", value(v, reason(name, c)))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// writeExtras renders the threshold sweep, the confidence intervals and
// the robustness comparison when the evaluation has them.
func writeExtras(b *bytes.Buffer, ev evaluation) {
	if len(ev.Thresholds) > 0 {
		b.WriteString("| Threshold | TPR | FPR | Precision |\n| ---: | ---: | ---: | ---: |\n")
		for _, t := range ev.Thresholds {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", value(&t.Threshold, ""), value(t.TPR, ""), value(t.FPR, ""), value(t.Precision, ""))
		}
		b.WriteString("\n")
	}
	if ev.Bootstrap != nil && len(ev.ConfidenceIntervals) > 0 {
		fmt.Fprintf(b, "%g%% confidence intervals (%s bootstrap, %d resamples, seed %d):\n\n| Metric | Lower | Upper |\n| --- | ---: | ---: |\n",
			ev.Bootstrap.Confidence*100, ev.Bootstrap.Method, ev.Bootstrap.Resamples, ev.Bootstrap.Seed)
		for _, key := range slices.Sorted(maps.Keys(ev.ConfidenceIntervals)) {
			ci := ev.ConfidenceIntervals[key]
			fmt.Fprintf(b, "| %s | %s | %s |\n", label(key),
				value(ci.Lower, ev.Undefined["confidenceIntervals."+key+".lower"]), value(ci.Upper, ev.Undefined["confidenceIntervals."+key+".upper"]))
		}
		b.WriteString("\n")
	}
	if r := ev.Robustness; r != nil {
		fmt.Fprintf(b, "Stressed variant (%s) of evaluation %s", escape(r.Kind), escape(r.Baseline))
		// A description is free text that often ends with its own full
		// stop, and the sentence adds one.
		if d := strings.TrimRight(strings.TrimSpace(r.Description), "."); d != "" {
			fmt.Fprintf(b, ": %s", escape(d))
		}
		fmt.Fprintf(b, ". Prediction flip rate: %s.\n\n| Metric | Deterioration against the baseline (drop) |\n| --- | ---: |\n", value(r.FlipRate, r.Undefined["flipRate"]))
		for _, key := range slices.Sorted(maps.Keys(r.Drop)) {
			fmt.Fprintf(b, "| %s | %s |\n", label(key), value(r.Drop[key], r.Undefined["drop."+key]))
		}
		b.WriteString("\n")
	}
}

// rowCount renders the number of rows an evaluation read, or "—" for a
// harness result, whose source is one document (or a report's lines) and
// not a row per example.
func rowCount(ev evaluation) string {
	switch ev.Task {
	case "lm-eval-harness", "promptfoo", "garak", "metrics-json":
		return "—"
	}
	return fmt.Sprintf("%d", ev.Source.Rows)
}
