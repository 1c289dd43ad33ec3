package metrics

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/ingest"
)

// multiclass gathers a multiclass evaluation in one pass.
type multiclass struct {
	spec     Spec
	declared bool
	classes  []string
	index    map[string]int
	matrix   [][]int64 // true class, predicted class; grows with classes
	// scoreClasses[i] is the class index of the i-th score column, and
	// scores[k] holds class k's one-vs-rest scores for ROC AUC.
	scoreClasses []int
	scores       []scoreSet
	rowScores    []float64
	topK         []int
	topKHits     []int64
	logLoss      compensatedSum
	notProbab    *outsideProbability
	groups       *groupIndex
	ids          []int32
	groupCounts  [][]*classCounts // dimension, group id
	boot         *multiclassBootstrap
}

// classCounts is the confusion of one group in per-class form.
type classCounts struct {
	count, correct int64
	support        []int64 // rows of each true class
	hits           []int64 // rows of each true class predicted right
}

// EvaluateMulticlass reads a multiclass-classification predictions file
// once and returns its metrics. Memory grows with the square of the number
// of classes, with the number of groups and, with score columns, by 8 bytes
// per row and class for the one-vs-rest ROC AUC.
func EvaluateMulticlass(ctx context.Context, spec Spec) (*Summary, error) {
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	m, err := newMulticlass(spec)
	if err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}

	columns := []string{spec.Columns.Label, spec.Columns.Prediction}
	scoreColumns := make([]string, len(m.scoreClasses))
	for i, k := range m.scoreClasses {
		scoreColumns[i] = spec.Columns.Scores[m.classes[k]]
	}
	columns = append(columns, scoreColumns...)
	firstGroup := len(columns)
	columns = append(columns, spec.Groups...)

	source, err := scan(ctx, spec, columns, func(values []string, line int) error {
		return m.add(values, scoreColumns, values[firstGroup:], line)
	})
	if err != nil {
		return nil, err
	}
	summary, err := m.result()
	if err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	summary.Name, summary.Task, summary.Source = spec.Name, spec.Task, source
	return summary, nil
}

func newMulticlass(spec Spec) (*multiclass, error) {
	m := &multiclass{spec: spec, index: map[string]int{}, topK: slices.Compact(slices.Sorted(slices.Values(spec.TopK)))}
	classes := spec.Classes
	if len(classes) == 0 && len(spec.Columns.Scores) > 0 {
		// Score columns declare the class set.
		classes = slices.Sorted(maps.Keys(spec.Columns.Scores))
	}
	for _, class := range classes {
		m.addClass(class)
	}
	m.declared = len(classes) > 0
	if len(spec.Columns.Scores) > 0 {
		if len(spec.Columns.Scores) != len(classes) {
			return nil, fmt.Errorf("score columns are given for %d classes but there are %d classes: give one score column per class", len(spec.Columns.Scores), len(classes))
		}
		for class := range spec.Columns.Scores {
			k, ok := m.index[class]
			if !ok {
				return nil, fmt.Errorf("score column for class %q, which is not among the classes %s", class, quoteList(classes))
			}
			m.scoreClasses = append(m.scoreClasses, k)
		}
		slices.Sort(m.scoreClasses)
		m.scores = make([]scoreSet, len(classes))
		m.rowScores = make([]float64, len(classes))
		m.topKHits = make([]int64, len(m.topK))
	}
	m.groups = newGroupIndex(spec)
	m.ids = make([]int32, len(m.groups.parts))
	m.groupCounts = make([][]*classCounts, len(m.groups.parts))
	if spec.Bootstrap != nil {
		if !m.declared {
			return nil, fmt.Errorf("a multiclass bootstrap needs the classes declared (classes, or a score column per class)")
		}
		m.boot = newMulticlassBootstrap(*spec.Bootstrap, len(classes))
	}
	return m, nil
}

func (m *multiclass) addClass(class string) int {
	k := len(m.classes)
	m.classes = append(m.classes, class)
	m.index[class] = k
	for i := range m.matrix {
		m.matrix[i] = append(m.matrix[i], 0)
	}
	m.matrix = append(m.matrix, make([]int64, k+1))
	return k
}

// maxFoundClasses bounds the classes taken from the file when none are
// declared, because the confusion matrix grows with their square.
const maxFoundClasses = 1000

