package aibom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/auditpack/auditpack/internal/lineage"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// schemaDir holds the official CycloneDX 1.6 schemas, outside the
// repository.
var schemaDir = filepath.Join("..", "..", "..", "shared", "schemas", "cyclonedx")

// testMetrics has a bootstrap interval on accuracy and disparateImpactRatio,
// one bound undefined on f1, and a group "other" that min_group_size
// leaves out of the fairness measures although its selection rate is the
// lowest.
const testMetrics = `{"evaluations": {"holdout": {
  "metrics": {"accuracy": 0.8125, "precision": 0.75, "recall": 0.6, "f1": 0.6667, "rocAuc": null, "positives": 10},
  "confidenceIntervals": {"accuracy": {"lower": 0.78, "upper": 0.85}, "f1": {"lower": 0.6, "upper": null}},
  "groups": {"sex": {"column": "sex", "minGroupSize": 5, "excludedGroups": ["other"],
    "groups": {"female": {"count": 40, "selectionRate": 0.25, "tpr": 0.5, "fpr": 0.1},
               "male": {"count": 60, "selectionRate": 0.4, "tpr": 0.7, "fpr": 0.2},
               "other": {"count": 2, "selectionRate": 0, "tpr": null, "fpr": 0}},
    "fairness": {"disparateImpactRatio": 0.625, "demographicParityDifference": 0.15, "fourFifthsRule": false},
    "confidenceIntervals": {"disparateImpactRatio": {"lower": 0.5, "upper": 0.75}}}}}}}`

func testInput() Input {
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	return Input{
		Model: Model{
			Name: "credit-risk", Version: "1.2.0", Description: "Scores loan applications.",
			License: "Apache-2.0", IntendedUse: "Decision support.", Limitations: "Not validated outside the EU.",
			Owners: []Owner{{Name: "Risk Team", Contact: "risk@example.com"}}, Task: "binary-classification",
		},
		Lineage: &lineage.Lineage{
			Artifacts: []lineage.Entry{{Path: "models/model.onnx", Type: lineage.TypeFile, SHA256: sum('a'), Size: 10}},
			Datasets: []lineage.Dataset{
				{
					Name: "train", Role: "training", Entry: lineage.Entry{Path: "data/train", Type: lineage.TypeDirectory, SHA256: sum('b'), Size: 30,
						Files: []lineage.File{{Path: "a.csv", SHA256: sum('c'), Size: 30}}},
					Source: "https://example.com/data", License: "CC-BY-4.0",
					Provenance: &lineage.Provenance{
						Terms: "Research and commercial use.", Collection: &lineage.Period{Start: "2019", End: "2021-06"},
						Preprocessing: []lineage.Code{{Entry: lineage.Entry{Path: "src/prep.py", Type: lineage.TypeFile, SHA256: sum('d'), Size: 5}, Commit: strings.Repeat("e", 40)}},
						Composition:   []lineage.Share{{Origin: "proprietary", Share: 0.75}, {Origin: "synthetic", Share: 0.25}},
					},
					DVC: []lineage.DVCCheck{{File: "data/train.dvc", Kind: "out", Hash: "md5:0123", Scheme: "md5", Status: lineage.DVCMatched}},
				},
				{Name: "holdout", Role: "evaluation", Entry: lineage.Entry{Path: "data/eval.csv", Type: lineage.TypeFile, SHA256: sum('f'), Size: 7}},
			},
		},
		Metrics:          []byte(testMetrics),
		ToolName:         "auditpack",
		ToolVersion:      "v0.0.0-test",
		Created:          time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		PositiveOutcomes: map[string]string{"holdout": OutcomeFavorable},
	}
}

func TestBuildMatchesGolden(t *testing.T) {
	bom, err := Build(testInput())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "aibom.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading %s (run with -update to create it): %v", golden, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("AI-BOM differs from %s; run go test -update and review the diff", golden)
	}
}

