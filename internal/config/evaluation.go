package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// Task names accepted in evaluations[].task besides TaskBinaryClassification.
const (
	TaskMulticlassClassification = "multiclass-classification"
	TaskRegression               = "regression"
	// TaskLatency reads a file of per-request latencies.
	TaskLatency = "latency"
	// TaskLMEvalHarness reads the results JSON of EleutherAI's
	// lm-evaluation-harness.
	TaskLMEvalHarness = "lm-eval-harness"
	// TaskPromptfoo reads the JSON that `promptfoo eval --output` writes.
	TaskPromptfoo = "promptfoo"
	// TaskGarak reads a garak report JSONL file.
	TaskGarak = "garak"
	// TaskMetricsJSON reads a JSON object of named numbers.
	TaskMetricsJSON = "metrics-json"
)

// Tasks lists every task name in the order the documentation gives them.
var Tasks = []string{
	TaskBinaryClassification, TaskMulticlassClassification, TaskRegression, TaskLatency,
	TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON,
}

// StressKinds lists the kinds of stressed evaluation accepted in
// evaluations[].stress.kind.
var StressKinds = []string{"noise", "perturbation", "shift", "adversarial"}

// Evaluation points at one predictions or results file and says how to read
// it.
type Evaluation struct {
	Name string `yaml:"name"`
	Task string `yaml:"task"`
	// Predictions is the file of per-row predictions (or of per-request
	// latencies), relative to the configuration file.
	Predictions string `yaml:"predictions"`
	// Results is the results file of a language-model harness
	// (lm-eval-harness, promptfoo, garak, metrics-json).
	Results string `yaml:"results"`
	// Format is "csv", "jsonl" or "parquet"; empty means it is taken from
	// the file extension.
	Format string `yaml:"format"`
	// CSV sets the delimiter and header of a CSV file.
	CSV           CSVOptions `yaml:"csv"`
	Columns       Columns    `yaml:"columns"`
	PositiveLabel string     `yaml:"positive_label"`
	NegativeLabel string     `yaml:"negative_label"`
	// Classes is the declared label set of a multiclass evaluation; a label
	// or prediction outside it is an error. Empty means the values found.
	Classes []string `yaml:"classes"`
	Groups  []string `yaml:"groups"`
	// Intersections lists combinations of group columns, such as
	// [race, sex], each reported as one more group column.
	Intersections [][]string      `yaml:"intersections"`
	Fairness      FairnessOptions `yaml:"fairness"`
	// CalibrationBins is the number of equal-width score bins of the
	// calibration error; 0 means 10.
	CalibrationBins int `yaml:"calibration_bins"`
	// Thresholds are the score thresholds of the binary threshold sweep.
	Thresholds []float64 `yaml:"thresholds"`
	// TopK lists the k of the multiclass top-k accuracies.
	TopK []int `yaml:"top_k"`
	// Bootstrap turns on bootstrap confidence intervals; nil means none.
	Bootstrap *Bootstrap `yaml:"bootstrap"`
	// Stress declares this evaluation a stressed variant of another.
	Stress *Stress `yaml:"stress"`
	// LatencyUnit is the unit of the latency column: "ms" (the default),
	// "s" or "us".
	LatencyUnit string `yaml:"latency_unit"`
}

// Columns names the columns of a predictions file.
type Columns struct {
	Label      string `yaml:"label"`
	Prediction string `yaml:"prediction"`
	// Score is optional; without it, ROC AUC and the Brier score are
	// reported as undefined.
	Score string `yaml:"score"`
	// Scores maps each class of a multiclass evaluation to the column of
	// its score, for top-k accuracy, one-vs-rest ROC AUC and log loss.
	Scores map[string]string `yaml:"scores"`
	// ID is a row identifier that pairs the rows of a stressed evaluation
	// with those of its baseline.
	ID string `yaml:"id"`
	// Latency and Timestamp are the columns of a latency evaluation.
	Latency   string `yaml:"latency"`
	Timestamp string `yaml:"timestamp"`
}

// CSVOptions describes a CSV file's dialect.
type CSVOptions struct {
	// Delimiter is one character, or "tab"; empty means ",".
	Delimiter string `yaml:"delimiter"`
	// Header names the columns of a file without a header row; empty means
	// the first row is the header.
	Header []string `yaml:"header"`
}