// class returns the index of a label, adding it when the class set was not
// declared.
func (m *multiclass) class(value, column string, line int) (int, error) {
	if k, ok := m.index[value]; ok {
		return k, nil
	}
	switch {
	case value == "":
		return 0, &ingest.RowError{Path: m.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf("the value is empty: every row needs a class")}
	case m.declared:
		return 0, &ingest.RowError{Path: m.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"%q is not one of the declared classes %s: fix the row or add the class to the configuration", value, quoteList(m.classes))}
	case len(m.classes) >= maxFoundClasses:
		return 0, &ingest.RowError{Path: m.spec.DisplayPath, Line: line, Column: column, Err: fmt.Errorf(
			"more than %d distinct classes: check that the configuration names the label and prediction columns, or declare the classes",
			maxFoundClasses)}
	}
	return m.addClass(strings.Clone(value)), nil
}

func (m *multiclass) add(values, scoreColumns, groupValues []string, line int) error {
	actual, err := m.class(values[0], m.spec.Columns.Label, line)
	if err != nil {
		return err
	}
	predicted, err := m.class(values[1], m.spec.Columns.Prediction, line)
	if err != nil {
		return err
	}
	m.matrix[actual][predicted]++

	if len(m.scoreClasses) > 0 {
		if err := m.addScores(values[2:2+len(scoreColumns)], scoreColumns, actual, line); err != nil {
			return err
		}
	}

	created, err := m.groups.assign(groupValues, m.ids, line)
	if err != nil {
		return err
	}
	if created {
		for d, id := range m.ids {
			if int(id) == len(m.groupCounts[d]) {
				m.groupCounts[d] = append(m.groupCounts[d], &classCounts{})
			}
		}
	}
	for d, id := range m.ids {
		g := m.groupCounts[d][id]
		for len(g.support) < len(m.classes) {
			g.support, g.hits = append(g.support, 0), append(g.hits, 0)
		}
		g.count++
		g.support[actual]++
		if actual == predicted {
			g.correct++
			g.hits[actual]++
		}
	}
	if m.boot != nil {
		m.boot.add(actual, predicted)
	}
	return nil
}

func (m *multiclass) addScores(texts, columns []string, actual, line int) error {
	probabilities := true
	for i, k := range m.scoreClasses {
		score, err := parseScore(texts[i])
		if err != nil {
			return &ingest.RowError{Path: m.spec.DisplayPath, Line: line, Column: columns[i], Err: err}
		}
		m.rowScores[k] = score
		m.scores[k].add(score, k == actual)
		if score < 0 || score > 1 {
			probabilities = false
			if m.notProbab == nil {
				m.notProbab = &outsideProbability{line: line, value: strings.Clone(texts[i])}
			}
		}
	}

	// Rank of the true class as scikit-learn's top_k_accuracy_score
	// computes it: classes sorted by score with a stable sort, then
	// reversed, so that among tied scores the later class ranks higher.
	rank := 0
	own := m.rowScores[actual]
	for k, s := range m.rowScores {
		if s > own || (s == own && k > actual) {
			rank++
		}
	}
	for i, k := range m.topK {
		if rank < k {
			m.topKHits[i]++
		}
	}

	if probabilities && m.notProbab == nil {
		// As scikit-learn's log_loss: clip every probability, then
		// renormalise the row to sum to 1.
		var sum float64
		for _, s := range m.rowScores {
			sum += min(max(s, logLossEpsilon), 1-logLossEpsilon)
		}
		m.logLoss.add(-math.Log(min(max(own, logLossEpsilon), 1-logLossEpsilon) / sum))
	}
	return nil
}

