package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// result is the outcome of one in-process auditpack invocation.
type result struct {
	code           int
	stdout, stderr string
}

// auditpack runs the command line in process, exactly as main does, with
// the given environment.
func auditpack(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := &Command{
		Stdout:  &stdout,
		Stderr:  &stderr,
		Getenv:  func(k string) string { return env[k] },
		Now:     func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) },
		Version: "v0.0.0-test",
	}
	code := cmd.Main(t.Context(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// demo copies testdata/demo into a temporary directory and returns it, so
// that a test may change its files.
func demo(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "demo")
	dst := filepath.Join(t.TempDir(), "demo")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the demo: %v", err)
	}
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newPublicKeyPEM returns the PEM public key of a fresh ECDSA P-256 key.
func newPublicKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

var fixedEpoch = map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}

// runDemo builds a signed pack of the demo into a temporary directory and
// returns the demo directory and the pack directory.
func runDemo(t *testing.T) (dir, out string) {
	t.Helper()
	dir = demo(t)
	out = filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"),
		"--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitOK {
		t.Fatalf("run exited %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return dir, out
}

func TestRunDemoPassesAndVerifies(t *testing.T) {
	dir, out := runDemo(t)

	want := []string{
		"aibom.cdx.json", "attestations/aibom.sigstore.json", "attestations/evaluation.sigstore.json",
		"attestations/model-signing.sigstore.json", "attestations/policy.sigstore.json", "attestations/provenance.sigstore.json", "index.json", "lineage.json", "metrics.json",
		"model-card.json", "model-card.md", "policy.json", "summary.md",
	}
	var got []string
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pack files = %v, want %v", got, want)
	}

	pub := filepath.Join(dir, "keys", "cosign.pub")
	for _, p := range []string{out, out + ".tar.gz"} {
		r := auditpack(t, nil, "verify", p, "--key", pub, "--artifact", filepath.Join(dir, "models", "model.json"))
		if r.code != ExitOK {
			t.Errorf("verify %s exited %d, want 0\nstdout:\n%s\nstderr:\n%s", p, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "verified") {
			t.Errorf("verify %s output lacks the verdict:\n%s", p, r.stdout)
		}
	}
}

func TestRunIsReproducible(t *testing.T) {
	dir := demo(t)
	var archives [][]byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "pack")
		config, key := filepath.Join(dir, ".auditpack.yml"), filepath.Join(dir, "keys", "cosign.key")
		if i == 1 {
			// The second run starts in the demo's directory, with
			// relative paths, which must not change a byte.
			t.Chdir(dir)
			config, key = ".auditpack.yml", filepath.Join("keys", "cosign.key")
		}
		r := auditpack(t, fixedEpoch, "run", "--config", config, "--key", key, "--out", out)
		if r.code != ExitOK {
			t.Fatalf("run %d exited %d: %s", i, r.code, r.stderr)
		}
		data, err := os.ReadFile(out + ".tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, data)
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Error("two runs on the same inputs gave different archives")
	}
}

func TestVerifyRejectsChangedByte(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")

	var index struct {
		Files []struct{ Path string } `json:"files"`
	}
	data, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	names := []string{"index.json"}
	for _, f := range index.Files {
		names = append(names, f.Path)
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// Each case changes one byte in a fresh copy of the pack.
			copyDir := filepath.Join(t.TempDir(), "pack")
			if err := os.CopyFS(copyDir, os.DirFS(out)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(copyDir, filepath.FromSlash(name))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.IndexByte(data, '"')
			if i < 0 {
				i = len(data) / 2
			}
			data[i+1] ^= 0x01
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}

			r := auditpack(t, nil, "verify", copyDir, "--key", pub)
			if r.code != ExitFail && r.code != ExitUsage {
				t.Fatalf("verify exited %d, want a failure\nstdout:\n%s", r.code, r.stdout)
			}
			if !strings.Contains(r.stdout+r.stderr, name) {
				t.Errorf("output does not name %s:\nstdout:\n%s\nstderr:\n%s", name, r.stdout, r.stderr)
			}
		})
	}
}

func TestVerifyRejections(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")

	otherKey := filepath.Join(t.TempDir(), "other.pub")
	writeFile(t, otherKey, newPublicKeyPEM(t))
	swapped := filepath.Join(t.TempDir(), "model.json")
	writeFile(t, swapped, `{"kind": "a different model"}`)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong key", []string{"verify", out, "--key", otherKey}, ExitFail, "signature does not verify"},
		{"swapped artifact", []string{"verify", out, "--key", pub, "--artifact", swapped}, ExitFail, "matches no subject"},
		{"missing key flag", []string{"verify", out}, ExitUsage, "--key"},
		{"missing pack", []string{"verify", filepath.Join(t.TempDir(), "nope"), "--key", pub}, ExitUsage, "nope"},
		{"missing artifact", []string{"verify", out, "--key", pub, "--artifact", "/nonexistent/model"}, ExitUsage, "/nonexistent/model"},
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
		})
	}
}

