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
			if strings.Contains(r.stdout, " verified\n") {
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
	file := func(name string, data []byte) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
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

	tests := []struct {
		name string
		pack string
		code int
		want string
	}{
		{"truncated archive", file("p.tar.gz", archive[:len(archive)/2]), ExitFail, "FAIL pack"},
		{"empty file", file("p.tar.gz", nil), ExitFail, "FAIL pack"},
		{"not gzip", file("p.tar.gz", []byte("plain text\n")), ExitFail, "FAIL pack"},
		{"junk after the gzip stream", file("p.tar.gz", append(slices.Clone(archive), "junk"...)), ExitFail, "data follows the end of the gzip stream"},
		{"missing index.json", noIndex, ExitFail, "FAIL pack"},
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
