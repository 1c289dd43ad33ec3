package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const provenance = `model:
  name: m
  artifacts: [model]
  subjects: per-file
  license: Apache-2.0
datasets:
  - name: train
    role: training
    path: data/train
    source: https://example.com/data
    license: CC-BY-4.0 OR MIT
    terms: Research use only.
    collection: {start: 2019-01, end: 2021-06-30}
    preprocessing: [src/prepare.py]
    composition:
      - {origin: proprietary, share: 0.667}
      - {origin: synthetic, share: 0.333}
    dvc: [dvc.lock]
evaluations:
  - name: e
    task: binary-classification
    predictions: p.csv
    columns: {label: y, prediction: yhat}
    positive_label: "1"
`

func TestParseDatasetProvenance(t *testing.T) {
	cfg, err := Parse("a.yml", []byte(provenance))
	if err != nil {
		t.Fatal(err)
	}
	want := Dataset{
		Name: "train", Role: RoleTraining, Path: "data/train", Source: "https://example.com/data",
		License: "CC-BY-4.0 OR MIT", Terms: "Research use only.",
		Collection:    Period{Start: "2019-01", End: "2021-06-30"},
		Preprocessing: []string{"src/prepare.py"},
		Composition:   []Share{{Origin: "proprietary", Share: 0.667}, {Origin: "synthetic", Share: 0.333}},
		DVC:           []string{"dvc.lock"},
	}
	if diff := cmp.Diff(want, cfg.Datasets[0]); diff != "" {
		t.Errorf("dataset (-want +got):\n%s", diff)
	}
	if cfg.Model.Subjects != SubjectsPerFile {
		t.Errorf("model.subjects = %q, want %q", cfg.Model.Subjects, SubjectsPerFile)
	}
}

func TestParseDatasetProvenanceErrors(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"bad licence", "CC-BY-4.0 OR MIT", "CC-BY-Whatever", "datasets[0].license: \"CC-BY-Whatever\" is not a valid SPDX license expression"},
		{"bad model licence", "license: Apache-2.0", "license: Apache 2", "model.license:"},
		{"shares do not add up", "share: 0.333}", "share: 0.2}", "the shares add up to 0.867, not 1"},
		{"share out of range", "share: 0.667}", "share: 1.5}", "composition[0].share: must be a fraction"},
		{"duplicate origin", "origin: synthetic", "origin: proprietary", "duplicate origin \"proprietary\""},
		{"bad date", "start: 2019-01", "start: January 2019", "collection.start: \"January 2019\" is not a valid date"},
		{"end before start", "end: 2021-06-30", "end: 2018", "collection.end: 2018 is before the start 2019-01"},
		{"month out of range", "start: 2019-01", "start: 2019-13", "collection.start: \"2019-13\" is not a valid date"},
		{"day out of range", "end: 2021-06-30", "end: 2021-02-30", "collection.end: \"2021-02-30\" is not a valid date"},
		{"bad subjects", "subjects: per-file", "subjects: shards", "model.subjects: must be \"artifact\" (default) or \"per-file\""},
		{"empty dvc path", "dvc: [dvc.lock]", "dvc: [\"\"]", "datasets[0].dvc[0]: empty path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.yml", []byte(strings.Replace(provenance, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