func TestRunPolicyFailureWritesPack(t *testing.T) {
	dir := demo(t)
	writeFile(t, filepath.Join(dir, "policies", "demo.yaml"), `rules:
  - id: accuracy-floor
    metric: evaluations.holdout.metrics.accuracy
    min: 0.95
    severity: block
`)
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", out)
	if r.code != ExitFail {
		t.Fatalf("run exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	for _, f := range []string{"index.json", "policy.json", "summary.md", "attestations/evaluation.intoto.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("pack lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(out + ".tar.gz"); err != nil {
		t.Errorf("archive missing: %v", err)
	}
	if !strings.Contains(r.stdout, "accuracy-floor") || !strings.Contains(r.stdout, "FAIL") {
		t.Errorf("summary does not show the failed rule:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "unsigned") {
		t.Errorf("summary does not say the pack is unsigned:\n%s", r.stdout)
	}
}

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name string
		// change edits the demo copy in dir.
		change func(t *testing.T, dir string)
		want   string
	}{
		{"missing predictions", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "eval", "predictions.csv"))
		}, "eval/predictions.csv"},
		{"missing artifact", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "models", "model.json"))
		}, "models/model.json"},
		{"bad YAML", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, ".auditpack.yml"), "model: [unclosed\n")
		}, ".auditpack.yml:1"},
		{"unknown key", func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, ".auditpack.yml"))
			writeFile(t, filepath.Join(dir, ".auditpack.yml"), strings.Replace(string(data), "intended_use:", "intended_usage:", 1))
		}, "model.intended_usage: unknown key"},
		{"bad row", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "eval", "predictions.csv"), "id,label,prediction,score,sex,age_band\n1,1,1,0.9,female,50+\n2,1,0,abc,male,50+\n")
		}, "eval/predictions.csv:3"},
		{"empty predictions", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "eval", "predictions.csv"), "")
		}, "eval/predictions.csv"},
		{"unknown metric in policy", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "policies", "demo.yaml"), "rules:\n  - {id: x, metric: evaluations.holdout.metrics.acuracy, min: 1, severity: block}\n")
		}, `no key "acuracy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := demo(t)
			tt.change(t, dir)
			parent := t.TempDir()
			out := filepath.Join(parent, "pack")
			r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", out)
			if r.code != ExitUsage {
				t.Fatalf("exit = %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			entries, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("output left behind: %s", e.Name())
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"run", "--nope"}, "unknown flag"},
		{"bad sign mode", []string{"run", "--sign", "maybe"}, `--sign must be "key" or "none"`},
		{"key without path", []string{"run", "--sign", "key"}, "--sign key needs --key"},
		{"verify without pack", []string{"verify"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := auditpack(t, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit = %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

func TestHelpDocumentsFlags(t *testing.T) {
	for cmd, flags := range map[string][]string{
		"run":    {"--config", "--out", "--sign", "--key"},
		"verify": {"--key", "--artifact"},
	} {
		r := auditpack(t, nil, cmd, "--help")
		if r.code != ExitOK {
			t.Errorf("%s --help exited %d", cmd, r.code)
		}
		for _, f := range flags {
			if !strings.Contains(r.stdout, f) {
				t.Errorf("%s --help does not document %s", cmd, f)
			}
		}
	}
}

func TestVerifyRejectsIndexEdits(t *testing.T) {
	dir, out := runDemo(t)
	pub := filepath.Join(dir, "keys", "cosign.pub")
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"key case", `"formatVersion"`, `"formatVersioN"`, "index.json is changed"},
		{"unknown key", `"formatVersion": "1",`, `"formatVersion": "1", "x": 1,`, "index.json is changed"},
		{"created time", `"createdAt": "2023-11-14T22:13:20Z"`, `"createdAt": "2023-11-14T22:13:21Z"`, "createdAt"},
		{"tool version", `"version": "v0.0.0-test"`, `"version": "v9.9.9"`, "names the tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			copyDir := filepath.Join(t.TempDir(), "pack")
			if err := os.CopyFS(copyDir, os.DirFS(out)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(copyDir, "index.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(tt.old)) {
				t.Fatalf("index.json lacks %s:\n%s", tt.old, data)
			}
			data = bytes.Replace(data, []byte(tt.old), []byte(tt.new), 1)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := auditpack(t, nil, "verify", copyDir, "--key", pub)
			if r.code != ExitFail {
				t.Errorf("exit = %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, r.stdout)
			}
		})
	}
}

func TestRunRejectsBadSourceDateEpoch(t *testing.T) {
	for _, epoch := range []string{"-1", "abc", "253402300800", "9223372036854775808"} {
		t.Run(epoch, func(t *testing.T) {
			dir := demo(t)
			out := filepath.Join(t.TempDir(), "pack")
			r := auditpack(t, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", out)
			if r.code != ExitUsage {
				t.Errorf("exit = %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH=\""+epoch+"\" is invalid") {
				t.Errorf("stderr lacks the variable and value:\n%s", r.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output left behind")
			}
		})
	}
}