// FairnessOptions tune the fairness measures of every group column.
type FairnessOptions struct {
	// MinGroupSize is the number of rows below which a group is reported
	// but left out of the fairness gaps; 0 means every group counts.
	MinGroupSize int `yaml:"min_group_size"`
	// MaxGroups is the number of distinct values above which a group
	// column or an intersection stops the run with an error; 0 means
	// 1,000. It catches an identifier configured as a group column.
	MaxGroups int `yaml:"max_groups"`
	// ReferenceGroups maps a group column (or an intersection, named
	// "race+sex") to the group the others are compared with.
	ReferenceGroups map[string]string `yaml:"reference_groups"`
	// PositiveOutcome is PositiveOutcomeFavorable or
	// PositiveOutcomeUnfavorable: whether a positive prediction of a
	// binary evaluation benefits the person it is about. The AI-BOM uses
	// it to name the group at risk; empty names none.
	PositiveOutcome string `yaml:"positive_outcome"`
}

// Values of fairness.positive_outcome.
const (
	// PositiveOutcomeFavorable is for a positive prediction that benefits
	// the person, such as a loan approval. The group with the lowest
	// selection rate is at risk.
	PositiveOutcomeFavorable = "favorable"
	// PositiveOutcomeUnfavorable is for a positive prediction that harms
	// the person, such as a high risk of reoffending. The group with the
	// highest selection rate is at risk.
	PositiveOutcomeUnfavorable = "unfavorable"
)

// Bootstrap configures bootstrap confidence intervals.
type Bootstrap struct {
	// Resamples is the number of bootstrap resamples; 0 means 1000.
	Resamples int `yaml:"resamples"`
	// Seed seeds the resampling; nil means 0.
	Seed *int64 `yaml:"seed"`
	// Confidence is the interval's confidence level; 0 means 0.95.
	Confidence float64 `yaml:"confidence"`
}

// Stress declares an evaluation to be a stressed variant of another one on
// the same rows.
type Stress struct {
	// Baseline is the name of the clean evaluation.
	Baseline string `yaml:"baseline"`
	// Kind is one of StressKinds.
	Kind string `yaml:"kind"`
	// Description says how the inputs were stressed.
	Description string `yaml:"description"`
}

// IntersectionName returns the group-column name of an intersection, such
// as "race+sex".
func IntersectionName(columns []string) string { return strings.Join(columns, "+") }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// harnessTask reports whether task reads a results file rather than
// per-row predictions.
func harnessTask(task string) bool {
	switch task {
	case TaskLMEvalHarness, TaskPromptfoo, TaskGarak, TaskMetricsJSON:
		return true
	}
	return false
}

func (c *Config) validateEvaluations(doc *strictyaml.Document) []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, doc.Errorf(key, format, args...))
	}
	seen := map[string]bool{}
	for i, e := range c.Evaluations {
		key := fmt.Sprintf("evaluations[%d]", i)
		switch {
		case e.Name == "":
			add(key+".name", "required: name the evaluation")
		case !nameRE.MatchString(e.Name):
			add(key+".name", "%q is not a valid name: use letters, digits, '-' and '_' (policy rules address evaluations by name)", e.Name)
		case seen[e.Name]:
			add(key+".name", "duplicate evaluation name %q", e.Name)
		}
		seen[e.Name] = true

		if doc.HasProblem(key + ".task") {
			// Which checks apply depends on the task, which could not
			// be read.
			continue
		}
		task := e.Task
		if !slices.Contains(Tasks, task) {
			add(key+".task", "unsupported task %q: supported tasks are %s", e.Task, strings.Join(Tasks, ", "))
			// The rest is checked as for the first task, so that other
			// mistakes show up in the same run. Which keys apply is not
			// checked, because the intended task is unknown.
			task = TaskBinaryClassification
		} else {
			errs = append(errs, validateTaskKeys(doc, key, task)...)
		}
		if harnessTask(task) {
			errs = append(errs, validateHarness(add, key, e)...)
			continue
		}
		validateRows(add, doc.HasProblem, key, task, e)
	}
	errs = append(errs, c.validateStress(doc)...)
	return errs
}

// validateHarness checks an evaluation that reads a results file. The
// keys that only other tasks read are reported by validateTaskKeys.
func validateHarness(add func(key, format string, args ...any), key string, e Evaluation) []error {
	if e.Results == "" {
		add(key+".results", "required: the results file that %s wrote", e.Task)
	}
	if e.Predictions != "" {
		add(key+".predictions", "task %s reads `results`, not `predictions`: rename the key", e.Task)
	}
	return nil
}

