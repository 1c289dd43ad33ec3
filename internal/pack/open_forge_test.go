package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestOpenArchiveRejectsDataAfterGzipStream(t *testing.T) {
	valid := makeArchive(t, validEntries(), nil)
	var second bytes.Buffer
	zw := gzip.NewWriter(&second)
	zw.Write([]byte("hidden"))
	zw.Close()

	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"junk appended", append(bytes.Clone(valid), "junk"...), "data follows the end of the gzip stream"},
		{"one zero byte appended", append(bytes.Clone(valid), 0), "data follows the end of the gzip stream"},
		{"second gzip stream", append(bytes.Clone(valid), second.Bytes()...), "data follows the end of the gzip stream"},
		{"data after the end-of-archive marker", makeArchive(t, validEntries(), []byte("not padding")), "other than zero padding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenArchive(t.Context(), bytes.NewReader(tt.data), Limits{})
			if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("OpenArchive error = %v, want ErrInvalidPack containing %q", err, tt.wantErr)
			}
		})
	}

	// The writer's own archive, and zero padding, still open.
	for name, data := range map[string][]byte{"plain": valid, "zero padding": makeArchive(t, validEntries(), make([]byte, 10240))} {
		if _, err := OpenArchive(t.Context(), bytes.NewReader(data), Limits{}); err != nil {
			t.Errorf("%s: OpenArchive: %v", name, err)
		}
	}
}

func TestOpenDirectoryRejectsSpecialFilesBeforeReading(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name: "index.json is a symbolic link",
			tamper: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, IndexName), filepath.Join(dir, "index.real")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("index.real", filepath.Join(dir, IndexName)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: `"index.json" is a symbolic link`,
		},
		{
			name: "index.json is a named pipe",
			tamper: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, IndexName)); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Mkfifo(filepath.Join(dir, IndexName), 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			},
			wantErr: `"index.json" is a named pipe`,
		},
		{
			name: "named pipe beside the files",
			tamper: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			},
			wantErr: `"pipe" is a named pipe`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pack")
			buildPack(t, dir, sortedTestNames())
			tt.tamper(t, dir)
			_, err := Open(t.Context(), dir)
			if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open error = %v, want ErrInvalidPack containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenRejectsSpecialPackPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pack.tar.gz")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := Open(t.Context(), path)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("Open error = %v, want ErrInvalidPack naming a named pipe", err)
	}
}

// tarWithTypeflag returns a pack archive whose entry p/x has typeflag
// flag, written by patching a regular entry's header, because
// archive/tar does not write every type.
func tarWithTypeflag(t *testing.T, flag byte) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range append(validEntries(), entry{name: "p/x", typeflag: tar.TypeReg, body: "x"}) {
		header := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(header); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	// Set the type byte and recompute the header checksum: the sum of the
	// header's bytes with the checksum field read as spaces, in octal.
	data := raw.Bytes()
	patched := false
	for off := 0; off+512 <= len(data); off += 512 {
		h := data[off : off+512]
		if !bytes.HasPrefix(h, []byte("p/x\x00")) {
			continue
		}
		h[156] = flag
		copy(h[148:156], "        ")
		sum := 0
		for _, b := range h {
			sum += int(b)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
		patched = true
	}
	if !patched {
		t.Fatal("no header for p/x")
	}

	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(data)
	zw.Close()
	return out.Bytes()
}

func TestOpenArchiveNamesEntryTypes(t *testing.T) {
	tests := []struct {
		name string
		flag byte
		want string
	}{
		{"contiguous file", tar.TypeCont, `archive entry "p/x" is a contiguous file (type 7); a pack contains only regular files and directories`},
		{"GNU sparse file", tar.TypeGNUSparse, `archive entry "p/x" is a GNU sparse file; a pack contains only regular files and directories`},
		{"unknown type", 'X', `archive entry "p/x" is an entry of type X; a pack contains only regular files and directories`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenArchive(t.Context(), bytes.NewReader(tarWithTypeflag(t, tt.flag)), Limits{})
			if !errors.Is(err, ErrInvalidPack) {
				t.Fatalf("OpenArchive error = %v, want ErrInvalidPack", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenArchive error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenFollowsOnlyTheRootSymlink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}

	report, err := Verify(t.Context(), link)
	if err != nil {
		t.Fatalf("Verify(link to the pack) = %v", err)
	}
	if !report.OK() {
		t.Errorf("Verify(link to the pack) problems: %v", report.Problems)
	}

	if err := os.Symlink("metrics.json", filepath.Join(dir, "inner-link")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), link)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), `"inner-link" is a symbolic link`) {
		t.Errorf("Open with a link inside = %v, want ErrInvalidPack naming inner-link", err)
	}
}

func TestOpenDirectoryErrorHasOnePrefix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	if err := os.Symlink("metrics.json", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), dir)
	want := dir + `: invalid pack: "link" is a symbolic link; a pack contains only regular files and directories`
	if err == nil || err.Error() != want {
		t.Errorf("Open error = %v, want %q", err, want)
	}
}

func TestOpenRejectsUnsortedIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	data, err := os.ReadFile(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	var index Index
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(index.Files)
	reversed, err := MarshalIndex(&index)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexName), reversed, 0o644); err != nil {
		t.Fatal(err)
	}

	_, err = Open(t.Context(), dir)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), "files must be sorted by path") {
		t.Errorf("Open error = %v, want ErrInvalidPack saying files must be sorted", err)
	}
}

func TestOpenDirectoryRejectsPackBeyondSizeLimit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	// A sparse file: its size counts, and it takes no space on disk.
	f, err := os.Create(filepath.Join(dir, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(DefaultMaxBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, err = Open(t.Context(), dir)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), fmt.Sprintf("exceed %d bytes", DefaultMaxBytes)) {
		t.Errorf("Open error = %v, want ErrInvalidPack about the size limit", err)
	}
}

func TestVerifyComparesSizeBeforeHashing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	writeTestFile(t, dir, "model-card.md", "# A longer model card\n")
	writeTestFile(t, dir, "planted.bin", "not hashed")

	report, err := Verify(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range report.Problems {
		if p.ActualSHA256 != "" {
			t.Errorf("problem %s was hashed: %+v", p.Path, p)
		}
		if p.ActualSize == nil {
			t.Errorf("problem %s has no size: %+v", p.Path, p)
		}
	}
	if len(report.Problems) != 2 {
		t.Errorf("problems = %+v, want model-card.md changed and planted.bin unlisted", report.Problems)
	}
}

// indexListing returns the canonical index.json of a pack whose files are
// the given names and contents.
func indexListing(t *testing.T, files map[string]string) string {
	t.Helper()
	index := &Index{FormatVersion: FormatVersion, Tool: Tool{Name: "auditpack", Version: "1"}, CreatedAt: testInfo.CreatedAt}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		index.Files = append(index.Files, File{Path: name, SHA256: hexSHA256([]byte(files[name])), Size: int64(len(files[name]))})
	}
	data, err := MarshalIndex(index)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestOpenArchiveKeepsOnlySmallFiles(t *testing.T) {
	const maxRead = 1 << 10
	small := "a"
	large := strings.Repeat("L", 4<<10)
	planted := strings.Repeat("P", 8<<10)
	data := makeArchive(t, []entry{
		{name: "p/", typeflag: tar.TypeDir},
		{name: "p/index.json", typeflag: tar.TypeReg, body: indexListing(t, map[string]string{"a.json": small, "large.json": large, "notes.md": small})},
		{name: "p/a.json", typeflag: tar.TypeReg, body: small},
		{name: "p/large.json", typeflag: tar.TypeReg, body: large},
		{name: "p/notes.md", typeflag: tar.TypeReg, body: small},
		{name: "p/planted.bin", typeflag: tar.TypeReg, body: planted},
	}, nil)
	p, err := OpenArchive(t.Context(), bytes.NewReader(data), Limits{MaxReadBytes: maxRead})
	if err != nil {
		t.Fatal(err)
	}

	tooLarge := fmt.Sprintf("is %d bytes, more than the %d bytes", len(large), maxRead)
	notParsed := "only the index, the attestations and the JSON documents at the root of a pack are read"
	tests := []struct {
		name     string
		content  string
		wantRead bool
		wantErr  string
	}{
		{"a.json", small, true, ""},
		{"large.json", large, false, tooLarge},
		{"notes.md", small, false, notParsed},
		{"planted.bin", planted, false, notParsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ReadFile(tt.name)
			switch {
			case tt.wantRead && err != nil:
				t.Errorf("ReadFile: %v", err)
			case tt.wantRead && string(got) != tt.content:
				t.Errorf("ReadFile = %q, want %q", got, tt.content)
			case !tt.wantRead && !errors.Is(err, ErrInvalidPack):
				t.Errorf("ReadFile error = %v, want ErrInvalidPack", err)
			case !tt.wantRead && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ReadFile error = %q, want it to contain %q", err, tt.wantErr)
			}

			sum, size, err := p.Digest(t.Context(), tt.name)
			if err != nil {
				t.Fatalf("Digest: %v", err)
			}
			if sum != hexSHA256([]byte(tt.content)) || size != int64(len(tt.content)) {
				t.Errorf("Digest = %s, %d; want %s, %d", sum, size, hexSHA256([]byte(tt.content)), len(tt.content))
			}
		})
	}

	report, err := p.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if report.Verified != 3 || len(report.Problems) != 1 || report.Problems[0].Path != "planted.bin" {
		t.Errorf("Verify = %d verified, problems %+v; want 3 verified and planted.bin unlisted", report.Verified, report.Problems)
	}
	if _, _, err := p.Digest(t.Context(), "absent.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Digest of an absent file = %v, want fs.ErrNotExist", err)
	}
}

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(b []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(b)), z.n)
	clear(b[:k])
	z.n -= k
	return int(k), nil
}

