package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/pack/packtest"
)

// forgedCopy copies the pack directory out, removes the named files,
// writes the given ones, and recomputes index.json from the files present,
// as a forger without the signing key would.
func forgedCopy(t *testing.T, out string, remove []string, write map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "forged")
	if err := os.CopyFS(dir, os.DirFS(out)); err != nil {
		t.Fatal(err)
	}
	for _, name := range remove {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range write {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}

	if err := packtest.Reindex(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyRejectsForgedPack(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	swapped := filepath.Join(t.TempDir(), "models", "model.json")
	writeFile(t, swapped, `{"kind": "a different model"}`)

	noAnchor := forgedCopy(t, out, []string{"attestations/evaluation.sigstore.json"},
		map[string]string{"metrics.json": "{}\n", "summary.md": "# All good\n"})
	stripped := forgedCopy(t, out, []string{"attestations/evaluation.sigstore.json", "attestations/aibom.sigstore.json"}, nil)
	override := forgedCopy(t, out, nil, map[string]string{"attestations/override.intoto.json": `{"verdict": "pass"}`})

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"evaluation bundle deleted", []string{"verify", noAnchor, "--key", pub}, "FAIL anchor"},
		{"bundles stripped, model swapped", []string{"verify", stripped, "--key", pub, "--artifact", swapped}, "FAIL anchor"},
		{"model swapped", []string{"verify", out, "--key", pub, "--artifact", swapped}, "FAIL artifact"},
		{"unsigned file under attestations", []string{"verify", override, "--key", pub}, "override.intoto.json is not named by the signed evaluation statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, tt.args...)
			if r.code != ExitFail {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, r.stdout)
			}
			if strings.Contains(r.stdout, " verified") {
				t.Errorf("output says verified:\n%s", r.stdout)
			}
			for line := range strings.Lines(r.stdout) {
				if strings.HasPrefix(line, "ok") && strings.Contains(line, "mismatch") {
					t.Errorf("an ok line reports a mismatch: %s", line)
				}
			}
		})
	}
}

func TestLineageVerifyVerifiesPackFirst(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")

	// lineage.json rewritten to describe another model, the anchor
	// removed so that nothing signed contradicts it.
	other := filepath.Join(dir, "models", "other.json")
	writeFile(t, other, `{"kind": "another model"}`)
	sum := sha256.Sum256([]byte(`{"kind": "another model"}`))
	data, err := os.ReadFile(filepath.Join(out, "lineage.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lin map[string]any
	if err := json.Unmarshal(data, &lin); err != nil {
		t.Fatal(err)
	}
	lin["artifacts"] = []any{map[string]any{"path": "models/other.json", "type": "file", "sha256": hex.EncodeToString(sum[:]), "size": 25}}
	lin["datasets"] = []any{}
	forgedLineage, _ := json.Marshal(lin)
	forged := forgedCopy(t, out, []string{"attestations/evaluation.sigstore.json"}, map[string]string{"lineage.json": string(forgedLineage)})

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"forged lineage", []string{"lineage", "verify", forged, "--dir", dir, "--key", pub}, ExitFail, "FAIL anchor"},
		{"forged lineage, JSON", []string{"lineage", "verify", forged, "--dir", dir, "--key", pub, "--json"}, ExitFail, `"cause": "missing-anchor"`},
		{"no key", []string{"lineage", "verify", out, "--dir", dir}, ExitUsage, "lineage verify needs --key"},
		{"intact pack", []string{"lineage", "verify", out, "--dir", dir, "--key", pub}, ExitOK, "every artifact and dataset matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", tt.want, r.stdout, r.stderr)
			}
			if tt.code != ExitOK && strings.Contains(r.stdout, "matches the pack's lineage") {
				t.Errorf("a forged pack's lineage was compared:\n%s", r.stdout)
			}
		})
	}
}

