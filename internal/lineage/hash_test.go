package lineage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeFiles creates each file of files, given by slash-separated path,
// under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestHashPathFile(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"models/model.onnx": "hello\n"})

	got, err := HashPath(t.Context(), base, "./models//model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{
		Path:   "models/model.onnx",
		Type:   TypeFile,
		SHA256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
		Size:   6,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HashPath mismatch (-want +got):\n%s", diff)
	}
}

func TestHashPathDirectory(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{
		"data/a/b.csv":         "x,y\n1,2\n",
		"data/a-c.csv":         "z\n",
		"data/.git/config":     "[core]\n",
		"data/sub/.git":        "gitdir: elsewhere\n",
		"data/sub/part-0.json": "{}\n",
	})
	if err := os.MkdirAll(filepath.Join(base, "data", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a-c.csv", filepath.Join(base, "data", "link.csv")); err != nil {
		t.Fatal(err)
	}

	got, err := HashPath(t.Context(), base, "data")
	if err != nil {
		t.Fatal(err)
	}

	// "a-c.csv" sorts before "a/b.csv" because '-' precedes '/' in byte
	// order, although a walk visits directory "a" first.
	wantFiles := []File{
		{Path: "a-c.csv", SHA256: hexSHA256("z\n"), Size: 2},
		{Path: "a/b.csv", SHA256: hexSHA256("x,y\n1,2\n"), Size: 8},
		{Path: "link.csv", SHA256: hexSHA256("z\n"), Size: 2},
		{Path: "sub/part-0.json", SHA256: hexSHA256("{}\n"), Size: 3},
	}
	manifest := ""
	for _, f := range wantFiles {
		manifest += f.SHA256 + "  " + f.Path + "\n"
	}
	want := Entry{
		Path:   "data",
		Type:   TypeDirectory,
		SHA256: hexSHA256(manifest),
		Size:   15,
		Files:  wantFiles,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HashPath mismatch (-want +got):\n%s", diff)
	}
}

// TestHashPathMatchesSha256sum checks the documented recipe: sha256sum over
// the sorted file list, piped into sha256sum, gives the directory digest.
func TestHashPathMatchesSha256sum(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum is not installed")
	}
	base := t.TempDir()
	files := map[string]string{"data/z.csv": "1\n", "data/dir/y.csv": "2\n", "data/a b.csv": "3\n", "data/.git/HEAD": "ref\n"}
	for i := range 40 {
		files[fmt.Sprintf("data/part/%03d.bin", i)] = strings.Repeat("ab", i*100)
	}
	writeFiles(t, base, files)

	entry, err := HashPath(t.Context(), base, "data")
	if err != nil {
		t.Fatal(err)
	}

	script := `cd "$1" && find -L . -type f -not -path '*/.git/*' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`
	out, err := exec.Command("sh", "-c", script, "sh", filepath.Join(base, "data")).Output()
	if err != nil {
		t.Fatalf("running the sha256sum recipe: %v", err)
	}
	got, _, _ := strings.Cut(string(out), " ")
	if got != entry.SHA256 {
		t.Errorf("sha256sum recipe gives %s, HashPath gives %s", got, entry.SHA256)
	}
	if len(entry.Files) != 43 {
		t.Errorf("HashPath listed %d files, want 43", len(entry.Files))
	}
}

func TestHashPathOutsideBase(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"models/m.bin": "m"})
	base := filepath.Join(root, "config")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := HashPath(t.Context(), base, "../models/m.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != "../models/m.bin" {
		t.Errorf("Path = %q, want %q", got.Path, "../models/m.bin")
	}
	if got.SHA256 != hexSHA256("m") {
		t.Errorf("SHA256 = %s, want %s", got.SHA256, hexSHA256("m"))
	}
}

func TestHashPathErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, base string)
		rel     string
		wantIs  error
		wantMsg []string
	}{
		{
			name:    "missing file",
			rel:     "models/missing.onnx",
			wantIs:  fs.ErrNotExist,
			wantMsg: []string{`"models/missing.onnx"`, "does not exist; check the path: "},
		},
		{
			name:    "missing outside base",
			rel:     "../nowhere/model.bin",
			wantIs:  fs.ErrNotExist,
			wantMsg: []string{`"../nowhere/model.bin"`, "does not exist"},
		},
		{
			name:    "empty path",
			rel:     "",
			wantMsg: []string{"empty path"},
		},
		{
			name: "link outside tree",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"secret.txt": "s", "data/a.csv": "a"})
				symlink(t, "../secret.txt", filepath.Join(base, "data", "s.txt"))
			},
			rel:     "data",
			wantMsg: []string{`"data"`, `"s.txt"`, "points outside the directory"},
		},
		{
			name: "dangling link",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"data/a.csv": "a"})
				symlink(t, "gone.csv", filepath.Join(base, "data", "b.csv"))
			},
			rel:     "data",
			wantIs:  fs.ErrNotExist,
			wantMsg: []string{`"b.csv"`, "cannot be resolved"},
		},
		{
			name: "link to directory",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"data/sub/a.csv": "a"})
				symlink(t, "sub", filepath.Join(base, "data", "loop"))
			},
			rel:     "data",
			wantMsg: []string{`"loop"`, "not a regular file"},
		},
		{
			name: "named pipe",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"data/a.csv": "a"})
				if err := syscall.Mkfifo(filepath.Join(base, "data", "pipe"), 0o644); err != nil {
					t.Skipf("cannot create a named pipe: %v", err)
				}
			},
			rel:     "data",
			wantMsg: []string{`"pipe"`, "not a regular file, directory or symbolic link"},
		},
		{
			name: "named pipe as path",
			setup: func(t *testing.T, base string) {
				if err := syscall.Mkfifo(filepath.Join(base, "pipe"), 0o644); err != nil {
					t.Skipf("cannot create a named pipe: %v", err)
				}
			},
			rel:     "pipe",
			wantMsg: []string{`"pipe"`, "neither a regular file nor a directory"},
		},
		{
			name: "no regular file",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"data/.git/HEAD": "ref"})
				if err := os.MkdirAll(filepath.Join(base, "data", "empty"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			rel:     "data",
			wantMsg: []string{`"data"`, "contains no regular file"},
		},
		{
			name: "newline in name",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"data/a\nb.csv": "a"})
			},
			rel:     "data",
			wantMsg: []string{`"a\nb.csv"`, "rename it"},
		},
		{
			name: "backslash in name",
			setup: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{`data/a\b.csv`: "a"})
			},
			rel:     "data",
			wantMsg: []string{`a\\b.csv`, "rename it"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "base")
			if err := os.Mkdir(base, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, base)
			}

			_, err := HashPath(t.Context(), base, tt.rel)
			if err == nil {
				t.Fatal("HashPath succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			for _, part := range tt.wantMsg {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			// HashPath also hashes command-line paths, such as verify's
			// --artifact, so its messages must not assume a configuration.
			if strings.Contains(err.Error(), "configuration") {
				t.Errorf("error %q assumes that the path comes from the configuration", err)
			}
		})
	}
}

func TestHashPathCancelled(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/a.csv": "a", "data/b.csv": "b", "model.bin": "m"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	for _, rel := range []string{"data", "model.bin"} {
		if _, err := HashPath(ctx, base, rel); !errors.Is(err, context.Canceled) {
			t.Errorf("HashPath(%q) error = %v, want context.Canceled", rel, err)
		}
	}
}

// writeLargeFile writes a generated text file of size bytes with CRLF line
// endings, large enough to be read ahead, to dir/name and returns its
// content.
func writeLargeFile(t *testing.T, dir, name string, size int) []byte {
	t.Helper()
	if size < readAheadMinSize {
		t.Fatalf("size %d is below readAheadMinSize %d, so the file would not be read ahead", size, readAheadMinSize)
	}
	content := make([]byte, 0, size+32)
	for i := 0; len(content) < size; i++ {
		content = fmt.Appendf(content, "row,%d,%d\r\n", i, i*7919%1000003)
	}
	content = content[:size]
	if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
		t.Fatal(err)
	}
	return content
}

func TestHashLargeFileMatchesSHA256(t *testing.T) {
	base := t.TempDir()
	const size = 20<<20 + 12345 // not a multiple of the buffer size
	content := writeLargeFile(t, base, "big.csv", size)

	var seen atomic.Int64
	opts := Options{MD5: true, Progress: func(n int64) { seen.Add(n) }}
	got, err := Hash(t.Context(), base, "big.csv", opts)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if want := hex.EncodeToString(sum[:]); got.SHA256 != want {
		t.Errorf("SHA256 = %s, want crypto/sha256's %s", got.SHA256, want)
	}
	if got.Size != size {
		t.Errorf("Size = %d, want %d", got.Size, size)
	}
	if seen.Load() != size {
		t.Errorf("progress saw %d bytes, want %d", seen.Load(), size)
	}

	// The MD5 digests must match those of the one-goroutine path, which
	// TestHashMD5Schemes checks against DVC's rules.
	sequential, err := hashFile(t.Context(), filepath.Join(base, "big.csv"), make([]byte, copyBufferSize), Options{MD5: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.MD5 != sequential.MD5 {
		t.Errorf("MD5 = %s, want %s as read in one goroutine", got.MD5, sequential.MD5)
	}
	if got.LegacyMD5 != sequential.LegacyMD5 {
		t.Errorf("LegacyMD5 = %s, want %s as read in one goroutine", got.LegacyMD5, sequential.LegacyMD5)
	}
	if got.SHA256 != sequential.SHA256 {
		t.Errorf("SHA256 = %s, want %s as read in one goroutine", got.SHA256, sequential.SHA256)
	}
}

func TestHashLargeFileCancelled(t *testing.T) {
	base := t.TempDir()
	const size = 20 << 20
	writeLargeFile(t, base, "big.csv", size)

	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var seen atomic.Int64
		_, err := Hash(ctx, base, "big.csv", Options{Progress: func(n int64) { seen.Add(n) }})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Hash error = %v, want context.Canceled", err)
		}
		if seen.Load() != 0 {
			t.Errorf("progress saw %d bytes after cancellation, want 0", seen.Load())
		}
	})

	t.Run("after first read", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var seen atomic.Int64
		_, err := Hash(ctx, base, "big.csv", Options{Progress: func(n int64) {
			seen.Add(n)
			cancel()
		}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Hash error = %v, want context.Canceled", err)
		}
		// The reading goroutine checks ctx before every read, so the
		// cancellation in the first read's progress call ends the reads.
		if seen.Load() > readAheadBufferSize {
			t.Errorf("progress saw %d bytes, want at most one read of %d after cancellation", seen.Load(), readAheadBufferSize)
		}
	})
}

