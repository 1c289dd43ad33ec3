package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenArchiveSHA256 is the SHA-256 of testdata/golden.tar.gz, the archive
// of the pack that buildPack writes. A change to it changes every pack's
// bytes, which must be deliberate.
const goldenArchiveSHA256 = "fa10d395890c54555420ef94f8f85e9062263984d8df62572b946afe0e4d4fbf"

var testInfo = Info{
	Tool:      Tool{Name: "auditpack", Version: "1.2.3"},
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("CET", 3600)),
}

// testFiles are the files of the test pack.
var testFiles = map[string]string{
	"metrics.json":                          "{\"evaluations\": {}}\n",
	"model-card.md":                         "# Model card\n",
	"attestations/evaluation.sigstore.json": "{}\n",
	"attestations/deep/nested/x.txt":        "",
	"a-b.txt":                               "dash sorts before slash\n",
}

// buildPack writes the test pack at dir, adding files in the order given.
func buildPack(t *testing.T, dir string, order []string) *Index {
	t.Helper()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, name := range order {
		if err := w.WriteFile(name, []byte(testFiles[name])); err != nil {
			t.Fatal(err)
		}
	}
	index, err := w.Finish(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	return index
}

func sortedTestNames() []string {
	var names []string
	for name := range testFiles {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestFinishWritesIndexAndArchive(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out", "audit-pack")
	index := buildPack(t, out, sortedTestNames())

	// The returned index.
	if index.CreatedAt != time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC) {
		t.Errorf("CreatedAt = %v, want 2024-01-02T02:04:05Z", index.CreatedAt)
	}
	var gotPaths []string
	for _, f := range index.Files {
		gotPaths = append(gotPaths, f.Path)
		if want := hexSHA256([]byte(testFiles[f.Path])); f.SHA256 != want {
			t.Errorf("%s: sha256 = %s, want %s", f.Path, f.SHA256, want)
		}
		if want := int64(len(testFiles[f.Path])); f.Size != want {
			t.Errorf("%s: size = %d, want %d", f.Path, f.Size, want)
		}
	}
	if diff := cmp.Diff(sortedTestNames(), gotPaths); diff != "" {
		t.Errorf("index paths mismatch (-want +got):\n%s", diff)
	}

	// index.json and the archive against their golden files.
	indexJSON, err := os.ReadFile(filepath.Join(out, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "index.golden.json", indexJSON)
	archive, err := os.ReadFile(out + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "golden.tar.gz", archive)
	if got := hexSHA256(archive); got != goldenArchiveSHA256 {
		t.Errorf("archive sha256 = %s, want %s", got, goldenArchiveSHA256)
	}

	// Nothing but the pack and its archive is left in the parent.
	entries, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"audit-pack", "audit-pack.tar.gz"}, names); diff != "" {
		t.Errorf("parent directory mismatch (-want +got):\n%s", diff)
	}
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test -update if the change is intended", path)
	}
}

func TestArchiveDeterministic(t *testing.T) {
	sorted := sortedTestNames()
	reversed := slices.Clone(sorted)
	slices.Reverse(reversed)

	first := filepath.Join(t.TempDir(), "pack")
	second := filepath.Join(t.TempDir(), "pack")
	buildPack(t, first, sorted)
	buildPack(t, second, reversed)

	// Different modification times on disk must not matter.
	if err := os.Chtimes(filepath.Join(second, "metrics.json"), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(first + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of the same pack differ: sha256 %s and %s", hexSHA256(a), hexSHA256(b))
	}
}

// TestArchiveListedByTar checks the archive's entries as GNU tar shows them.
func TestArchiveListedByTar(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed")
	}
	out := filepath.Join(t.TempDir(), "audit-pack")
	buildPack(t, out, sortedTestNames())

	listing, err := exec.Command("tar", "--numeric-owner", "--utc", "-tvzf", out+".tar.gz").Output()
	if err != nil {
		t.Fatalf("tar -tvzf: %v", err)
	}
	want := []string{
		"drwxr-xr-x 0/0 0 2024-01-02 02:04 audit-pack/",
		"-rw-r--r-- 0/0 24 2024-01-02 02:04 audit-pack/a-b.txt",
		"drwxr-xr-x 0/0 0 2024-01-02 02:04 audit-pack/attestations/",
		"drwxr-xr-x 0/0 0 2024-01-02 02:04 audit-pack/attestations/deep/",
		"drwxr-xr-x 0/0 0 2024-01-02 02:04 audit-pack/attestations/deep/nested/",
		"-rw-r--r-- 0/0 0 2024-01-02 02:04 audit-pack/attestations/deep/nested/x.txt",
		"-rw-r--r-- 0/0 3 2024-01-02 02:04 audit-pack/attestations/evaluation.sigstore.json",
		"-rw-r--r-- 0/0 905 2024-01-02 02:04 audit-pack/index.json",
		"-rw-r--r-- 0/0 20 2024-01-02 02:04 audit-pack/metrics.json",
		"-rw-r--r-- 0/0 13 2024-01-02 02:04 audit-pack/model-card.md",
	}
	var got []string
	for line := range strings.Lines(string(listing)) {
		got = append(got, strings.Join(strings.Fields(line), " "))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tar listing mismatch (-want +got):\n%s", diff)
	}
}