func TestBuildValidatesAgainstSchema(t *testing.T) {
	if _, err := os.Stat(filepath.Join(schemaDir, "bom-1.6.schema.json")); err != nil {
		t.Skipf("the CycloneDX schemas are not at %s: %v", schemaDir, err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.AssertFormat()
	for _, name := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		f, err := os.Open(filepath.Join(schemaDir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		if err := compiler.AddResource("http://cyclonedx.org/schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := compiler.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatalf("compiling the CycloneDX schema: %v", err)
	}

	tests := []struct {
		name  string
		input func() Input
	}{
		{"full", testInput},
		{"no metrics or provenance", func() Input {
			in := testInput()
			in.Metrics = nil
			in.Lineage.Datasets[0].Provenance = nil
			in.Model.Owners = []Owner{{Name: "No Mail", Contact: "#team-channel"}}
			return in
		}},
		{"no positive outcome", func() Input {
			in := testInput()
			in.PositiveOutcomes = nil
			return in
		}},
		{"every task", func() Input {
			in := testInput()
			data, err := os.ReadFile(tasksMetrics)
			if err != nil {
				t.Fatal(err)
			}
			in.Metrics = data
			return in
		}},
		{"several artifacts", func() Input {
			in := testInput()
			in.Lineage.Artifacts = append(in.Lineage.Artifacts, lineage.Entry{Path: "models/tokenizer.json", Type: lineage.TypeFile, SHA256: strings.Repeat("9", 64), Size: 3})
			return in
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bom, err := Build(tt.input())
			if err != nil {
				t.Fatal(err)
			}
			data, err := Encode(bom)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("the AI-BOM does not validate against CycloneDX 1.6: %v\n%s", err, data)
			}
		})
	}

	// A broken document must fail, so the check itself is known to work.
	broken, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "machine-learning-model"}]}`))
	if err := schema.Validate(broken); err == nil {
		t.Error("a component without a name validated; the schema check is not working")
	}
}

func TestBuildCopiesEvaluation(t *testing.T) {
	bom, err := Build(testInput())
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(bom)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Type      string `json:"type"`
			BOMRef    string `json:"bom-ref"`
			ModelCard struct {
				ModelParameters struct {
					Datasets []struct {
						Ref string `json:"ref"`
					} `json:"datasets"`
				} `json:"modelParameters"`
				QuantitativeAnalysis struct {
					PerformanceMetrics []struct {
						Type, Value, Slice string
						ConfidenceInterval *struct {
							LowerBound string `json:"lowerBound"`
							UpperBound string `json:"upperBound"`
						} `json:"confidenceInterval"`
					} `json:"performanceMetrics"`
				} `json:"quantitativeAnalysis"`
				Considerations struct {
					FairnessAssessments []struct{ GroupAtRisk, Harms string } `json:"fairnessAssessments"`
				} `json:"considerations"`
			} `json:"modelCard"`
			Hashes []struct {
				Alg     string `json:"alg"`
				Content string `json:"content"`
			} `json:"hashes"`
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SpecVersion != "1.6" {
		t.Errorf("specVersion = %q, want 1.6", doc.SpecVersion)
	}
	if len(doc.Components) != 3 || doc.Components[0].Type != "machine-learning-model" || doc.Components[1].Type != "data" {
		t.Fatalf("components = %+v, want the model then two data components", doc.Components)
	}
	card := doc.Components[0].ModelCard
	metrics := map[string]string{}
	intervals := map[string]string{}
	for _, m := range card.QuantitativeAnalysis.PerformanceMetrics {
		metrics[m.Slice+"/"+m.Type] = m.Value
		if ci := m.ConfidenceInterval; ci != nil {
			intervals[m.Slice+"/"+m.Type] = ci.LowerBound + " " + ci.UpperBound
		}
	}
	const otherSlice = "holdout: sex=other (fewer than 5 rows, left out of the fairness measures)"
	for key, want := range map[string]string{
		"holdout/accuracy":                  "0.8125",
		"holdout/f1":                        "0.6667",
		"holdout: sex=female/selectionRate": "0.25",
		"holdout: sex/disparateImpactRatio": "0.625",
		otherSlice + "/selectionRate":       "0",
	} {
		if metrics[key] != want {
			t.Errorf("metric %s = %q, want %q", key, metrics[key], want)
		}
	}
	if _, ok := metrics["holdout/rocAuc"]; ok {
		t.Error("the undefined rocAuc was copied into the model card")
	}
	if _, ok := metrics["holdout: sex=other/selectionRate"]; ok {
		t.Error("the excluded group sex=other has a slice that does not mark it as excluded")
	}
	wantIntervals := map[string]string{
		"holdout/accuracy":                  "0.78 0.85",
		"holdout: sex/disparateImpactRatio": "0.5 0.75",
	}
	if diff := cmp.Diff(wantIntervals, intervals); diff != "" {
		t.Errorf("confidence intervals (-want +got), f1 with an undefined bound must have none:\n%s", diff)
	}
	fa := card.Considerations.FairnessAssessments
	if len(fa) != 1 {
		t.Fatalf("fairness assessments = %+v, want one", fa)
	}
	if fa[0].GroupAtRisk != "sex=female" {
		t.Errorf("groupAtRisk = %q, want sex=female (lowest selection rate among the included groups)", fa[0].GroupAtRisk)
	}
	for _, want := range []string{"four-fifths rule is not met", "fewer than 5 rows: sex=other (2 rows, selection rate 0)"} {
		if !strings.Contains(fa[0].Harms, want) {
			t.Errorf("harms = %q, want it to contain %q", fa[0].Harms, want)
		}
	}
	if ds := card.ModelParameters.Datasets; len(ds) != 2 || ds[0].Ref != "dataset:train" {
		t.Errorf("modelParameters.datasets = %+v, want references to both datasets", ds)
	}
	if h := doc.Components[1].Hashes; len(h) != 1 || h[0].Alg != "SHA-256" || h[0].Content != strings.Repeat("b", 64) {
		t.Errorf("dataset hashes = %+v, want its SHA-256", h)
	}
	if len(doc.Dependencies) == 0 || doc.Dependencies[0].Ref != "model:credit-risk" || len(doc.Dependencies[0].DependsOn) != 2 {
		t.Errorf("dependencies = %+v, want the model depending on both datasets", doc.Dependencies)
	}
}

func TestSerialNumberFollowsContent(t *testing.T) {
	encode := func(in Input) []byte {
		t.Helper()
		bom, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Encode(bom)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	serialOf := func(data []byte) string {
		t.Helper()
		var doc struct {
			SerialNumber string `json:"serialNumber"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.SerialNumber
	}

	data := encode(testInput())
	serial := serialOf(data)
	if again := serialOf(encode(testInput())); again != serial {
		t.Errorf("the same input gave serial numbers %s and %s", serial, again)
	}

	// The recipe of docs/aibom.md: SHA-256 of the file without its
	// serialNumber line, first 16 bytes, version 8 and RFC 9562 variant.
	var kept []string
	for line := range strings.Lines(string(data)) {
		if !strings.HasPrefix(line, `  "serialNumber": `) {
			kept = append(kept, line)
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(kept, "")))
	digest := hex.EncodeToString(sum[:16])
	variant := strconv.FormatUint(uint64(sum[8]&0x3f|0x80)>>4, 16)
	want := "urn:uuid:" + digest[0:8] + "-" + digest[8:12] + "-8" + digest[13:16] + "-" + variant + digest[17:20] + "-" + digest[20:32]
	if serial != want {
		t.Errorf("serialNumber = %s, want %s recomputed from the document", serial, want)
	}

	changes := map[string]func(*Input){
		"metrics":   func(in *Input) { in.Metrics = []byte(strings.Replace(testMetrics, "0.8125", "0.8126", 1)) },
		"outcome":   func(in *Input) { in.PositiveOutcomes = nil },
		"timestamp": func(in *Input) { in.Created = in.Created.Add(time.Second) },
		"model":     func(in *Input) { in.Model.Version = "1.2.1" },
	}
	for name, change := range changes {
		in := testInput()
		change(&in)
		if got := serialOf(encode(in)); got == serial {
			t.Errorf("changing the %s kept serial number %s", name, serial)
		}
	}
}
