package modelcard

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// binaryReferenceMetrics lists the comparisons of a binary classification
// group with the reference group, in order.
var binaryReferenceMetrics = []struct{ key, label string }{
	{"selectionRateRatio", "Selection rate ratio"},
	{"selectionRateDifference", "Selection rate difference"},
	{"tprDifference", "TPR difference"},
	{"fprDifference", "FPR difference"},
}

// writeGroupColumn renders one group column: a sentence naming the
// reference group and the minimum group size, the per-group table with
// each group's part in the fairness measures, the measures across groups,
// and each group's comparison with the reference group.
func writeGroupColumn(b *bytes.Buffer, col string, g groupColumn, binary bool) {
	fmt.Fprintf(b, "#### By %s\n\n", escape(col))
	writeGroupNote(b, g)

	// The "In fairness measures" column appears only with a minimum group
	// size or a reference group, because otherwise every group is in.
	marked := g.MinGroupSize > 0 || g.Reference != nil
	names := sortedGroups(g.Groups)
	var columns []struct{ key, label string }
	if binary {
		columns = groupMetrics
	} else {
		// The count comes first, as in a binary classification table.
		keys := metricKeys(g.Groups)
		if keys["count"] {
			columns = append(columns, struct{ key, label string }{"count", label("count")})
		}
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			if key != "count" {
				columns = append(columns, struct{ key, label string }{key, label(key)})
			}
		}
	}

	b.WriteString("| Group |")
	for _, c := range columns {
		fmt.Fprintf(b, " %s |", c.label)
	}
	if marked {
		b.WriteString(" In fairness measures |")
	}
	b.WriteString("\n| --- |")
	for range columns {
		b.WriteString(" ---: |")
	}
	if marked {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, name := range names {
		fmt.Fprintf(b, "| %s |", cell(name))
		for _, c := range columns {
			v, ok := g.Groups[name][c.key]
			if !ok && !binary {
				b.WriteString(" - |")
				continue
			}
			fmt.Fprintf(b, " %s |", value(v, g.Undefined["groups."+name+"."+c.key]))
		}
		if marked {
			fmt.Fprintf(b, " %s |", groupPart(g, name))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")

	if binary {
		writeBinaryFairness(b, g)
	} else {
		writeGapTable(b, g)
	}
	writeReferenceTable(b, g, binary)
}

// writeGroupNote states the reference group and the minimum group size of
// a column, and names the groups left out of its fairness measures.
func writeGroupNote(b *bytes.Buffer, g groupColumn) {
	var sentences []string
	if g.Reference != nil {
		sentences = append(sentences, fmt.Sprintf("Reference group: %s. Every other compared group is also measured against it.", cell(g.Reference.Group)))
	}
	if g.MinGroupSize > 0 {
		sentences = append(sentences, fmt.Sprintf("Minimum group size: %d rows.", g.MinGroupSize))
		if len(g.ExcludedGroups) > 0 {
			excluded := make([]string, 0, len(g.ExcludedGroups))
			for _, name := range g.ExcludedGroups {
				excluded = append(excluded, cell(name)+rowsOf(g, name))
			}
			sentences = append(sentences, "Smaller groups are shown but left out of the fairness measures: "+strings.Join(excluded, ", ")+".")
		} else {
			sentences = append(sentences, "No group is smaller.")
		}
	}
	if len(sentences) > 0 {
		b.WriteString(strings.Join(sentences, " ") + "\n\n")
	}
}

// rowsOf renders " (N rows)" for a group whose count is known.
func rowsOf(g groupColumn, name string) string {
	count := g.Groups[name]["count"]
	if count == nil {
		return ""
	}
	if *count == 1 {
		return " (1 row)"
	}
	return fmt.Sprintf(" (%s rows)", value(count, ""))
}

// groupPart renders a group's part in the fairness measures.
func groupPart(g groupColumn, name string) string {
	switch {
	case slices.Contains(g.ExcludedGroups, name):
		return fmt.Sprintf("no: fewer than %d rows", g.MinGroupSize)
	case g.Reference != nil && g.Reference.Group == name:
		return "yes, the reference group"
	}
	return "yes"
}

// writeBinaryFairness renders the measures across the groups of a binary
// classification column, and the summaries against the reference group.
func writeBinaryFairness(b *bytes.Buffer, g groupColumn) {
	b.WriteString("| Fairness measure | Value |\n| --- | ---: |\n")
	for _, f := range fairnessMetrics {
		raw, ok := g.Fairness[f.key]
		if !ok {
			continue
		}
		fmt.Fprintf(b, "| %s | %s |\n", f.label, rawValue(raw, g.Undefined["fairness."+f.key]))
	}
	if r := g.Reference; r != nil {
		ref := cell(r.Group)
		fmt.Fprintf(b, "| Disparate impact ratio against %s (smallest selection rate ratio) | %s |\n",
			ref, value(r.DisparateImpactRatio, r.Undefined["disparateImpactRatio"]))
		fmt.Fprintf(b, "| Equalized odds difference against %s (largest absolute TPR or FPR difference) | %s |\n",
			ref, value(r.EqualizedOddsDifference, r.Undefined["equalizedOddsDifference"]))
	}
	b.WriteString("\n")
}

// writeGapTable renders the measures across the groups of a multiclass or
// regression column.
func writeGapTable(b *bytes.Buffer, g groupColumn) {
	if len(g.Fairness) == 0 {
		return
	}
	ref := ""
	if g.Reference != nil {
		ref = g.Reference.Group
	}
	b.WriteString("| Gap between groups | Value |\n| --- | ---: |\n")
	for _, key := range slices.Sorted(maps.Keys(g.Fairness)) {
		fmt.Fprintf(b, "| %s | %s |\n", gapLabel(key, ref), rawValue(g.Fairness[key], g.Undefined["fairness."+key]))
	}
	b.WriteString("\n")
}

// writeReferenceTable renders every compared group's comparison with the
// reference group.
func writeReferenceTable(b *bytes.Buffer, g groupColumn, binary bool) {
	r := g.Reference
	if r == nil || len(r.Groups) == 0 {
		return
	}
	ref := cell(r.Group)
	var columns []struct{ key, label string }
	if binary {
		columns = binaryReferenceMetrics
	} else {
		for _, key := range slices.Sorted(maps.Keys(metricKeys(r.Groups))) {
			columns = append(columns, struct{ key, label string }{key, gapLabel(key, "")})
		}
	}

	if binary {
		fmt.Fprintf(b, "Against the reference group %s (a difference is the group's value minus %s's, a ratio the group's over %s's):\n\n", ref, ref, ref)
	} else {
		fmt.Fprintf(b, "Against the reference group %s (a difference is the group's value minus %s's):\n\n", ref, ref)
	}

	b.WriteString("| Group |")
	for _, c := range columns {
		fmt.Fprintf(b, " %s |", c.label)
	}
	b.WriteString("\n| --- |")
	for range columns {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, name := range sortedGroups(r.Groups) {
		fmt.Fprintf(b, "| %s |", cell(name))
		for _, c := range columns {
			fmt.Fprintf(b, " %s |", value(r.Groups[name][c.key], r.Undefined["groups."+name+"."+c.key]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// metricKeys returns the set of metric keys found in any row.
func metricKeys(rows map[string]map[string]*float64) map[string]bool {
	keys := map[string]bool{}
	for _, row := range rows {
		for k := range row {
			keys[k] = true
		}
	}
	return keys
}