func TestVerifyExitCodes(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	archive, err := os.ReadFile(out + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	withSymlink := forgedCopy(t, out, nil, nil)
	if err := os.Symlink("metrics.json", filepath.Join(withSymlink, "link.json")); err != nil {
		t.Fatal(err)
	}
	withFIFO := forgedCopy(t, out, nil, nil)
	if err := syscall.Mkfifo(filepath.Join(withFIFO, "pipe"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	noIndex := forgedCopy(t, out, nil, nil)
	if err := os.Remove(filepath.Join(noIndex, "index.json")); err != nil {
		t.Fatal(err)
	}
	indexDir := forgedCopy(t, out, nil, nil)
	if err := os.Remove(filepath.Join(indexDir, "index.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(indexDir, "index.json"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		pack string
		code int
		want string
	}{
		{"truncated archive", tempFile(t, "p.tar.gz", archive[:len(archive)/2]), ExitFail, "FAIL pack"},
		{"empty file", tempFile(t, "p.tar.gz", nil), ExitFail, "FAIL pack"},
		{"not gzip", tempFile(t, "p.tar.gz", []byte("plain text\n")), ExitFail, "FAIL pack"},
		{"junk after the gzip stream", tempFile(t, "p.tar.gz", append(slices.Clone(archive), "junk"...)), ExitFail, "data follows the end of the gzip stream"},
		{"missing index.json", noIndex, ExitFail, "FAIL pack"},
		{"index.json is a directory", indexDir, ExitFail, `FAIL pack          [invalid-pack] ` + indexDir + `: invalid pack: "index.json" is a directory`},
		{"symbolic link in the pack", withSymlink, ExitFail, "FAIL pack"},
		{"named pipe in the pack", withFIFO, ExitFail, "named pipe"},
		{"pack that does not exist", filepath.Join(t.TempDir(), "nope"), ExitUsage, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, "verify", tt.pack, "--key", pub)
			if r.code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", tt.want, r.stdout, r.stderr)
			}
		})
	}
}

// runFailingDemo builds a signed pack of a copy of the demo whose own
// policy requires an accuracy of 0.99, which the model does not reach, so
// that the pack's signed verdict is fail. It returns the demo directory
// and the pack directory.
func runFailingDemo(t *testing.T) (dir, out string) {
	t.Helper()
	dir = demo(t)
	policyPath := filepath.Join(dir, "policies", "demo.yaml")
	data, err := os.ReadFile(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	strict := strings.Replace(string(data), "min: 0.7\n", "min: 0.99\n", 1)
	if strict == string(data) {
		t.Fatal("the demo policy has no min: 0.7 to raise")
	}
	writeFile(t, policyPath, strict)
	out = filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"),
		"--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitFail {
		t.Fatalf("run exited %d, want %d (a failed policy)\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
	}
	return dir, out
}

func TestVerifyRejectsBundlesFromAnotherRun(t *testing.T) {
	dir, failing := runFailingDemo(t)
	_, passing := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	model := filepath.Join(dir, "models", "model.json")

	for _, name := range []string{"policy", "provenance"} {
		t.Run(name, func(t *testing.T) {
			bundle := "attestations/" + name + ".sigstore.json"
			data, err := os.ReadFile(filepath.Join(passing, filepath.FromSlash(bundle)))
			if err != nil {
				t.Fatal(err)
			}
			forged := forgedCopy(t, failing, nil, map[string]string{bundle: string(data)})

			r := auditpack(t, nil, "verify", forged, "--key", pub, "--type", "test-result", "--artifact", model)
			if r.code != ExitFail {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
			}
			want := "FAIL attestations  [attestation-digest-mismatch] " + bundle + " is not the statement the evaluation statement signed"
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, r.stdout)
			}

			r = auditpack(t, nil, "verify", forged, "--key", pub, "--output", "json")
			if !strings.Contains(r.stdout, `"cause": "attestation-digest-mismatch"`) {
				t.Errorf("JSON output lacks the cause:\n%s", r.stdout)
			}
		})
	}
}

