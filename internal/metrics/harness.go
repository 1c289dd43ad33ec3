package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/ingest"
)

// maxResultsBytes bounds a harness results file, which is read whole, both
// as stored and after gzip decompression. The results of
// lm-evaluation-harness and metrics-json are kilobytes. promptfoo and garak
// write every prompt and output, so theirs grow with the run.
// NOTE: the bound is a judgement, not a measured maximum of either tool.
const maxResultsBytes = 256 << 20

// HarnessReport is the result of an evaluation that reads the output of a
// language-model harness: lm-evaluation-harness, promptfoo, garak, or a
// plain metrics JSON. It is stored under evaluations.<name> in
// metrics.json.
type HarnessReport struct {
	Name   string `json:"name"`
	Task   string `json:"task"`
	Source Source `json:"source"`
	// Metrics holds the overall numbers: for promptfoo the pass rate, for
	// garak the attack success rate, for a metrics JSON every number.
	Metrics map[string]*float64 `json:"metrics"`
	// Tasks maps each lm-evaluation-harness task (or group) to its metrics,
	// keyed as the harness writes them ("acc,none").
	Tasks map[string]*HarnessTask `json:"tasks,omitempty"`
	// Providers maps each promptfoo provider to its results.
	Providers map[string]map[string]*float64 `json:"providers,omitempty"`
	// Probes maps each garak probe to its detectors' results.
	Probes map[string]*GarakProbe `json:"probes,omitempty"`
	// Undefined maps the path of each nil value below this object to the
	// reason.
	Undefined  map[string]string `json:"undefined"`
	Robustness *Robustness       `json:"robustness,omitempty"`
}

// HarnessTask is one task of an lm-evaluation-harness run.
type HarnessTask struct {
	Metrics map[string]*float64 `json:"metrics"`
	// Stderr holds the standard errors the harness reports, by metric.
	Stderr map[string]*float64 `json:"stderr"`
}

// GarakProbe holds the results of one garak probe.
type GarakProbe struct {
	// Probe is garak's name of the probe, such as "dan.Dan_11_0".
	Probe string `json:"probe"`
	// MaxAttackSuccessRate is the largest attack success rate among the
	// probe's detectors.
	MaxAttackSuccessRate *float64 `json:"maxAttackSuccessRate"`
	// Detectors maps each detector to its counts and attack success rate.
	Detectors map[string]*GarakDetector `json:"detectors"`
}

// GarakDetector is one probe and detector pair of a garak run.
type GarakDetector struct {
	Detector string `json:"detector"`
	// Evaluated counts the outputs the detector judged; Hits the outputs
	// it judged to be a successful attack (garak's "fails").
	Evaluated int64 `json:"evaluated"`
	Hits      int64 `json:"hits"`
	// AttackSuccessRate is Hits over Evaluated.
	AttackSuccessRate *float64 `json:"attackSuccessRate"`
}

func (h *HarnessReport) headline() map[string]*float64 { return maps.Clone(h.Metrics) }

func (h *HarnessReport) setRobustness(r *Robustness) { h.Robustness = r }

// ReadHarness reads a harness results file (optionally gzip-compressed)
// and returns its numbers.
func ReadHarness(ctx context.Context, spec Spec) (*HarnessReport, error) {
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("evaluation %q: %w", spec.Name, err)
	}
	data, source, err := readResults(spec)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	report := &HarnessReport{Name: spec.Name, Task: spec.Task, Source: source, Metrics: map[string]*float64{}, Undefined: map[string]string{}}
	if spec.Task != TaskGarak {
		// A garak report is JSON Lines, checked line by line in readGarak.
		if err := checkJSON(data, 1); err != nil {
			return nil, harnessError(spec.DisplayPath, err)
		}
	}
	switch spec.Task {
	case TaskLMEvalHarness:
		err = report.readLMEval(data)
	case TaskPromptfoo:
		err = report.readPromptfoo(data)
	case TaskGarak:
		err = report.readGarak(data)
	case TaskMetricsJSON:
		err = report.readMetricsJSON(data)
	default:
		err = fmt.Errorf("task %q does not read a results file", spec.Task)
	}
	if err != nil {
		return nil, harnessError(spec.DisplayPath, err)
	}
	return report, nil
}