// validateRows checks an evaluation that reads per-row predictions.
// problem reports a key whose value could not be decoded, so that checks
// that compare it with other keys skip themselves.
func validateRows(add func(key, format string, args ...any), problem func(key string) bool, key, task string, e Evaluation) {
	if e.Predictions == "" {
		add(key+".predictions", "required: the CSV, JSONL or Parquet file of predictions")
	}
	if e.Results != "" {
		add(key+".results", "task %s reads `predictions`, not `results`: rename the key", task)
	}
	switch e.Format {
	case "", "csv", "jsonl", "ndjson", "parquet":
	default:
		add(key+".format", "must be \"csv\", \"jsonl\" or \"parquet\" (or left out to use the file extension), got %q", e.Format)
	}
	if d := e.CSV.Delimiter; d != "" && d != "tab" && (len([]rune(d)) != 1 || d == "\"" || d == "\n" || d == "\r") {
		add(key+".csv.delimiter", "must be one character other than a quote or a newline, or \"tab\", got %q", d)
	}

	switch task {
	case TaskLatency:
		if e.Columns.Latency == "" {
			add(key+".columns.latency", "required: the column holding each request's latency")
		}
		switch e.LatencyUnit {
		case "", "ms", "s", "us":
		default:
			add(key+".latency_unit", "must be \"ms\", \"s\" or \"us\", got %q", e.LatencyUnit)
		}
		return
	case TaskRegression:
		requireLabelAndPrediction(add, key, e, "the true value", "the predicted value")
	case TaskMulticlassClassification:
		requireLabelAndPrediction(add, key, e, "the true class", "the predicted class")
		validateClasses(add, problem, key, e)
	default:
		requireLabelAndPrediction(add, key, e, "the true label", "the predicted label")
		if e.PositiveLabel == "" {
			add(key+".positive_label", "required: the label value of the positive class, such as \"1\"")
		}
		if e.NegativeLabel != "" && e.NegativeLabel == e.PositiveLabel {
			add(key+".negative_label", "must differ from positive_label %q", e.PositiveLabel)
		}
		for j, t := range e.Thresholds {
			if t != t || t < -1e300 || t > 1e300 {
				add(fmt.Sprintf("%s.thresholds[%d]", key, j), "must be a finite number")
			}
		}
	}
	if e.CalibrationBins < 0 || e.CalibrationBins > 1000 {
		add(key+".calibration_bins", "must be between 1 and 1000 (0 means 10), got %d", e.CalibrationBins)
	}
	validateGroups(add, problem, key, e)
	if b := e.Bootstrap; b != nil {
		if b.Resamples < 0 || b.Resamples > 100000 {
			add(key+".bootstrap.resamples", "must be between 1 and 100000 (0 means 1000), got %d", b.Resamples)
		}
		if b.Confidence != 0 && (b.Confidence <= 0 || b.Confidence >= 1) {
			add(key+".bootstrap.confidence", "must be between 0 and 1 exclusive, such as 0.95, got %v", b.Confidence)
		}
	}
}

func requireLabelAndPrediction(add func(key, format string, args ...any), key string, e Evaluation, label, prediction string) {
	if e.Columns.Label == "" {
		add(key+".columns.label", "required: the column holding %s", label)
	}
	if e.Columns.Prediction == "" {
		add(key+".columns.prediction", "required: the column holding %s", prediction)
	}
}

func validateClasses(add func(key, format string, args ...any), problem func(key string) bool, key string, e Evaluation) {
	classes := map[string]bool{}
	for j, c := range e.Classes {
		switch {
		case c == "":
			add(fmt.Sprintf("%s.classes[%d]", key, j), "empty class label")
		case classes[c]:
			add(fmt.Sprintf("%s.classes[%d]", key, j), "duplicate class %q", c)
		}
		classes[c] = true
	}
	for class := range e.Columns.Scores {
		if len(e.Classes) > 0 && !classes[class] && !problem(key+".classes") {
			add(key+".columns.scores."+class, "class %q is not in classes: list it there or remove its score column", class)
		}
	}
	for j, k := range e.TopK {
		if k < 1 {
			add(fmt.Sprintf("%s.top_k[%d]", key, j), "must be at least 1, got %d", k)
		}
	}
	if len(e.TopK) > 0 && len(e.Columns.Scores) == 0 && !problem(key+".columns.scores") {
		add(key+".top_k", "needs columns.scores, the score column of every class")
	}
}

