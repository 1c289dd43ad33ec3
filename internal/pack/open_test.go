package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// entry is one member of a hand-made test archive.
type entry struct {
	name     string
	typeflag byte
	body     string
	linkname string
	size     int64 // the header's size when not len(body), for truncation
}

// makeArchive builds a tar.gz of entries, followed by trailing bytes.
func makeArchive(t testing.TB, entries []entry, trailing []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		header := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Linkname: e.linkname, Size: int64(len(e.body))}
		if e.typeflag != tar.TypeReg {
			header.Size = 0
		}
		if e.size != 0 {
			header.Size = e.size
		}
		if err := tw.WriteHeader(header); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil && e.size == 0 {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil && !errors.Is(err, tar.ErrWriteTooLong) {
		// A short body is deliberate in truncation cases.
		if !strings.Contains(err.Error(), "missed writing") {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Write(trailing)
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// validIndex is an index.json listing a.txt with content "a".
const validIndex = `{
  "formatVersion": "1",
  "tool": {
    "name": "auditpack",
    "version": "1"
  },
  "createdAt": "2024-01-01T00:00:00Z",
  "files": [
    {
      "path": "a.txt",
      "sha256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
      "size": 1
    }
  ]
}
`

func validEntries() []entry {
	return []entry{
		{name: "p/", typeflag: tar.TypeDir},
		{name: "p/index.json", typeflag: tar.TypeReg, body: validIndex},
		{name: "p/a.txt", typeflag: tar.TypeReg, body: "a"},
	}
}

func TestOpenArchiveRejects(t *testing.T) {
	with := func(extra ...entry) []entry { return append(validEntries(), extra...) }
	tests := []struct {
		name     string
		entries  []entry
		trailing []byte
		limits   Limits
		raw      []byte
		wantErr  string
	}{
		{name: "absolute path", entries: with(entry{name: "/p/b.txt", typeflag: tar.TypeReg}), wantErr: "is absolute"},
		{name: "parent element", entries: with(entry{name: "p/../b.txt", typeflag: tar.TypeReg}), wantErr: `".." element`},
		{name: "parent element at top", entries: with(entry{name: "../b.txt", typeflag: tar.TypeReg}), wantErr: `".." element`},
		{name: "dot element", entries: with(entry{name: "p/./b.txt", typeflag: tar.TypeReg}), wantErr: "not clean"},
		{name: "backslash", entries: with(entry{name: `p\..\b.txt`, typeflag: tar.TypeReg}), wantErr: "backslash"},
		{name: "symbolic link", entries: with(entry{name: "p/link", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}), wantErr: "is a symbolic link"},
		{name: "hard link", entries: with(entry{name: "p/hard", typeflag: tar.TypeLink, linkname: "p/a.txt"}), wantErr: "is a hard link"},
		{name: "character device", entries: with(entry{name: "p/tty", typeflag: tar.TypeChar}), wantErr: "is a character device"},
		{name: "block device", entries: with(entry{name: "p/sda", typeflag: tar.TypeBlock}), wantErr: "is a block device"},
		{name: "named pipe", entries: with(entry{name: "p/fifo", typeflag: tar.TypeFifo}), wantErr: "is a named pipe"},
		{name: "duplicate file", entries: with(entry{name: "p/a.txt", typeflag: tar.TypeReg, body: "b"}), wantErr: "appears twice"},
		{name: "duplicate directory", entries: with(entry{name: "p/", typeflag: tar.TypeDir}), wantErr: "appears twice"},
		{name: "second top-level directory", entries: with(entry{name: "q/b.txt", typeflag: tar.TypeReg}), wantErr: "outside the top-level directory"},
		{name: "top-level file", entries: []entry{{name: "index.json", typeflag: tar.TypeReg, body: validIndex}}, wantErr: "outside the top-level directory"},
		{name: "file inside a file", entries: with(entry{name: "p/a.txt/b", typeflag: tar.TypeReg}), wantErr: "which is a file"},
		{name: "file over a directory", entries: with(entry{name: "p/d/b", typeflag: tar.TypeReg}, entry{name: "p/d", typeflag: tar.TypeReg}), wantErr: "other entries lie inside it"},
		{name: "too many entries", entries: validEntries(), limits: Limits{MaxEntries: 2}, wantErr: "more than 2 entries"},
		{name: "too many bytes", entries: validEntries(), limits: Limits{MaxBytes: 100}, wantErr: "exceed 100 bytes"},
		{name: "truncated entry", entries: with(entry{name: "p/big", typeflag: tar.TypeReg, body: "x", size: 4096}), wantErr: "p/big"},
		{name: "trailing data", entries: validEntries(), trailing: bytes.Repeat([]byte{1}, maxTrailingBytes+1), wantErr: "follow the end of the archive"},
		{name: "not gzip", raw: []byte("PK\x03\x04 not a tarball"), wantErr: "not a gzip stream"},
		{name: "empty archive", entries: nil, wantErr: "archive is empty"},
		{name: "missing index", entries: []entry{{name: "p/a.txt", typeflag: tar.TypeReg, body: "a"}}, wantErr: "index.json is missing"},
		{name: "index not JSON", entries: []entry{{name: "p/index.json", typeflag: tar.TypeReg, body: "{"}}, wantErr: "parsing index.json"},
		{
			name:    "index wrong version",
			entries: []entry{{name: "p/index.json", typeflag: tar.TypeReg, body: strings.Replace(validIndex, `"formatVersion": "1"`, `"formatVersion": "2"`, 1)}},
			wantErr: `formatVersion is "2"`,
		},
		{
			name:    "index bad digest",
			entries: []entry{{name: "p/index.json", typeflag: tar.TypeReg, body: strings.Replace(validIndex, `"ca97`, `"CA97`, 1)}},
			wantErr: "files[0].sha256",
		},
		{
			name:    "index unsafe path",
			entries: []entry{{name: "p/index.json", typeflag: tar.TypeReg, body: strings.Replace(validIndex, `"a.txt"`, `"../a.txt"`, 1)}},
			wantErr: `files[0].path: path "../a.txt" contains a ".." element`,
		},
		{
			name:    "index lists itself",
			entries: []entry{{name: "p/index.json", typeflag: tar.TypeReg, body: strings.Replace(validIndex, `"a.txt"`, `"index.json"`, 1)}},
			wantErr: "must not list itself",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.raw
			if data == nil {
				data = makeArchive(t, tt.entries, tt.trailing)
			}

			_, err := OpenArchive(t.Context(), bytes.NewReader(data), tt.limits)
			if !errors.Is(err, ErrInvalidPack) {
				t.Errorf("OpenArchive error = %v, want ErrInvalidPack", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("OpenArchive error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenArchiveAcceptsValid(t *testing.T) {
	// GNU tar pads archives with zero blocks, which must be accepted.
	data := makeArchive(t, validEntries(), make([]byte, 10240))

	p, err := OpenArchive(t.Context(), bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "p" {
		t.Errorf("Name = %q, want p", p.Name)
	}
	report, err := p.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Verified != 1 {
		t.Errorf("report = %+v, want one verified file", report)
	}
}

func TestOpenArchiveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := OpenArchive(ctx, bytes.NewReader(makeArchive(t, validEntries(), nil)), Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("OpenArchive error = %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrInvalidPack) {
		t.Errorf("OpenArchive error = %v blames the archive for a cancellation", err)
	}
}

func int64p(n int64) *int64 { return &n }

func TestVerifyProblems(t *testing.T) {
	metricsSHA := hexSHA256([]byte(testFiles["metrics.json"]))
	cardSHA := hexSHA256([]byte(testFiles["model-card.md"]))
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []Problem
	}{
		{
			name:   "intact",
			tamper: func(t *testing.T, dir string) {},
			want:   []Problem{},
		},
		{
			name: "changed byte",
			tamper: func(t *testing.T, dir string) {
				writeTestFile(t, dir, "metrics.json", strings.Replace(testFiles["metrics.json"], "{}", "[]", 1))
			},
			want: []Problem{{
				Path: "metrics.json", Kind: ProblemChanged,
				ExpectedSHA256: metricsSHA, ExpectedSize: int64p(20),
				ActualSHA256: hexSHA256([]byte("{\"evaluations\": []}\n")), ActualSize: int64p(20),
			}},
		},
		{
			name: "missing file",
			tamper: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "model-card.md")); err != nil {
					t.Fatal(err)
				}
			},
			want: []Problem{{Path: "model-card.md", Kind: ProblemMissing, ExpectedSHA256: cardSHA, ExpectedSize: int64p(13)}},
		},
		{
			name: "unlisted file",
			tamper: func(t *testing.T, dir string) {
				writeTestFile(t, dir, "attestations/extra.json", "{}")
			},
			want: []Problem{{Path: "attestations/extra.json", Kind: ProblemUnlisted, ActualSize: int64p(2)}},
		},
		{
			name: "every kind at once",
			tamper: func(t *testing.T, dir string) {
				writeTestFile(t, dir, "metrics.json", "")
				writeTestFile(t, dir, "zz.txt", "z")
				if err := os.Remove(filepath.Join(dir, "model-card.md")); err != nil {
					t.Fatal(err)
				}
			},
			want: []Problem{
				{Path: "metrics.json", Kind: ProblemChanged, ExpectedSHA256: metricsSHA, ExpectedSize: int64p(20), ActualSize: int64p(0)},
				{Path: "model-card.md", Kind: ProblemMissing, ExpectedSHA256: cardSHA, ExpectedSize: int64p(13)},
				{Path: "zz.txt", Kind: ProblemUnlisted, ActualSize: int64p(1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pack")
			buildPack(t, dir, sortedTestNames())
			tt.tamper(t, dir)
			archive := filepath.Join(t.TempDir(), "pack.tar.gz")
			rewriteArchive(t, dir, archive)

			// The same problems are found in the directory and in an
			// archive made from it.
			for _, path := range []string{dir, archive} {
				report, err := Verify(t.Context(), path)
				if err != nil {
					t.Fatalf("Verify(%s): %v", path, err)
				}
				if diff := cmp.Diff(tt.want, report.Problems); diff != "" {
					t.Errorf("Verify(%s) problems mismatch (-want +got):\n%s", path, diff)
				}
				if got, want := report.Verified, len(testFiles)-countListed(tt.want); got != want {
					t.Errorf("Verify(%s) verified %d files, want %d", path, got, want)
				}
			}
		})
	}
}

func countListed(problems []Problem) int {
	n := 0
	for _, p := range problems {
		if p.Kind != ProblemUnlisted {
			n++
		}
	}
	return n
}

func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteArchive archives the regular files of dir, as they are now, to
// archive.
func rewriteArchive(t *testing.T, dir, archive string) {
	t.Helper()
	entries := []entry{{name: "pack/", typeflag: tar.TypeDir}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		entries = append(entries, entry{name: "pack/" + filepath.ToSlash(rel), typeflag: tar.TypeReg, body: string(data)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, makeArchive(t, entries, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDirectoryRejects(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name:    "missing index",
			tamper:  func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, IndexName)) },
			wantErr: "index.json is missing",
		},
		{
			name:    "index not JSON",
			tamper:  func(t *testing.T, dir string) { writeTestFile(t, dir, IndexName, "not json") },
			wantErr: "parsing index.json",
		},
		{
			name: "symbolic link",
			tamper: func(t *testing.T, dir string) {
				if err := os.Symlink("/etc/hostname", filepath.Join(dir, "host")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: `"host" is a symbolic link`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pack")
			buildPack(t, dir, sortedTestNames())
			tt.tamper(t, dir)

			_, err := Verify(t.Context(), dir)
			if !errors.Is(err, ErrInvalidPack) {
				t.Errorf("Verify error = %v, want ErrInvalidPack", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Verify error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyMissingPath(t *testing.T) {
	_, err := Verify(t.Context(), filepath.Join(t.TempDir(), "nowhere.tar.gz"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify error = %v, want fs.ErrNotExist", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())

	for _, path := range []string{dir, dir + ".tar.gz"} {
		p, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.ReadFile("attestations/evaluation.sigstore.json")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if string(got) != testFiles["attestations/evaluation.sigstore.json"] {
			t.Errorf("%s: ReadFile = %q, want %q", path, got, testFiles["attestations/evaluation.sigstore.json"])
		}
		if _, err := p.ReadFile("absent.json"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: ReadFile(absent.json) error = %v, want fs.ErrNotExist", path, err)
		}
		if _, err := p.ReadFile("../pack.tar.gz"); err == nil || !strings.Contains(err.Error(), `".." element`) {
			t.Errorf("%s: ReadFile(../pack.tar.gz) error = %v, want a rejected path", path, err)
		}
		if p.Index.Tool != testInfo.Tool {
			t.Errorf("%s: Index.Tool = %+v, want %+v", path, p.Index.Tool, testInfo.Tool)
		}
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		problem Problem
		want    string
	}{
		{Problem{Path: "a", Kind: ProblemMissing, ExpectedSHA256: "e1", ExpectedSize: int64p(1)}, "a: missing, the index lists sha256 e1"},
		{Problem{Path: "b", Kind: ProblemUnlisted, ActualSize: int64p(1)}, "b: not listed in the index (1 bytes)"},
		{
			Problem{Path: "c", Kind: ProblemChanged, ExpectedSHA256: "e1", ExpectedSize: int64p(2), ActualSHA256: "a1", ActualSize: int64p(2)},
			"c: changed, sha256 a1 and size 2 where the index lists sha256 e1 and size 2",
		},
		{
			Problem{Path: "d", Kind: ProblemChanged, ExpectedSHA256: "e1", ExpectedSize: int64p(2), ActualSize: int64p(3)},
			"d: changed, size 3 where the index lists size 2 and SHA-256 e1",
		},
	}
	for _, tt := range tests {
		if got := tt.problem.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzOpenArchive(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.tar.gz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(makeArchive(f, validEntries(), nil))
	f.Add(makeArchive(f, append(validEntries(), entry{name: "p/l", typeflag: tar.TypeSymlink, linkname: "../x"}), nil))
	f.Add(makeArchive(f, append(validEntries(), entry{name: "p/a.txt/b", typeflag: tar.TypeReg, body: "b"}), nil))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		limits := Limits{MaxEntries: 64, MaxBytes: 1 << 20}
		p, err := OpenArchive(t.Context(), bytes.NewReader(data), limits)
		if err != nil {
			return
		}

		// An accepted archive has a valid index and only safe names.
		if p.Index == nil || p.Index.FormatVersion != FormatVersion {
			t.Fatalf("accepted an archive with index %+v", p.Index)
		}
		var total int64
		for name, f := range p.files {
			if err := ValidatePath(name); err != nil {
				t.Fatalf("accepted an unsafe name: %v", err)
			}
			total += f.size
		}
		if total > limits.MaxBytes || len(p.files) > limits.MaxEntries {
			t.Fatalf("accepted %d files of %d bytes beyond the limits", len(p.files), total)
		}
		if _, err := p.Verify(t.Context()); err != nil {
			t.Fatalf("Verify of an opened archive failed: %v", err)
		}
	})
}