// harnessError prefixes err with the results file's path, as path:line:column
// when err has a position.
func harnessError(path string, err error) error {
	var positioned *positionError
	if errors.As(err, &positioned) {
		return fmt.Errorf("%s:%w", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// readResults reads the whole file, decompressing gzip, and returns its
// bytes and its Source. Rows counts the lines of a JSON Lines file and is 1
// for a JSON document.
func readResults(spec Spec) ([]byte, Source, error) {
	f, info, err := ingest.OpenFile(spec.Path, "results file", spec.DisplayPath)
	if err != nil {
		return nil, Source{}, err
	}
	defer f.Close()
	if info.Size() > maxResultsBytes {
		return nil, Source{}, resultsTooLarge(spec.DisplayPath)
	}
	// The file may grow after the Stat, so the read is bounded too.
	raw, err := io.ReadAll(io.LimitReader(f, maxResultsBytes+1))
	if err != nil {
		return nil, Source{}, fmt.Errorf("reading results file %s: %w", spec.DisplayPath, err)
	}
	if len(raw) > maxResultsBytes {
		return nil, Source{}, resultsTooLarge(spec.DisplayPath)
	}
	digest := sha256.Sum256(raw)
	data := raw
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		gz, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, Source{}, &ingest.GzipError{Path: spec.DisplayPath, Err: err}
		}
		if data, err = io.ReadAll(io.LimitReader(gz, maxResultsBytes+1)); err != nil {
			return nil, Source{}, &ingest.GzipError{Path: spec.DisplayPath, Err: err}
		}
	}
	if len(data) > maxResultsBytes {
		return nil, Source{}, resultsTooLarge(spec.DisplayPath)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	// encoding/json would replace invalid bytes with U+FFFD, so two task,
	// provider, probe or metric names that differ only there would merge.
	if !utf8.Valid(data) {
		return nil, Source{}, invalidUTF8(spec.DisplayPath, data)
	}
	rows := int64(1)
	if spec.Task == TaskGarak {
		rows = int64(bytes.Count(bytes.TrimSpace(data), []byte("\n")) + 1)
	}
	return data, Source{Path: spec.DisplayPath, SHA256: hex.EncodeToString(digest[:]), Rows: rows}, nil
}

func resultsTooLarge(path string) error {
	return fmt.Errorf("results file %s is larger than %d MiB, the most auditpack reads from a harness results file (after decompression): give the results of a smaller run, or split the run into several evaluations",
		path, maxResultsBytes>>20)
}

// invalidUTF8 locates the first byte of data that is not part of a UTF-8
// character.
func invalidUTF8(path string, data []byte) error {
	line, column := 1, 1
	for offset := 0; offset < len(data); {
		c, size := utf8.DecodeRune(data[offset:])
		if c == utf8.RuneError && size == 1 {
			return fmt.Errorf("%s:%d:%d: the byte 0x%02x is not part of a UTF-8 character, and JSON must be UTF-8: write the file as UTF-8, or re-encode it, for example with iconv -f latin1 -t utf-8 if it was written as Latin-1",
				path, line, column, data[offset])
		}
		if c == '\n' {
			line, column = line+1, 1
		} else {
			column += size
		}
		offset += size
	}
	return fmt.Errorf("%s: not valid UTF-8", path)
}

// pathKey makes a name usable as one segment of a policy metric path,
// which splits on dots: every "." becomes "_".
func pathKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// number converts a decoded JSON value into a metric: a number, or nil with
// a reason for "N/A", null and anything else.
func number(value any) (*float64, string) {
	switch v := value.(type) {
	case float64:
		return &v, ""
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Sprintf("the harness wrote %s, which is not a finite number", v)
		}
		return &f, ""
	case nil:
		return nil, "the harness wrote null"
	case string:
		return nil, fmt.Sprintf("the harness wrote %q instead of a number", v)
	}
	return nil, "the harness wrote a value that is not a number"
}

// lmEvalSkipped lists the keys of an lm-evaluation-harness result that are
// descriptions, not metrics.
var lmEvalSkipped = map[string]bool{"alias": true, "name": true, "sample_len": true, "sample_count": true, " ": true}

func (h *HarnessReport) readLMEval(data []byte) error {
	var doc struct {
		Results map[string]map[string]any `json:"results"`
		Groups  map[string]map[string]any `json:"groups"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not lm-evaluation-harness results JSON: %w", err)
	}
	if len(doc.Results) == 0 {
		return errors.New(`no "results" object with at least one task: give the results_*.json file that lm_eval --output_path writes`)
	}
	h.Tasks = map[string]*HarnessTask{}
	for _, section := range []map[string]map[string]any{doc.Results, doc.Groups} {
		for task, values := range section {
			key := pathKey(task)
			if _, seen := h.Tasks[key]; seen {
				continue
			}
			t := &HarnessTask{Metrics: map[string]*float64{}, Stderr: map[string]*float64{}}
			for name, value := range values {
				if lmEvalSkipped[name] {
					continue
				}
				if _, isString := value.(string); isString && !strings.Contains(name, "stderr") {
					continue
				}
				metric, filter, _ := strings.Cut(name, ",")
				target, prefix := t.Metrics, "metrics."
				if base, ok := strings.CutSuffix(metric, "_stderr"); ok {
					target, prefix = t.Stderr, "stderr."
					metric = base
				}
				if filter != "" {
					metric += "," + filter
				}
				v, reason := number(value)
				target[metric] = v
				if v == nil {
					h.Undefined["tasks."+key+"."+prefix+metric] = reason
				}
			}
			h.Tasks[key] = t
		}
	}
	return nil
}

func (h *HarnessReport) readPromptfoo(data []byte) error {
	type result struct {
		Success       bool            `json:"success"`
		Score         *float64        `json:"score"`
		Error         string          `json:"error"`
		FailureReason *int            `json:"failureReason"`
		Provider      json.RawMessage `json:"provider"`
		LatencyMs     *float64        `json:"latencyMs"`
	}
	type table struct {
		Results []result        `json:"results"`
		Stats   json.RawMessage `json:"stats"`
	}
	var inner table
	// `promptfoo eval --output x.json` writes {"evalId", "results":
	// {"results": [...], "stats": {...}}, "config"}; older versions wrote
	// the inner object at the top.
	var outer struct {
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(data, &outer); err != nil {
		return fmt.Errorf("not promptfoo output JSON: %w", err)
	}
	var rows []result
	switch trimmed := bytes.TrimSpace(outer.Results); {
	case len(trimmed) > 0 && trimmed[0] == '{':
		if err := json.Unmarshal(trimmed, &inner); err != nil {
			return fmt.Errorf("not promptfoo output JSON: %w", err)
		}
		rows = inner.Results
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &rows); err != nil {
			return fmt.Errorf("not promptfoo output JSON: %w", err)
		}
	default:
		return errors.New(`no "results" in the file: give the JSON that promptfoo eval --output results.json writes`)
	}
	if len(rows) == 0 {
		return errors.New("the promptfoo output lists no test results")
	}

	type tally struct {
		tests, passed, failed, errors int64
		score                         compensatedSum
		scored                        int64
	}
	overall := &tally{}
	providers := map[string]*tally{}
	for _, r := range rows {
		provider := providerID(r.Provider)
		t := providers[provider]
		if t == nil {
			t = &tally{}
			providers[provider] = t
		}
		for _, x := range []*tally{overall, t} {
			x.tests++
			switch {
			case r.FailureReason != nil && *r.FailureReason == 2:
				x.errors++
			case r.Success:
				x.passed++
			default:
				x.failed++
			}
			if r.Score != nil {
				x.score.add(*r.Score)
				x.scored++
			}
		}
	}
	metricsOf := func(t *tally, undefined map[string]string, prefix string) map[string]*float64 {
		m := map[string]*float64{
			"tests": ptr(float64(t.tests)), "passed": ptr(float64(t.passed)),
			"failed": ptr(float64(t.failed)), "errors": ptr(float64(t.errors)),
			"passRate": ptr(float64(t.passed) / float64(t.tests)),
		}
		m["meanScore"] = ratioFloat(t.score.value(), float64(t.scored), undefined, prefix+"meanScore", "no result has a score")
		return m
	}
	h.Metrics = metricsOf(overall, h.Undefined, "")
	h.Providers = map[string]map[string]*float64{}
	for id, t := range providers {
		key := pathKey(id)
		if _, dup := h.Providers[key]; dup {
			return fmt.Errorf("providers %q and another one have the same name once dots become underscores", id)
		}
		h.Providers[key] = metricsOf(t, h.Undefined, "providers."+key+".")
	}
	return nil
}

// providerID reads a promptfoo provider, written as a string or as an
// object with an id and an optional label.
func providerID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil && id != "" {
		return id
	}
	var object struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	}
	if json.Unmarshal(raw, &object) == nil {
		if object.Label != "" {
			return object.Label
		}
		if object.ID != "" {
			return object.ID
		}
	}
	return "unknown"
}

func (h *HarnessReport) readGarak(data []byte) error {
	type evalEntry struct {
		EntryType      string `json:"entry_type"`
		Probe          string `json:"probe"`
		Detector       string `json:"detector"`
		Passed         *int64 `json:"passed"`
		Fails          *int64 `json:"fails"`
		Total          *int64 `json:"total"`
		TotalEvaluated *int64 `json:"total_evaluated"`
	}
	h.Probes = map[string]*GarakProbe{}
	var evaluated, hits int64
	// The whole file is in memory already, bounded by maxResultsBytes, so
	// lines are cut from it rather than copied into a scanner's buffer.
	line, evals := 0, 0
	for rest := data; len(rest) > 0; {
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte("\n"))
		line++
		text := bytes.TrimSpace(raw)
		if len(text) == 0 || !bytes.Contains(text, []byte(`"eval"`)) {
			continue
		}
		if err := checkJSON(text, line); err != nil {
			return err
		}
		var e evalEntry
		if err := json.Unmarshal(text, &e); err != nil {
			return &positionError{Line: line, Err: fmt.Errorf("invalid eval entry: %w", err)}
		}
		if e.EntryType != "eval" {
			continue
		}
		evals++
		// Reports since garak 0.10 give total_evaluated and fails;
		// older ones give total, of which passed passed.
		var n, failed int64
		switch {
		case e.Passed == nil || e.Probe == "" || e.Detector == "":
			return &positionError{Line: line, Err: errors.New("an eval entry needs probe, detector and passed")}
		case e.TotalEvaluated != nil:
			n = *e.TotalEvaluated
			failed = n - *e.Passed
			if e.Fails != nil && *e.Fails != failed {
				return &positionError{Line: line, Err: fmt.Errorf("fails %d does not equal total_evaluated %d minus passed %d", *e.Fails, n, *e.Passed)}
			}
		case e.Total != nil:
			n = *e.Total
			failed = n - *e.Passed
		default:
			return &positionError{Line: line, Err: errors.New("an eval entry needs total_evaluated or total")}
		}
		if failed < 0 {
			return &positionError{Line: line, Err: fmt.Errorf("passed %d is more than the %d outputs evaluated", *e.Passed, n)}
		}

		key := pathKey(e.Probe)
		probe := h.Probes[key]
		if probe == nil {
			probe = &GarakProbe{Probe: e.Probe, Detectors: map[string]*GarakDetector{}}
			h.Probes[key] = probe
		}
		detectorKey := pathKey(e.Detector)
		d := &GarakDetector{Detector: e.Detector, Evaluated: n, Hits: failed}
		d.AttackSuccessRate = ratio(failed, n, h.Undefined, "probes."+key+".detectors."+detectorKey+".attackSuccessRate", "the detector evaluated no output")
		probe.Detectors[detectorKey] = d
		evaluated += n
		hits += failed
	}
	if evals == 0 {
		return errors.New(`no "eval" entries: give the garak.<run id>.report.jsonl of a finished run`)
	}
	for key, probe := range h.Probes {
		var rates []float64
		missing := false
		for _, d := range probe.Detectors {
			if d.AttackSuccessRate == nil {
				missing = true
			} else {
				rates = append(rates, *d.AttackSuccessRate)
			}
		}
		if missing || len(rates) == 0 {
			h.Undefined["probes."+key+".maxAttackSuccessRate"] = "a detector of this probe evaluated no output"
			continue
		}
		probe.MaxAttackSuccessRate = ptr(slices.Max(rates))
	}
	h.Metrics["evaluated"] = ptr(float64(evaluated))
	h.Metrics["hits"] = ptr(float64(hits))
	h.Metrics["attackSuccessRate"] = ratio(hits, evaluated, h.Undefined, "attackSuccessRate", "no output was evaluated")
	return nil
}

func (h *HarnessReport) readMetricsJSON(data []byte) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var doc map[string]any
	if err := decoder.Decode(&doc); err != nil {
		return fmt.Errorf(`not a JSON object: %w: write {"metrics": {"name": 0.91}} or {"name": 0.91}`, err)
	}
	values := doc
	if inner, ok := doc["metrics"].(map[string]any); ok && len(doc) == 1 {
		values = inner
	}
	if len(values) == 0 {
		return errors.New("the object has no metrics")
	}
	renamed := make(map[string]string, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		key := pathKey(name)
		switch {
		case name == "":
			return errors.New("a metric name is empty: name every metric")
		case key == "undefined":
			return fmt.Errorf("metric name %q is reserved for the reasons of null values: rename it", name)
		case strings.Contains(name, "*"):
			return fmt.Errorf("metric name %q contains '*', which policy paths use as a wildcard: rename it", name)
		}
		if other, ok := renamed[key]; ok {
			return fmt.Errorf("metrics %q and %q have the same name %q once dots become underscores: rename one of them", other, name, key)
		}
		renamed[key] = name
		value := values[name]
		switch value.(type) {
		case map[string]any, []any, bool:
			return fmt.Errorf("metric %q is not a number or null: flatten nested objects into names such as %q", name, key+"_sub")
		}
		v, reason := number(value)
		h.Metrics[key] = v
		if v == nil {
			h.Undefined[key] = reason
		}
	}
	return nil
}