func validateGroups(add func(key, format string, args ...any), problem func(key string) bool, key string, e Evaluation) {
	// The checks below compare intersections and reference groups with
	// the group columns; skip them when those could not be read.
	groupsRead := !problem(key+".groups") && !problem(key+".intersections")
	groups := map[string]bool{}
	for j, g := range e.Groups {
		gkey := fmt.Sprintf("%s.groups[%d]", key, j)
		switch {
		case g == "":
			add(gkey, "empty column name")
		case strings.ContainsAny(g, ".*"):
			add(gkey, "column name %q contains '.' or '*', which policy metric paths use as separators; rename the column", g)
		case groups[g]:
			add(gkey, "duplicate group column %q", g)
		}
		groups[g] = true
	}
	names := map[string]bool{}
	for j, combo := range e.Intersections {
		ikey := fmt.Sprintf("%s.intersections[%d]", key, j)
		if len(combo) < 2 {
			add(ikey, "an intersection needs at least two group columns, such as [race, sex]")
			continue
		}
		for _, column := range combo {
			if !groups[column] && groupsRead {
				add(ikey, "column %q is not listed in groups: add it there first", column)
			}
		}
		name := IntersectionName(combo)
		if groups[name] {
			add(ikey, "intersection %q has the name of a group column: rename the column", name)
		}
		if names[name] {
			add(ikey, "duplicate intersection %q", name)
		}
		names[name] = true
	}
	if e.Fairness.MinGroupSize < 0 {
		add(key+".fairness.min_group_size", "must not be negative, got %d", e.Fairness.MinGroupSize)
	}
	if e.Fairness.MaxGroups < 0 {
		add(key+".fairness.max_groups", "must not be negative, got %d", e.Fairness.MaxGroups)
	}
	switch e.Fairness.PositiveOutcome {
	case "", PositiveOutcomeFavorable, PositiveOutcomeUnfavorable:
	default:
		add(key+".fairness.positive_outcome", "must be %q (a positive prediction benefits the person) or %q (it harms them), got %q",
			PositiveOutcomeFavorable, PositiveOutcomeUnfavorable, e.Fairness.PositiveOutcome)
	}
	for column := range e.Fairness.ReferenceGroups {
		if !groups[column] && !names[column] && groupsRead {
			add(key+".fairness.reference_groups."+column, "%q is neither a group column nor an intersection (written like race+sex)", column)
		}
	}
}

// validateStress checks that every stressed evaluation names an existing
// baseline of the same task, and that baselines are not themselves
// stressed.
func (c *Config) validateStress(doc *strictyaml.Document) []error {
	var errs []error
	byName := map[string]Evaluation{}
	for _, e := range c.Evaluations {
		byName[e.Name] = e
	}
	for i, e := range c.Evaluations {
		if e.Stress == nil {
			continue
		}
		key := fmt.Sprintf("evaluations[%d].stress", i)
		if doc.HasProblem(fmt.Sprintf("evaluations[%d].task", i)) {
			continue
		}
		if !slices.Contains(StressKinds, e.Stress.Kind) {
			errs = append(errs, doc.Errorf(key+".kind", "must be one of %s, got %q", strings.Join(StressKinds, ", "), e.Stress.Kind))
		}
		base, ok := byName[e.Stress.Baseline]
		switch {
		case e.Stress.Baseline == "":
			errs = append(errs, doc.Errorf(key+".baseline", "required: the name of the clean evaluation"))
		case e.Stress.Baseline == e.Name:
			errs = append(errs, doc.Errorf(key+".baseline", "an evaluation cannot be its own baseline"))
		case !ok:
			errs = append(errs, doc.Errorf(key+".baseline", "no evaluation is named %q", e.Stress.Baseline))
		case base.Task != e.Task:
			errs = append(errs, doc.Errorf(key+".baseline", "baseline %q has task %s but this evaluation has %s: compare like with like", base.Name, base.Task, e.Task))
		case base.Stress != nil:
			errs = append(errs, doc.Errorf(key+".baseline", "baseline %q is itself stressed: name the clean evaluation", base.Name))
		}
	}
	return errs
}