func TestVerifyShowsVerdict(t *testing.T) {
	dir, failing := runFailingDemo(t)
	_, passing := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"failing pack", []string{"verify", failing, "--key", pub}, ExitOK,
			[]string{"info verdict       attestations/evaluation.sigstore.json: the signed policy verdict is fail (7 passed, 0 warned, 1 failed); add --require-pass", "verified; the policy verdict it signs is fail"}},
		{"failing pack, --require-pass", []string{"verify", failing, "--key", pub, "--require-pass"}, ExitFail,
			[]string{"FAIL verdict       [verdict-not-pass] attestations/evaluation.sigstore.json: the signed policy verdict is fail", "--require-pass accepts only pass"}},
		{"failing pack, JSON", []string{"verify", failing, "--key", pub, "--output", "json"}, ExitOK,
			[]string{`"verdict": {`, `"result": "fail"`, `"failed": 1`, `"required": false`}},
		{"failing pack, --require-pass, JSON", []string{"verify", failing, "--key", pub, "--output", "json", "--require-pass"}, ExitFail,
			[]string{`"cause": "verdict-not-pass"`, `"required": true`, `"ok": false`}},
		{"passing pack, --require-pass", []string{"verify", passing, "--key", pub, "--require-pass"}, ExitOK,
			[]string{"ok   verdict       attestations/evaluation.sigstore.json: the signed policy verdict is pass (8 passed, 0 warned, 0 failed)"}},
		{"failing evaluation bundle, --require-pass", []string{"verify", filepath.Join(failing, "attestations", "evaluation.sigstore.json"), "--key", pub, "--require-pass"}, ExitFail,
			[]string{"FAIL verdict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	dropPolicy := filepath.Join(t.TempDir(), "drop.yaml")
	writeFile(t, dropPolicy, "rules:\n  - id: accuracy-drop\n    metric: evaluations.holdout.metrics.accuracy\n    max_drop: 0.01\n    severity: block\n")
	increasePolicy := filepath.Join(t.TempDir(), "increase.yaml")
	writeFile(t, increasePolicy, "rules:\n  - id: fnr-rise\n    metric: evaluations.holdout.metrics.fnr\n    max: 0.5\n    max_increase: 0.01\n    severity: block\n")
	testResult := filepath.Join(out, "attestations", "policy.sigstore.json")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--policy with the test-result bundle", []string{"verify", testResult, "--key", pub, "--policy", filepath.Join(dir, "policies", "demo.yaml")},
			"--policy needs the evaluation statement, which carries the signed metrics and verdict; " + testResult + " has predicate type https://in-toto.io/attestation/test-result/v0.1: pass the pack or its attestations/evaluation.sigstore.json"},
		{"--require-pass with the test-result bundle", []string{"verify", testResult, "--key", pub, "--require-pass"}, "--require-pass needs the evaluation statement"},
		{"max_drop rule", []string{"verify", out, "--key", pub, "--policy", dropPolicy},
			dropPolicy + ":4: rule accuracy-drop uses max_drop, which compares with a baseline; verify has none: remove the rule or check it with run"},
		{"max_increase rule", []string{"verify", out, "--key", pub, "--policy", increasePolicy}, increasePolicy + ":5: rule fnr-rise uses max_increase"},
		{"--tlog-threshold with --key", []string{"verify", out, "--key", pub, "--tlog-threshold", "1"}, "--tlog-threshold applies to keyless bundles only"},
		{"--timestamp-threshold with --key", []string{"verify", out, "--key", pub, "--timestamp-threshold", "1"}, "--timestamp-threshold applies to keyless bundles only"},
		{"negative --tlog-threshold", []string{"verify", out, "--certificate-identity", "x", "--certificate-oidc-issuer", "y", "--tlog-threshold", "-1"}, "--tlog-threshold -1 is invalid"},
		{"--threshold with lineage verify and --key", []string{"lineage", "verify", out, "--dir", dir, "--key", pub, "--timestamp-threshold", "2"}, "--timestamp-threshold applies to keyless bundles only"},
		{"missing policy file", []string{"verify", out, "--key", pub, "--policy", "nosuch.yaml"}, "--policy nosuch.yaml: no such file; a path given to --policy is relative to the current directory"},
		{"empty --type", []string{"verify", out, "--key", pub, "--type", ""}, "--type is empty: give a predicate type URI or one of the aliases cyclonedx, evaluation, slsaprovenance, test-result"},
		{"misspelt --type", []string{"verify", out, "--key", pub, "--type", "evalution"}, `--type "evalution" is neither a predicate type URI nor an alias; the aliases are cyclonedx, evaluation, slsaprovenance, test-result`},
		{"index.json", []string{"verify", filepath.Join(out, "index.json"), "--key", pub}, "pass the pack's directory, not its index.json"},
		{"lineage verify --output yaml", []string{"lineage", "verify", out, "--dir", dir, "--key", pub, "--output", "yaml"}, "--output must be text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitUsage, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if strings.Contains(r.stderr, "relative to the configuration file") {
				t.Errorf("stderr names a configuration file verify does not have:\n%s", r.stderr)
			}
		})
	}
}