func TestFinishReplacesEarlierPack(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pack")
	buildPack(t, out, sortedTestNames())

	w, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("only.txt", []byte("second run\n")); err != nil {
		t.Fatal(err)
	}
	index, err := w.Finish(testInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(index.Files) != 1 || index.Files[0].Path != "only.txt" {
		t.Errorf("index files = %+v, want only only.txt", index.Files)
	}

	report, err := Verify(t.Context(), out)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Verified != 1 {
		t.Errorf("directory report = %+v, want one verified file and no problem", report)
	}
	report, err = Verify(t.Context(), out+".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Verified != 1 {
		t.Errorf("archive report = %+v, want one verified file and no problem", report)
	}
	assertDirEntries(t, filepath.Dir(out), []string{"pack", "pack.tar.gz"})
}

func TestFinishFailureKeepsEarlierOutput(t *testing.T) {
	tests := []struct {
		name     string
		info     Info
		sabotage func(t *testing.T, out string)
		wantErr  string
	}{
		{
			name:    "empty tool name",
			info:    Info{CreatedAt: testInfo.CreatedAt},
			wantErr: "tool name is empty",
		},
		{
			name:    "zero time",
			info:    Info{Tool: testInfo.Tool},
			wantErr: "creation time is not set",
		},
		{
			name: "earlier directory became a non-pack",
			info: testInfo,
			sabotage: func(t *testing.T, out string) {
				if err := os.Remove(filepath.Join(out, IndexName)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "is not a pack",
		},
		{
			// A directory at the archive path is found before the pack
			// directory is swapped.
			name: "archive path became a directory",
			info: testInfo,
			sabotage: func(t *testing.T, out string) {
				if err := os.Remove(out + ".tar.gz"); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(out+".tar.gz", "blocker"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "pack.tar.gz is a directory, so the pack's archive cannot be written there",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pack")
			buildPack(t, out, sortedTestNames())

			w, err := Create(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFile("new.txt", []byte("new")); err != nil {
				t.Fatal(err)
			}
			if tt.sabotage != nil {
				tt.sabotage(t, out)
			}
			before := snapshot(t, filepath.Dir(out))
			for name := range before {
				if strings.HasPrefix(name, ".pack.staging-") {
					delete(before, name)
				}
			}

			_, err = w.Finish(tt.info)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Finish error = %v, want one containing %q", err, tt.wantErr)
			}

			// The earlier output is exactly as it was, and the staging
			// directory and temporary archive are gone.
			if diff := cmp.Diff(before, snapshot(t, filepath.Dir(out))); diff != "" {
				t.Errorf("output changed by a failed Finish (-before +after):\n%s", diff)
			}
		})
	}
}

// snapshot returns every file and directory under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			files[rel+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(path)
		files[rel] = hexSHA256(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func assertDirEntries(t *testing.T, dir string, want []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries of %s mismatch (-want +got):\n%s", dir, diff)
	}
}

func TestCreateRejectsNonPack(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, out string)
		wantErr string
	}{
		{
			name: "directory without index",
			setup: func(t *testing.T, out string) {
				if err := os.MkdirAll(filepath.Join(out, "src"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "is not a pack (it has no index.json)",
		},
		{
			name: "archive path is a directory",
			setup: func(t *testing.T, out string) {
				if err := os.MkdirAll(filepath.Join(out+".tar.gz", "x"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "pack.tar.gz is a directory, so the pack's archive cannot be written there; remove it",
		},
		{
			name: "regular file",
			setup: func(t *testing.T, out string) {
				if err := os.WriteFile(out, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "exists and is not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pack")
			tt.setup(t, out)
			_, err := Create(out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Create error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCreateAcceptsEmptyDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pack")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	buildPack(t, out, sortedTestNames())
	if _, err := os.Stat(filepath.Join(out, IndexName)); err != nil {
		t.Errorf("index.json missing after replacing an empty directory: %v", err)
	}
}

func TestWriteFileRejects(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr string
	}{
		{"parent element", "../escape.txt", `contains a ".." element`},
		{"inner parent element", "a/../../b", `contains a ".." element`},
		{"absolute", "/etc/passwd", "is absolute"},
		{"index", "index.json", "written by Finish"},
		{"dot element", "a/./b", "is not clean"},
		{"leading dot", "./a", "is not clean"},
		{"double slash", "a//b", "is not clean"},
		{"trailing slash", "a/", "is not clean"},
		{"backslash", `a\b`, "backslash"},
		{"empty", "", "empty path"},
		{"root", ".", "root"},
		{"duplicate", "first.txt", "already written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Create(filepath.Join(t.TempDir(), "pack"))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			if err := w.WriteFile("first.txt", []byte("1")); err != nil {
				t.Fatal(err)
			}

			err = w.WriteFile(tt.file, []byte("x"))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("WriteFile(%q) error = %v, want one containing %q", tt.file, err, tt.wantErr)
			}
		})
	}
}

func TestAbortRemovesStaging(t *testing.T) {
	parent := t.TempDir()
	w, err := Create(filepath.Join(parent, "pack"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("a/b.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	assertDirEntries(t, parent, nil)
	if err := w.WriteFile("c.txt", nil); err == nil {
		t.Error("WriteFile after Abort succeeded, want an error")
	}
}

func TestAbortAfterFinishKeepsPack(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pack")
	w, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(testInfo); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	assertDirEntries(t, out, []string{IndexName})
}

func TestCreateRejectsWorkingDirectory(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	for _, out := range []string{".", "", work, root, "./", "sub/.."} {
		if out == "" {
			continue
		}
		t.Run(out, func(t *testing.T) {
			_, err := Create(out)
			if err == nil || !strings.Contains(err.Error(), "is the current directory or contains it") {
				t.Errorf("Create(%q) error = %v, want the working directory rejected", out, err)
			}
		})
	}
	assertDirEntries(t, work, nil)

	// A subdirectory of the working directory is fine.
	buildPack(t, "pack", sortedTestNames())
}

func TestWriterSizeLimits(t *testing.T) {
	tests := []struct {
		name     string
		limits   Limits
		files    map[string]int // name to size
		wantFail string         // the step that fails: "write" or "finish"
		wantErr  string
	}{
		{name: "file over the limit", limits: Limits{MaxEntries: 100, MaxBytes: 1000}, files: map[string]int{"a.json": 600, "b.json": 500},
			wantFail: "write", wantErr: `the pack's files would add up to more than 1000 bytes with "b.json" (500 bytes), and verify rejects a larger pack`},
		{name: "index over the limit", limits: Limits{MaxEntries: 100, MaxBytes: 1000}, files: map[string]int{"a.json": 990},
			wantFail: "finish", wantErr: "more than 1000 bytes with index.json"},
		{name: "too many entries", limits: Limits{MaxEntries: 4, MaxBytes: 1 << 20}, files: map[string]int{"a": 1, "d/b": 1},
			wantFail: "finish", wantErr: "would have 5 entries, and verify rejects more than 4"},
		{name: "one file over the read limit", limits: Limits{MaxEntries: 100, MaxBytes: 1000, MaxReadBytes: 100}, files: map[string]int{"a.json": 50, "b.json": 101},
			wantFail: "write", wantErr: `pack file "b.json" would be 101 bytes, more than the 100 bytes verify reads of one file`},
		{name: "within the limits", limits: Limits{MaxEntries: 5, MaxBytes: 1 << 20}, files: map[string]int{"a": 1, "d/b": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pack")
			w, err := Create(out)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			w.limits = tt.limits
			for _, name := range slices.Sorted(maps.Keys(tt.files)) {
				err = w.WriteFile(name, bytes.Repeat([]byte("x"), tt.files[name]))
				if err != nil {
					break
				}
			}
			if err == nil {
				if tt.wantFail == "write" {
					t.Fatal("WriteFile succeeded, want an error")
				}
				_, err = w.Finish(testInfo)
			} else if tt.wantFail != "write" {
				t.Fatalf("WriteFile error = %v", err)
			}
			if tt.wantFail == "" {
				if err != nil {
					t.Fatal(err)
				}
				archive, err := os.Open(out + ".tar.gz")
				if err != nil {
					t.Fatal(err)
				}
				defer archive.Close()
				if _, err := OpenArchive(t.Context(), archive, tt.limits); err != nil {
					t.Errorf("opening the pack within the limits: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if _, err := os.Stat(out + ".tar.gz"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("archive after a rejected pack: %v, want none", err)
			}
		})
	}
}

func TestWriterLimitsMatchOpen(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "pack"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if w.limits.MaxBytes != DefaultMaxBytes || w.limits.MaxEntries != DefaultMaxEntries || w.limits.MaxReadBytes != DefaultMaxReadBytes {
		t.Errorf("writer limits = %+v, want Open's defaults %d bytes, %d entries and %d bytes a file", w.limits, DefaultMaxBytes, DefaultMaxEntries, DefaultMaxReadBytes)
	}
}