// failingReader returns n bytes of zeros and then err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(r.n, len(p))
	clear(p[:k])
	r.n -= k
	return k, nil
}

// failingWriter accepts n bytes and then fails.
type failingWriter struct {
	n   int
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestCopyReadAheadErrors(t *testing.T) {
	errRead := errors.New("read failed")
	n, err := copyReadAhead(t.Context(), io.Discard, &failingReader{n: 3*readAheadBufferSize + 5, err: errRead}, nil)
	if !errors.Is(err, errRead) {
		t.Errorf("read error: copyReadAhead error = %v, want %v", err, errRead)
	}
	if n != 3*readAheadBufferSize+5 {
		t.Errorf("read error: copied %d bytes, want %d", n, 3*readAheadBufferSize+5)
	}

	errWrite := errors.New("write failed")
	n, err = copyReadAhead(t.Context(), &failingWriter{n: readAheadBufferSize + 7, err: errWrite}, &failingReader{n: 1 << 30, err: io.EOF}, nil)
	if !errors.Is(err, errWrite) {
		t.Errorf("write error: copyReadAhead error = %v, want %v", err, errWrite)
	}
	if n != readAheadBufferSize+7 {
		t.Errorf("write error: copied %d bytes, want %d", n, readAheadBufferSize+7)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHashTree hashes a generated tree of 500 files of mixed sizes,
// about 200 MB in total.
func BenchmarkHashTree(b *testing.B) {
	base := b.TempDir()
	dir := filepath.Join(base, "data")
	var total int64
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 7)
	}
	for i := range 500 {
		// Sizes cycle through 4 KiB, 64 KiB, 256 KiB and 1.25 MiB.
		size := []int{4 << 10, 64 << 10, 256 << 10, 1280 << 10}[i%4]
		path := filepath.Join(dir, fmt.Sprintf("shard-%02d", i%10), fmt.Sprintf("part-%03d.bin", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		content := make([]byte, 0, size)
		for len(content) < size {
			content = append(content, block[:min(len(block), size-len(content))]...)
		}
		content[0] = byte(i)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(size)
	}

	b.SetBytes(total)
	for b.Loop() {
		entry, err := HashPath(b.Context(), base, "data")
		if err != nil {
			b.Fatal(err)
		}
		if entry.Size != total {
			b.Fatalf("hashed %d bytes, want %d", entry.Size, total)
		}
	}
}

// TestHashPathSharedDatasets hashes the real datasets, as directories and
// as files, and checks the digests against the sha256sum tool.
func TestHashPathSharedDatasets(t *testing.T) {
	base := filepath.Join("..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(base); err != nil {
		t.Skipf("the shared datasets are not at %s: %v", base, err)
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum is not installed")
	}
	for _, rel := range []string{"compas", "adult", "adult/adult.data"} {
		t.Run(rel, func(t *testing.T) {
			entry, err := HashPath(t.Context(), base, rel)
			if err != nil {
				t.Fatal(err)
			}

			var script string
			if entry.Type == TypeFile {
				script = `sha256sum "$1"`
			} else {
				script = `cd "$1" && find -L . -type f -not -path '*/.git/*' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`
			}
			out, err := exec.Command("sh", "-c", script, "sh", filepath.Join(base, rel)).Output()
			if err != nil {
				t.Fatalf("running sha256sum: %v", err)
			}
			want, _, _ := strings.Cut(string(out), " ")
			if entry.SHA256 != want {
				t.Errorf("HashPath(%q) = %s, sha256sum gives %s", rel, entry.SHA256, want)
			}
		})
	}
}
