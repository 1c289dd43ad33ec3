package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary policy files to Parse, and evaluates the ones
// it accepts against a small metrics document: neither may panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"default.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "policies", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rules:\n  - {id: a, metric: 'evaluations.*.groups.\"x.y\".fpr', max: 1, severity: warn, tasks: [regression]}\n"))
	f.Add([]byte("licenses:\n  allow: [MIT OR Apache-2.0]\n  deny: [GPL-3.0-only]\n"))
	f.Add([]byte("rules:\n  - {id: s, metric: evaluations.*.robustness.drop.accuracy, stressed: true, max_drop: 0.1, severity: block}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if file == nil {
			t.Fatal("Parse returned neither a file nor an error")
		}
		_, _ = Evaluate([]byte(metricsDoc), []File{*file})
	})
}