// result computes the metrics.
func (m *multiclass) result() (*Summary, error) {
	s := &Summary{
		Classes: m.classes, ConfusionMatrix: m.matrix,
		PerClass: map[string]map[string]*float64{}, Metrics: map[string]*float64{},
		Undefined: map[string]string{}, Groups: map[string]*GroupSummary{},
	}
	k := len(m.classes)
	var n, correct int64
	support := make([]int64, k)
	predicted := make([]int64, k)
	for i := range k {
		for j := range k {
			n += m.matrix[i][j]
			support[i] += m.matrix[i][j]
			predicted[j] += m.matrix[i][j]
		}
		correct += m.matrix[i][i]
	}
	mt, undefined := s.Metrics, s.Undefined

	mt["accuracy"] = ratio(correct, n, undefined, "accuracy", "no rows")
	// With every prediction inside the class set, micro-averaged
	// precision, recall and F1 all equal accuracy.
	mt["microPrecision"], mt["microRecall"], mt["microF1"] = mt["accuracy"], mt["accuracy"], mt["accuracy"]

	var precision, recall, f1 []*float64
	for i, class := range m.classes {
		key := "perClass." + class + "."
		tp := m.matrix[i][i]
		values := map[string]*float64{
			"support":   ptr(float64(support[i])),
			"precision": ratio(tp, predicted[i], undefined, key+"precision", "the class is never predicted (tp + fp = 0)"),
			"recall":    ratio(tp, support[i], undefined, key+"recall", "the class has no rows (tp + fn = 0)"),
			"f1":        ratio(2*tp, predicted[i]+support[i], undefined, key+"f1", "the class is neither present nor predicted"),
		}
		precision, recall, f1 = append(precision, values["precision"]), append(recall, values["recall"]), append(f1, values["f1"])
		s.PerClass[class] = values
	}
	averages(mt, undefined, "precision", precision, support, m.classes)
	averages(mt, undefined, "recall", recall, support, m.classes)
	averages(mt, undefined, "f1", f1, support, m.classes)

	// Balanced accuracy is the mean recall over the classes that occur in
	// the labels, as in scikit-learn.
	var recalls []float64
	for i := range k {
		if support[i] > 0 {
			recalls = append(recalls, float64(m.matrix[i][i])/float64(support[i]))
		}
	}
	mt["balancedAccuracy"] = finite(mean(recalls), undefined, "balancedAccuracy")

	m.scoreMetrics(s, support, n)
	if err := m.groupResults(s); err != nil {
		return nil, err
	}
	if m.boot != nil {
		m.boot.intervals(s)
	}
	return s, nil
}

// averages stores the macro and weighted averages of a per-class metric.
// A class whose value is undefined makes both undefined: scikit-learn would
// count it as 0 (zero_division), which would lower the average by a value
// never measured.
func averages(mt map[string]*float64, undefined map[string]string, name string, values []*float64, support []int64, classes []string) {
	macro, weighted := "macro"+upperFirst(name), "weighted"+upperFirst(name)
	var missing []string
	var sum, weightedSum compensatedSum
	var total int64
	for i, v := range values {
		if v == nil {
			missing = append(missing, classes[i])
			continue
		}
		sum.add(*v)
		weightedSum.add(*v * float64(support[i]))
		total += support[i]
	}
	if len(missing) > 0 {
		reason := fmt.Sprintf("%s is undefined for %s", name, listNamed("class", "classes", missing))
		mt[macro], mt[weighted] = nil, nil
		undefined[macro], undefined[weighted] = reason, reason
		return
	}
	mt[macro] = finite(sum.value()/float64(len(values)), undefined, macro)
	mt[weighted] = ratioFloat(weightedSum.value(), float64(total), undefined, weighted, "no rows")
}

func (m *multiclass) scoreMetrics(s *Summary, support []int64, n int64) {
	mt, undefined := s.Metrics, s.Undefined
	keys := []string{"logLoss", "macroRocAuc", "weightedRocAuc"}
	for _, k := range m.topK {
		keys = append(keys, fmt.Sprintf("top%dAccuracy", k))
	}
	if len(m.scoreClasses) == 0 {
		for _, key := range keys {
			mt[key] = nil
			undefined[key] = "no score columns were configured (columns.scores)"
		}
		return
	}
	for i, k := range m.topK {
		key := fmt.Sprintf("top%dAccuracy", k)
		mt[key] = ratio(m.topKHits[i], n, undefined, key, "no rows")
	}
	if m.notProbab != nil {
		mt["logLoss"] = nil
		undefined["logLoss"] = fmt.Sprintf("the score %q on line %d is outside [0, 1]; log loss needs class probabilities", m.notProbab.value, m.notProbab.line)
	} else {
		mt["logLoss"] = finite(m.logLoss.value()/float64(n), undefined, "logLoss")
	}

	var aucs []*float64
	for i, class := range m.classes {
		key := "perClass." + class + ".rocAuc"
		auc, ok := m.scores[i].rocAUC()
		var value *float64
		if ok {
			value = finite(auc, undefined, key)
		} else {
			undefined[key] = "one-vs-rest needs rows of this class and of another"
		}
		s.PerClass[class]["rocAuc"] = value
		aucs = append(aucs, value)
	}
	macro := make([]*float64, len(aucs))
	copy(macro, aucs)
	withAUC := map[string]*float64{}
	averages(withAUC, undefined, "rocAuc", macro, support, m.classes)
	mt["macroRocAuc"], mt["weightedRocAuc"] = withAUC["macroRocAuc"], withAUC["weightedRocAuc"]
}