func TestVerifyDetectsPackOrBundleByContent(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	archive, err := os.ReadFile(out + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "plink")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		path string
		code int
		want string
	}{
		{"archive named download", tempFile(t, "download", archive), ExitOK, "verified; the policy verdict it signs is pass"},
		{"archive named P1.TAR.GZ", tempFile(t, "P1.TAR.GZ", archive), ExitOK, "verified"},
		{"symbolic link to the pack", link, ExitOK, "verified"},
		{"binary file", tempFile(t, "model.bin", []byte{0x7f, 'E', 'L', 'F', 0, 1, 2}), ExitFail, "is neither a pack directory, a pack archive (.tar.gz) nor a Sigstore bundle"},
		{"empty bundle", tempFile(t, "e.json", []byte("{}")), ExitFail, "the bundle has no mediaType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, "verify", tt.path, "--key", pub)
			if r.code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, r.stdout)
			}
			if strings.ContainsFunc(r.stdout+r.stderr, func(c rune) bool { return c == 0 || c == 0x7f || c == utf8.RuneError }) {
				t.Errorf("output holds raw bytes:\n%q", r.stdout+r.stderr)
			}
		})
	}
}

func TestLineageVerifyReportsSpecialFileAsChanged(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	dataset := filepath.Join(dir, "data", "eval.csv")
	if err := os.Remove(dataset); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(dataset, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}

	for _, format := range [][]string{nil, {"--output", "json"}, {"--json"}} {
		t.Run(strings.Join(append([]string{"text"}, format...), " "), func(t *testing.T) {
			r := auditpack(t, nil, append([]string{"lineage", "verify", out, "--dir", dir, "--key", pub}, format...)...)
			if r.code != ExitFail {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "not a regular file: the path is a named pipe") {
				t.Errorf("output does not report the named pipe:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "models/model.json") {
				t.Errorf("the other entries were not compared:\n%s", r.stdout)
			}
		})
	}
}

func TestVerifyPolicyChecksSignedLicences(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	policyFile := func(content string) string {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		writeFile(t, path, content)
		return path
	}
	deny := policyFile("licenses:\n  deny: [Apache-2.0]\n")
	allow := policyFile("licenses:\n  allow: [Apache-2.0, MIT]\n")
	typo := policyFile("rules:\n  - id: acc\n    metric: evaluations.holdout.metrics.acuracy\n    min: 0.5\n    severity: block\n")
	otherTask := policyFile("rules:\n  - id: r2\n    metric: evaluations.*.metrics.accuracy\n    tasks: [regression]\n    min: 0.5\n    severity: block\n")

	tests := []struct {
		name       string
		policies   []string
		code       int
		wantStdout []string
		wantStderr []string
	}{
		{"denied licence", []string{deny}, ExitFail,
			[]string{"FAIL policy        [policy-failed] " + deny + " against the signed metrics and licences: fail (0 passed, 0 warned, 2 failed)",
				"licenses at model.license: licence Apache-2.0: needs denied licence(s) Apache-2.0",
				"licenses at datasets.demo-evaluation.license: licence Apache-2.0: needs denied licence(s) Apache-2.0"}, nil},
		{"allowed licence", []string{allow}, ExitOK,
			[]string{"ok   policy        " + allow + " against the signed metrics and licences: pass (2 passed, 0 warned, 0 failed)"}, nil},
		{"misspelt metric path", []string{typo}, ExitUsage, nil,
			[]string{typo + `:3: metric: rule acc: metric path "evaluations.holdout.metrics.acuracy": evaluations.holdout.metrics has no key "acuracy"; it has accuracy,`}},
		{"no rule applies", []string{otherTask}, ExitUsage, nil,
			[]string{"--policy " + otherTask + " has no rule that applies to attestations/evaluation.sigstore.json", "so 0 rules were applied"}},
		{"one file of two applies to nothing", []string{allow, otherTask}, ExitUsage, nil,
			[]string{"--policy " + otherTask + " has no rule that applies"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"verify", out, "--key", pub}
			for _, p := range tt.policies {
				args = append(args, "--policy", p)
			}
			r := auditpack(t, nil, args...)
			if r.code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tt.code != ExitOK && strings.Contains(r.stdout, " verified") {
				t.Errorf("output says verified:\n%s", r.stdout)
			}
		})
	}
}

