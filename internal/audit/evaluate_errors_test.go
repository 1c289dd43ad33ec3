package audit

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/config"
)

// binaryRows has 4 rows of group A and 1 of group B in column race, and
// 3 of F and 2 of M in column sex.
const binaryRows = `label,prediction,score,race,sex,hours,pred
1,1,0.9,A,F,10,11
0,0,0.2,A,F,20,19
1,0,0.4,A,M,30,28
0,1,0.6,A,M,40,41
1,1,0.8,B,F,50,52
`

func TestEvaluateErrorsPointAtConfig(t *testing.T) {
	tests := []struct {
		name       string
		evaluation string
		want       string
	}{
		{
			name: "reference group below the minimum size",
			evaluation: `    task: binary-classification
    columns: {label: label, prediction: prediction, score: score}
    positive_label: "1"
    groups: [race, sex]
    fairness:
      min_group_size: 2
      reference_groups: {race: B}
`,
			want: `cfg.yml:11: evaluations[0].fairness.reference_groups.race: the reference group "B" of race has 1 rows, fewer than the minimum group size 2: pick a larger group`,
		},
		{
			name: "second column's reference group below the minimum size",
			evaluation: `    task: binary-classification
    columns: {label: label, prediction: prediction}
    positive_label: "1"
    groups: [race, sex]
    fairness:
      min_group_size: 3
      reference_groups:
        race: A
        sex: M
`,
			want: `cfg.yml:13: evaluations[0].fairness.reference_groups.sex: the reference group "M" of sex has 2 rows, fewer than the minimum group size 3: pick a larger group`,
		},
		{
			name: "regression reference group below the minimum size",
			evaluation: `    task: regression
    columns: {label: hours, prediction: pred}
    groups: [race]
    fairness: {min_group_size: 2, reference_groups: {race: B}}
`,
			want: `cfg.yml:8: evaluations[0].fairness.reference_groups.race: the reference group "B" of race is smaller than the minimum group size 2: pick a larger group`,
		},
		{
			name: "reference group not in the data",
			evaluation: `    task: binary-classification
    columns: {label: label, prediction: prediction}
    positive_label: "1"
    groups: [race]
    fairness: {reference_groups: {race: C}}
`,
			want: `cfg.yml:9: evaluations[0].fairness.reference_groups.race: group column race has no group "C" to use as the reference; set the reference to one of its groups: "A", "B"`,
		},
		{
			name: "other error names the evaluation once",
			evaluation: `    task: binary-classification
    columns: {label: label, prediction: nope}
    positive_label: "1"
`,
			want: `evaluation e: p.csv:1: column "nope": column not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, content string) {
				t.Helper()
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("m.bin", "model")
			write("p.csv", binaryRows)
			write("cfg.yml", "model: {name: m, artifacts: [m.bin]}\nevaluations:\n  - name: e\n    predictions: p.csv\n"+tt.evaluation)
			cfg, err := config.Load(filepath.Join(dir, "cfg.yml"))
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			_, err = evaluate(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				t.Fatal("evaluate succeeded, want an error")
			}
			got := strings.TrimPrefix(err.Error(), filepath.Join(dir)+string(filepath.Separator))
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("error:\n%s\nwant a prefix:\n%s", got, tt.want)
			}
			if strings.Count(got, "evaluation") > 1 {
				t.Errorf("error names the evaluation more than once:\n%s", got)
			}
		})
	}
}