func TestOpenArchiveMemoryStaysBelowLargeEntry(t *testing.T) {
	const planted = 48 << 20
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(gz)
	for _, e := range validEntries() {
		header := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Size: int64(len(e.body))}
		if err := tw.WriteHeader(header); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "p/zero.bin", Typeflag: tar.TypeReg, Mode: 0o644, Size: planted}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tw, &zeroReader{n: planted}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}

	// With the default limits, a file above DefaultMaxReadBytes is hashed
	// and dropped; below, it is kept in one buffer of its size.
	tests := []struct {
		name     string
		limits   Limits
		maxAlloc uint64
	}{
		{"entry above the read limit", Limits{MaxReadBytes: 1 << 20}, 8 << 20},
		{"entry kept", Limits{}, planted + 8<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			p, err := OpenArchive(t.Context(), bytes.NewReader(buf.Bytes()), tt.limits)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > tt.maxAlloc {
				t.Errorf("OpenArchive allocated %d bytes for a %d-byte entry, want at most %d", got, planted, tt.maxAlloc)
			}
			if _, size, err := p.Digest(t.Context(), "zero.bin"); err != nil || size != planted {
				t.Errorf("Digest(zero.bin) = size %d, %v; want size %d", size, err, planted)
			}
		})
	}
}

func TestOpenDirectoryIndexNotAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	if err := os.Remove(filepath.Join(dir, IndexName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, IndexName), 0o755); err != nil {
		t.Fatal(err)
	}

	_, err := Open(t.Context(), dir)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), `"index.json" is a directory, not a regular file`) {
		t.Errorf("Open error = %v, want ErrInvalidPack saying index.json is a directory", err)
	}
}

func TestReadFileRejectsLargeFileInDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pack")
	buildPack(t, dir, sortedTestNames())
	// A sparse file: ReadFile must reject it by its size, without reading.
	f, err := os.Create(filepath.Join(dir, "attestations", "huge.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(DefaultMaxReadBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()

	p, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.ReadFile("attestations/huge.sigstore.json")
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), fmt.Sprintf("is %d bytes, more than the %d bytes (64 MiB)", DefaultMaxReadBytes+1, DefaultMaxReadBytes)) {
		t.Errorf("ReadFile error = %v, want ErrInvalidPack giving the size and the limit", err)
	}
	if _, err := p.ReadFile("attestations"); !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("ReadFile of a directory = %v, want ErrInvalidPack saying it is a directory", err)
	}
}

func TestOpenArchiveBoundsKeptContent(t *testing.T) {
	const maxRead = 1 << 10
	body := strings.Repeat("J", maxRead)
	listed := map[string]string{}
	for i := range maxKept + 1 {
		listed[fmt.Sprintf("attestations/x%d.sigstore.json", i)] = body
	}
	entries := []entry{{name: "p/", typeflag: tar.TypeDir}, {name: "p/attestations/", typeflag: tar.TypeDir}}
	for i := range maxKept + 1 {
		entries = append(entries, entry{name: fmt.Sprintf("p/attestations/x%d.sigstore.json", i), typeflag: tar.TypeReg, body: body})
	}
	// The index comes last, so that it is read after the limit is reached.
	entries = append(entries, entry{name: "p/index.json", typeflag: tar.TypeReg, body: indexListing(t, listed)})
	p, err := OpenArchive(t.Context(), bytes.NewReader(makeArchive(t, entries, nil)), Limits{MaxReadBytes: maxRead})
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxKept + 1 {
		name := fmt.Sprintf("attestations/x%d.sigstore.json", i)
		_, err := p.ReadFile(name)
		if wantKept := i < maxKept; (err == nil) != wantKept {
			t.Errorf("ReadFile(%s) error = %v, want kept %v", name, err, wantKept)
		}
		if sum, _, err := p.Digest(t.Context(), name); err != nil || sum != hexSHA256([]byte(body)) {
			t.Errorf("Digest(%s) = %s, %v; want the content's digest", name, sum, err)
		}
	}
}