func TestVerifyEscapesNamesInText(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	forged := forgedCopy(t, out, nil, nil)
	name := "zz\n" + out + " verified; the policy verdict it signs is pass\r\t\xff\u202e"
	writeFile(t, filepath.Join(forged, name), "")

	r := auditpack(t, nil, "verify", forged, "--key", pub)
	if r.code != ExitFail {
		t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
	}
	want := `FAIL index         [index-mismatch] zz\n` + out + ` verified; the policy verdict it signs is pass\r\t\xff\u202e: not listed in the index (0 bytes)`
	if !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks the escaped name %q:\n%s", want, r.stdout)
	}
	for line := range strings.Lines(r.stdout) {
		if !strings.HasPrefix(line, "ok   ") && !strings.HasPrefix(line, "FAIL ") && !strings.HasPrefix(line, "info ") {
			t.Errorf("stdout has a line that is not a check: %q", line)
		}
	}
	if strings.ContainsAny(r.stdout, "\r\t\u202e") || !utf8.ValidString(r.stdout) {
		t.Errorf("stdout holds raw control characters: %q", r.stdout)
	}
}

func TestLineageVerifyReportsUnhashablePaths(t *testing.T) {
	tests := []struct {
		name string
		// change replaces data/eval.csv, the demo's dataset, under dir.
		change func(t *testing.T, dir string)
		want   string
	}{
		{"empty directory", func(t *testing.T, dir string) {
			dataset := filepath.Join(dir, "data", "eval.csv")
			removeAll(t, dataset)
			if err := os.Mkdir(dataset, 0o755); err != nil {
				t.Fatal(err)
			}
		}, `changed    dataset  data/eval.csv: hashing directory "data/eval.csv": the directory contains no regular file`},
		{"symbolic link loop", func(t *testing.T, dir string) {
			dataset := filepath.Join(dir, "data", "eval.csv")
			removeAll(t, dataset)
			if err := os.Symlink("eval.csv", dataset); err != nil {
				t.Fatal(err)
			}
		}, "changed    dataset  data/eval.csv: reading \"data/eval.csv\": stat " + "%DIR%/data/eval.csv: too many levels of symbolic links"},
		{"link inside leads outside", func(t *testing.T, dir string) {
			dataset := filepath.Join(dir, "data", "eval.csv")
			removeAll(t, dataset)
			writeFile(t, filepath.Join(dataset, "part.csv"), "a\n")
			if err := os.Symlink(filepath.Join(dir, ".auditpack.yml"), filepath.Join(dataset, "link.csv")); err != nil {
				t.Fatal(err)
			}
		}, `changed    dataset  data/eval.csv: hashing directory "data/eval.csv": symbolic link "link.csv" points outside the directory`},
		{"parent is a file", func(t *testing.T, dir string) {
			removeAll(t, filepath.Join(dir, "data"))
			writeFile(t, filepath.Join(dir, "data"), "not a directory\n")
		}, "missing    dataset  data/eval.csv: the path does not exist: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, out := runDemo(t)
			pub := filepath.Join(dir, "keys", "cosign.pub")
			tt.change(t, dir)

			r := auditpack(t, nil, "lineage", "verify", out, "--dir", dir, "--key", pub)
			if r.code != ExitFail {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitFail, r.stdout, r.stderr)
			}
			if want := strings.ReplaceAll(tt.want, "%DIR%", dir); !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
			if !strings.Contains(r.stdout, "matched    artifact models/model.json") {
				t.Errorf("the other entries were not compared:\n%s", r.stdout)
			}
		})
	}
}

