package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// taskKey is a key of an evaluation that only some tasks read. The key is
// relative to the evaluation, such as "top_k" or "columns.score".
type taskKey struct {
	key   string
	tasks []string
}

// taskKeys returns the evaluation keys that only some tasks read, with
// those tasks. predictions and results are left out, because their checks
// suggest renaming one into the other.
func taskKeys() []taskKey {
	binary := []string{TaskBinaryClassification}
	multiclass := []string{TaskMulticlassClassification}
	latency := []string{TaskLatency}
	// labelled tasks compare a true label or value with a prediction.
	labelled := []string{TaskBinaryClassification, TaskMulticlassClassification, TaskRegression}
	// rows are the tasks that read a predictions file row by row.
	rows := []string{TaskBinaryClassification, TaskMulticlassClassification, TaskRegression, TaskLatency}
	return []taskKey{
		{"format", rows},
		{"csv", rows},
		{"columns", rows},
		{"columns.label", labelled},
		{"columns.prediction", labelled},
		{"columns.id", labelled},
		{"columns.score", binary},
		{"columns.scores", multiclass},
		{"columns.latency", latency},
		{"columns.timestamp", latency},
		{"latency_unit", latency},
		{"positive_label", binary},
		{"negative_label", binary},
		{"thresholds", binary},
		{"calibration_bins", binary},
		{"classes", multiclass},
		{"top_k", multiclass},
		{"groups", labelled},
		{"intersections", labelled},
		{"fairness", labelled},
		{"fairness.positive_outcome", binary},
		{"bootstrap", labelled},
		{"stress", labelled},
	}
}

// validateTaskKeys reports every key of the evaluation at key that its
// task does not read, such as top_k in a regression evaluation, because a
// setting that is silently ignored misleads the reader of the file.
func validateTaskKeys(doc *strictyaml.Document, key, task string) []error {
	present := map[string]bool{}
	for _, k := range doc.Keys(key) {
		present[k] = true
	}
	for _, parent := range []string{"columns", "fairness"} {
		for _, k := range doc.Keys(key + "." + parent) {
			present[parent+"."+k] = true
		}
	}

	var errs []error
	for _, tk := range taskKeys() {
		if !present[tk.key] || slices.Contains(tk.tasks, task) {
			continue
		}
		// A key inside columns or fairness is not reported again when its
		// parent itself does not apply.
		if parent, _, ok := strings.Cut(tk.key, "."); ok && !appliesTo(parent, task) {
			continue
		}
		errs = append(errs, doc.Errorf(key+"."+tk.key, "task %s does not read this key, which applies only to %s: remove it",
			task, taskList(tk.tasks)))
	}
	return errs
}

// appliesTo reports whether task reads the evaluation key k. A key that
// taskKeys does not list applies to every task.
func appliesTo(k, task string) bool {
	for _, tk := range taskKeys() {
		if tk.key == k {
			return slices.Contains(tk.tasks, task)
		}
	}
	return true
}

// taskList names tasks for a sentence, such as "the task regression" or
// "the tasks binary-classification and regression".
func taskList(tasks []string) string {
	switch len(tasks) {
	case 1:
		return "the task " + tasks[0]
	case 2:
		return fmt.Sprintf("the tasks %s and %s", tasks[0], tasks[1])
	}
	return "the tasks " + strings.Join(tasks[:len(tasks)-1], ", ") + " and " + tasks[len(tasks)-1]
}