// groupResults fills the per-group accuracy and balanced accuracy and the
// gaps between groups.
func (m *multiclass) groupResults(s *Summary) error {
	for d, column := range m.groups.names {
		names, err := m.groups.groupNames(d)
		if err != nil {
			return err
		}
		g := &GroupSummary{
			Column: column, MinGroupSize: m.spec.MinGroupSize, ExcludedGroups: []string{},
			ReferenceGroup: m.spec.ReferenceGroups[column],
			Groups:         map[string]map[string]*float64{}, Fairness: map[string]*float64{}, Undefined: map[string]string{},
		}
		if d >= len(m.spec.Groups) {
			g.Columns = m.spec.Intersections[d-len(m.spec.Groups)]
		}
		for id, name := range names {
			c := m.groupCounts[d][id]
			var recalls []float64
			for i, support := range c.support {
				if support > 0 {
					recalls = append(recalls, float64(c.hits[i])/float64(support))
				}
			}
			g.Groups[name] = map[string]*float64{
				"count":            ptr(float64(c.count)),
				"accuracy":         ptr(float64(c.correct) / float64(c.count)),
				"balancedAccuracy": ptr(mean(recalls)),
			}
		}
		if err := groupGaps(g, []string{"accuracy", "balancedAccuracy"}); err != nil {
			return err
		}
		s.Groups[column] = g
	}
	return nil
}

// mean returns the arithmetic mean of a non-empty slice with compensated
// summation, or NaN for an empty one (which finite turns into undefined).
func mean(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	var sum compensatedSum
	for _, v := range values {
		sum.add(v)
	}
	return sum.value() / float64(len(values))
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// ratioFloat returns numerator/denominator, or nil with the reason when the
// denominator is 0.
func ratioFloat(numerator, denominator float64, undefined map[string]string, key, reason string) *float64 {
	if denominator == 0 {
		undefined[key] = reason
		return nil
	}
	return finite(numerator/denominator, undefined, key)
}

// multiclassBootstrap keeps a confusion matrix per resample.
type multiclassBootstrap struct {
	spec    Bootstrap
	gen     *poisson
	classes int
	// matrices[r] is resample r's confusion matrix, row-major.
	matrices [][]int64
}

func newMulticlassBootstrap(spec Bootstrap, classes int) *multiclassBootstrap {
	b := &multiclassBootstrap{spec: spec, gen: newPoisson(spec.Seed), classes: classes, matrices: make([][]int64, spec.Resamples)}
	for r := range b.matrices {
		b.matrices[r] = make([]int64, classes*classes)
	}
	return b
}

func (b *multiclassBootstrap) add(actual, predicted int) {
	cell := actual*b.classes + predicted
	for r := range b.matrices {
		if w := b.gen.draw(); w > 0 {
			b.matrices[r][cell] += w
		}
	}
}

// intervals computes intervals for accuracy, balanced accuracy and macro F1.
func (b *multiclassBootstrap) intervals(s *Summary) {
	s.Bootstrap = &BootstrapInfo{Method: BootstrapMethod, Resamples: b.spec.Resamples, Seed: b.spec.Seed, Confidence: b.spec.Confidence}
	s.ConfidenceIntervals = map[string]*Interval{}
	keys := []string{"accuracy", "balancedAccuracy", "macroF1"}
	values := map[string][]*float64{}
	k := b.classes
	for _, matrix := range b.matrices {
		var n, correct int64
		support, predicted := make([]int64, k), make([]int64, k)
		for i := range k {
			for j := range k {
				support[i] += matrix[i*k+j]
				predicted[j] += matrix[i*k+j]
				n += matrix[i*k+j]
			}
			correct += matrix[i*k+i]
		}
		var recalls, f1s []float64
		f1Defined := true
		for i := range k {
			if support[i] > 0 {
				recalls = append(recalls, float64(matrix[i*k+i])/float64(support[i]))
			}
			if support[i]+predicted[i] == 0 {
				f1Defined = false
			} else {
				f1s = append(f1s, 2*float64(matrix[i*k+i])/float64(support[i]+predicted[i]))
			}
		}
		scratch := map[string]string{}
		values["accuracy"] = append(values["accuracy"], ratio(correct, n, scratch, "a", ""))
		values["balancedAccuracy"] = append(values["balancedAccuracy"], finite(mean(recalls), scratch, "b"))
		var macroF1 *float64
		if f1Defined {
			macroF1 = finite(mean(f1s), scratch, "f")
		}
		values["macroF1"] = append(values["macroF1"], macroF1)
	}
	for _, key := range keys {
		s.ConfidenceIntervals[key] = intervalOf(values[key], b.spec.Confidence, s.Metrics[key] != nil, s.Undefined, "confidenceIntervals."+key)
	}
}