func TestLineageVerifyEscapesAddedFileName(t *testing.T) {
	dir := lineageDemo(t)
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitOK {
		t.Fatalf("run exited %d\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "data", "train", "part-\x1b[2J\u202e.csv"), "a,b\n7,8\n")

	got := auditpack(t, nil, "lineage", "verify", out, "--dir", dir, "--key", filepath.Join(dir, "keys", "cosign.pub"))
	if got.code != ExitFail {
		t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, ExitFail, got.stdout, got.stderr)
	}
	if want := `  added    part-\x1b[2J\u202e.csv`; !strings.Contains(got.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
	}
	if strings.ContainsAny(got.stdout, "\x1b\u202e") {
		t.Errorf("stdout holds raw control characters: %q", got.stdout)
	}
}

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func TestLineageVerifyHelpNamesTrustedRoot(t *testing.T) {
	r := auditpack(t, nil, "lineage", "verify", "--help")
	if r.code != ExitOK {
		t.Fatalf("lineage verify --help exited %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"or against --trusted-root for\na private or offline deployment", "--trusted-root string"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestVerifyNamesSwappedModelSignatures(t *testing.T) {
	dir := lineageDemo(t)
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitOK {
		t.Fatalf("run exited %d\n%s", r.code, r.stderr)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	first, second := "attestations/model-signing-1.sigstore.json", "attestations/model-signing-2.sigstore.json"
	swapped := forgedCopy(t, out, nil, map[string]string{first: read(second), second: read(first)})

	got := auditpack(t, nil, "verify", swapped, "--key", filepath.Join(dir, "keys", "cosign.pub"))
	if got.code != ExitFail {
		t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, ExitFail, got.stdout, got.stderr)
	}
	for _, pair := range [][2]string{{first, second}, {second, first}} {
		want := "; it is the statement the evaluation statement signed for " + pair[1] + ", another path of this pack"
		found := false
		for line := range strings.Lines(got.stdout) {
			if strings.HasPrefix(line, "FAIL attestations  [attestation-digest-mismatch] "+pair[0]+" is not the statement") && strings.Contains(line, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no FAIL line for %s containing %q:\n%s", pair[0], want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, "signed for another pack") {
		t.Errorf("a swap within the pack is blamed on another pack:\n%s", got.stdout)
	}
}

// TestVerifyFailureOutranksPolicyError checks that a forged pack fails
// with exit code 1 even when the --policy file does not fit it either.
func TestVerifyFailureOutranksPolicyError(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	forged := forgedCopy(t, out, nil, map[string]string{"summary.md": "forged\n"})
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	writeFile(t, typo, "rules:\n  - {id: acc, metric: evaluations.holdout.metrics.acuracy, min: 0.5, severity: block}\n")

	tests := []struct {
		name     string
		pack     string
		wantCode int
		wantErr  string
	}{
		{"forged pack", forged, ExitFail, "did not verify; the --policy file does not fit it either"},
		{"intact pack", out, ExitUsage, `has no key "acuracy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, "verify", tt.pack, "--key", pub, "--policy", typo)
			if r.code != tt.wantCode {
				t.Errorf("exit = %d, want %d\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, r.stderr)
			}
		})
	}
}

// tempFile writes data to a file called name in a new temporary directory
// and returns its path.
func tempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
