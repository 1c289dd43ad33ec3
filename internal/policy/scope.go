package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// scope returns the tree that the path of rule is resolved against. For a
// rule without tasks or stressed it is tree itself. Otherwise it is a copy
// whose evaluations map keeps only the evaluations the rule applies to:
// those of its tasks, and with stressed only the stressed variants, which
// have a robustness section. A wildcard then skips the others while a key
// that no kept evaluation has is still an error. When the rule applies to
// no evaluation, because none is kept or the one it names is not, skipped
// gives the reason. An evaluation without a task is an error when the rule
// has tasks, because the rule could otherwise skip it unseen.
func scope(tree any, rule Rule, path []segment) (scoped any, skipped string, err error) {
	if (len(rule.Tasks) == 0 && !rule.Stressed) || len(path) < 2 || path[0].wildcard || path[0].key != "evaluations" {
		return tree, "", nil
	}
	root, ok := tree.(map[string]any)
	if !ok {
		return tree, "", nil
	}
	evaluations, ok := root["evaluations"].(map[string]any)
	if !ok {
		return tree, "", nil
	}

	if !path[1].wildcard {
		ev, ok := evaluations[path[1].key]
		if !ok {
			// resolve reports the missing name with the names there are.
			return tree, "", nil
		}
		why, err := excluded(rule, path[1].key, ev)
		if err != nil {
			return nil, "", err
		}
		if why != "" {
			return nil, why, nil
		}
		return tree, "", nil
	}

	kept := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(evaluations)) {
		why, err := excluded(rule, name, evaluations[name])
		if err != nil {
			return nil, "", err
		}
		if why == "" {
			kept[name] = evaluations[name]
		}
	}
	if len(kept) == 0 {
		return nil, noneKept(rule), nil
	}
	copied := maps.Clone(root)
	copied["evaluations"] = kept
	return copied, "", nil
}

// excluded returns why rule does not apply to the evaluation ev, named
// name, or "" when it applies.
func excluded(rule Rule, name string, ev any) (string, error) {
	if len(rule.Tasks) > 0 {
		task, err := taskOf(name, ev)
		if err != nil {
			return "", err
		}
		if !slices.Contains(rule.Tasks, task) {
			return fmt.Sprintf("evaluation %s has task %s, and the rule applies only to %s", formatKey(name), task, strings.Join(rule.Tasks, " or ")), nil
		}
	}
	if rule.Stressed && !stressed(ev) {
		return fmt.Sprintf("evaluation %s has no stress section, and the rule applies only to stressed evaluations", formatKey(name)), nil
	}
	return "", nil
}

// noneKept returns why a rule over evaluations.* applies to no evaluation.
func noneKept(rule Rule) string {
	tasks := strings.Join(rule.Tasks, " or ")
	switch {
	case rule.Stressed && len(rule.Tasks) > 0:
		return fmt.Sprintf("no stressed evaluation has task %s", tasks)
	case rule.Stressed:
		return "no evaluation is stressed"
	}
	return fmt.Sprintf("no evaluation has task %s", tasks)
}

// taskOf returns the task of the evaluation ev, named name, in the metrics
// document.
func taskOf(name string, ev any) (string, error) {
	obj, _ := ev.(map[string]any)
	task, ok := obj["task"].(string)
	if !ok || task == "" {
		return "", fmt.Errorf("evaluations.%s has no task in the metrics document, so tasks cannot tell whether the rule applies to it", formatKey(name))
	}
	return task, nil
}

// stressed reports whether the evaluation ev is a stressed variant: the
// metrics document gives those, and only those, a robustness object.
func stressed(ev any) bool {
	obj, _ := ev.(map[string]any)
	_, ok := obj["robustness"].(map[string]any)
	return ok
}

// notApplicable is the one result of a rule that applied to no evaluation.
func notApplicable(rule Rule, why string) Result {
	return Result{
		RuleID:      rule.ID,
		Description: rule.Description,
		Policy:      rule.file,
		Metric:      rule.Metric,
		Severity:    rule.Severity,
		Tasks:       rule.Tasks,
		Stressed:    rule.Stressed,
		Min:         rule.Min,
		Max:         rule.Max,
		MaxDrop:     rule.MaxDrop,
		MaxIncrease: rule.MaxIncrease,
		Outcome:     OutcomeNotApplicable,
		Message:     why + ", so the rule was not applied",
	}
}
