package lineage

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
)

// realPointer has the layout git-lfs writes (spec v1, as in the git-lfs
// repository's docs/spec.md): version, oid and size lines.
const realPointer = "version https://git-lfs.github.com/spec/v1\n" +
	"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n" +
	"size 12345\n"

func TestParseLFSPointer(t *testing.T) {
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"real pointer", realPointer, true},
		{"with extension line", "version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + strings.Repeat("a", 64) + "\noid sha256:" + strings.Repeat("b", 64) + "\nsize 1\n", true},
		{"unsorted keys", "version https://git-lfs.github.com/spec/v1\nsize 1\noid sha256:" + strings.Repeat("b", 64) + "\n", false},
		{"upper-case oid", strings.Replace(realPointer, "4d7a", "4D7A", 1), false},
		{"no size", "version https://git-lfs.github.com/spec/v1\noid sha256:" + strings.Repeat("b", 64) + "\n", false},
		{"no trailing newline", strings.TrimSuffix(realPointer, "\n"), false},
		{"csv", "a,b\n1,2\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := ParseLFSPointer([]byte(tt.data))
			if ok != tt.ok {
				t.Errorf("ParseLFSPointer ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

func TestHashDetectsLFSPointer(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/big.parquet": realPointer, "data/small.csv": "a\n"})

	got, err := Hash(t.Context(), base, "data", Options{DetectLFS: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "big.parquet", SHA256: "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393", Size: 12345,
			LFS: &LFSInfo{PointerSHA256: hexSHA256(realPointer), PointerSize: int64(len(realPointer))}},
		{Path: "small.csv", SHA256: hexSHA256("a\n"), Size: 2},
	}
	if diff := cmp.Diff(want, got.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	// Without detection the pointer is hashed as bytes, as HashPath does.
	plain, err := HashPath(t.Context(), base, "data/big.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if plain.SHA256 != hexSHA256(realPointer) || plain.LFS != nil {
		t.Errorf("HashPath of a pointer = %+v, want the pointer's own digest", plain)
	}
}

func TestHashMD5Schemes(t *testing.T) {
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	// A CR LF pair split across DVC's 1 MiB chunks stays unconverted.
	split := strings.Repeat("a", dvcChunkSize-1) + "\r\n" + "b\r\n"
	tests := []struct {
		name, content, legacy string
	}{
		{"text with crlf", "a,b\r\n1,2\r\n", md5hex("a,b\n1,2\n")},
		{"binary with crlf", "\x00\x01\r\n", md5hex("\x00\x01\r\n")},
		{"mostly non-ascii", strings.Repeat("\xff", 10) + "\r\n", md5hex(strings.Repeat("\xff", 10) + "\r\n")},
		{"empty", "", md5hex("")},
		{"crlf across chunks", split, md5hex(strings.Repeat("a", dvcChunkSize-1) + "\r" + "\n" + "b\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			writeFiles(t, base, map[string]string{"f": tt.content})
			var seen atomic.Int64
			got, err := Hash(t.Context(), base, "f", Options{MD5: true, Progress: func(n int64) { seen.Add(n) }})
			if err != nil {
				t.Fatal(err)
			}
			if got.MD5 != md5hex(tt.content) {
				t.Errorf("MD5 = %s, want the raw md5 %s", got.MD5, md5hex(tt.content))
			}
			if got.LegacyMD5 != tt.legacy {
				t.Errorf("LegacyMD5 = %s, want %s", got.LegacyMD5, tt.legacy)
			}
			if seen.Load() != int64(len(tt.content)) {
				t.Errorf("progress saw %d bytes, want %d", seen.Load(), len(tt.content))
			}
		})
	}
}

// TestCompareDatasetTree is the rebuild check on a tree with a changed, a
// removed and an added file.
func TestCompareDatasetTree(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/a.csv": "1\n", "data/b.csv": "2\n", "data/sub/c.csv": "3\n", "model.bin": "m"})
	recorded, err := HashPath(t.Context(), base, "data")
	if err != nil {
		t.Fatal(err)
	}
	model, err := HashPath(t.Context(), base, "model.bin")
	if err != nil {
		t.Fatal(err)
	}

	same, err := Compare(t.Context(), base, recorded, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if same.Status != StatusMatched || len(same.Files) != 0 {
		t.Errorf("unchanged tree: %+v, want matched", same)
	}

	writeFiles(t, base, map[string]string{"data/a.csv": "changed\n", "data/new.csv": "4\n"})
	if err := os.Remove(filepath.Join(base, "data", "sub", "c.csv")); err != nil {
		t.Fatal(err)
	}
	got, err := Compare(t.Context(), base, recorded, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Comparison{Path: "data", Status: StatusChanged, Detail: "1 changed, 1 missing, 1 added", Files: []FileComparison{
		{Path: "a.csv", Status: StatusChanged, Want: hexSHA256("1\n"), Got: hexSHA256("changed\n")},
		{Path: "new.csv", Status: StatusAdded, Got: hexSHA256("4\n")},
		{Path: "sub/c.csv", Status: StatusMissing, Want: hexSHA256("3\n")},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}

	if err := os.Remove(filepath.Join(base, "model.bin")); err != nil {
		t.Fatal(err)
	}
	missing, err := Compare(t.Context(), base, model, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if missing.Status != StatusMissing {
		t.Errorf("removed file: %+v, want missing", missing)
	}
}

func TestCompareNamedPipeInTreeIsChanged(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/a.csv": "1\n", "data/b.csv": "2\n"})
	recorded, err := HashPath(t.Context(), base, "data")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(base, "data", "b.csv")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(base, "data", "b.csv"), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := Compare(t.Context(), base, recorded, Options{})
	if err != nil {
		t.Fatalf("Compare = %v, want a changed result", err)
	}
	if got.Status != StatusChanged {
		t.Errorf("status = %s, want %s", got.Status, StatusChanged)
	}
	if !strings.Contains(got.Detail, `"b.csv" is not a regular file`) {
		t.Errorf("detail = %q, want it to name the named pipe", got.Detail)
	}
}

func TestCompareLFSPointerUnverified(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/big.parquet": realPointer})
	recorded, err := Hash(t.Context(), base, "data/big.parquet", Options{DetectLFS: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compare(t.Context(), base, recorded, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusUnverified {
		t.Errorf("pointer still in place: %+v, want unverified", got)
	}
}

func TestRepositoryWithPathsAndLastCommit(t *testing.T) {
	dir, commit := newRepo(t, "")
	writeFiles(t, dir, map[string]string{"model.bin": "changed", "data/new.csv": "n", "untracked/x": "x"})

	repo, err := RepositoryWithPaths(t.Context(), dir, []string{"model.bin", "data", "untracked", "/elsewhere/file"})
	if err != nil {
		t.Fatal(err)
	}
	want := []PathState{
		{Path: "model.bin", State: StateModified},
		{Path: "data", State: StateClean, Untracked: 1},
		{Path: "untracked", State: StateUntracked, Untracked: 1},
		{Path: "/elsewhere/file", State: StateOutside},
	}
	if diff := cmp.Diff(want, repo.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}

	// A second commit that touches only model.bin.
	g, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := g.Worktree()
	if _, err := wt.Add("model.bin"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "T", Email: "t@example.com", When: commitTime.Add(3600e9)}
	second, err := wt.Commit("change model", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"data/a.csv": commit, "data": commit, "model.bin": second.String(), "untracked/x": ""} {
		got, err := LastCommit(t.Context(), dir, path)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("LastCommit(%s) = %q, want %q", path, got, want)
		}
	}
}
