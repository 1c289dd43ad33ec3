package lineage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
)

// Comparison statuses of the rebuild check.
const (
	// StatusMatched: the content at hand has the recorded digest.
	StatusMatched = "matched"
	// StatusChanged: the content differs from the record.
	StatusChanged = "changed"
	// StatusMissing: the recorded path, or a file of a directory, is absent.
	StatusMissing = "missing"
	// StatusAdded: a directory holds a file the record does not list.
	StatusAdded = "added"
	// StatusUnverified: the file at hand is still a Git LFS pointer, so
	// only the digest it declares could be compared.
	StatusUnverified = "unverified"
)

// Comparison is the rebuild check of one recorded entry against the
// content at hand.
type Comparison struct {
	// Path is the entry's path as recorded.
	Path string `json:"path"`
	// Status is StatusMatched, StatusChanged, StatusMissing or
	// StatusUnverified for the entry as a whole.
	Status string `json:"status"`
	// Detail says what differs.
	Detail string `json:"detail,omitempty"`
	// Files lists a directory's files that did not match, sorted by path.
	Files []FileComparison `json:"files,omitempty"`
}

// FileComparison is one file of a directory that did not match.
type FileComparison struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	// Want and Got are the recorded and the current SHA-256; empty where
	// there is none.
	Want string `json:"want,omitempty"`
	Got  string `json:"got,omitempty"`
}

// Compare re-hashes the path of recorded, relative to baseDir, and
// compares it with the record. Git LFS pointers are detected as in the
// record's making. A path that does not exist, or whose parent is a file,
// is a StatusMissing result. Any other failure to hash the path is a
// StatusChanged result with the error as its detail, because the content
// at hand is not the recorded one: an empty directory, a special file, a
// symbolic link that loops or leads outside the directory, an unreadable
// file. Compare returns an error only when ctx is done.
func Compare(ctx context.Context, baseDir string, recorded Entry, opts Options) (Comparison, error) {
	opts.DetectLFS = true
	opts.MD5 = false
	cmp := Comparison{Path: recorded.Path}

	current, err := Hash(ctx, baseDir, recorded.Path, opts)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return cmp, err
	case errors.Is(err, fs.ErrNotExist):
		cmp.Status, cmp.Detail = StatusMissing, "the path does not exist"
		return cmp, nil
	case errors.Is(err, syscall.ENOTDIR):
		cmp.Status, cmp.Detail = StatusMissing, "the path does not exist: "+err.Error()
		return cmp, nil
	default:
		// ErrSpecialFile among others.
		cmp.Status, cmp.Detail = StatusChanged, err.Error()
		return cmp, nil
	}

	if current.Type != recorded.Type {
		cmp.Status = StatusChanged
		cmp.Detail = fmt.Sprintf("recorded as a %s, now a %s", recorded.Type, current.Type)
		return cmp, nil
	}
	if current.Type == TypeFile {
		cmp.Status, cmp.Detail = compareFile(recorded.SHA256, recorded.Size, current.SHA256, current.Size, current.LFS != nil)
		return cmp, nil
	}

	// A directory: compare file by file, so the report names each change.
	now := make(map[string]File, len(current.Files))
	for _, f := range current.Files {
		now[f.Path] = f
	}
	unverified := 0
	for _, want := range recorded.Files {
		got, ok := now[want.Path]
		delete(now, want.Path)
		switch {
		case !ok:
			cmp.Files = append(cmp.Files, FileComparison{Path: want.Path, Status: StatusMissing, Want: want.SHA256})
		case got.SHA256 != want.SHA256 || got.Size != want.Size:
			cmp.Files = append(cmp.Files, FileComparison{Path: want.Path, Status: StatusChanged, Want: want.SHA256, Got: got.SHA256})
		case got.LFS != nil:
			unverified++
		}
	}
	for _, f := range current.Files {
		if _, added := now[f.Path]; added {
			cmp.Files = append(cmp.Files, FileComparison{Path: f.Path, Status: StatusAdded, Got: f.SHA256})
		}
	}
	sortComparisons(cmp.Files)

	switch {
	case len(cmp.Files) > 0:
		cmp.Status = StatusChanged
		cmp.Detail = summarize(cmp.Files)
	case current.SHA256 != recorded.SHA256:
		// Same files and digests give the same manifest, so this means the
		// record itself is inconsistent.
		cmp.Status = StatusChanged
		cmp.Detail = fmt.Sprintf("manifest digest %s differs from the recorded %s", current.SHA256, recorded.SHA256)
	case unverified > 0:
		cmp.Status = StatusUnverified
		cmp.Detail = fmt.Sprintf("%d file(s) are still Git LFS pointers; fetch them with git lfs pull to check their content", unverified)
	default:
		cmp.Status = StatusMatched
		cmp.Detail = fmt.Sprintf("%d files, sha256 %s", len(recorded.Files), recorded.SHA256)
	}
	return cmp, nil
}

func compareFile(wantSum string, wantSize int64, gotSum string, gotSize int64, pointer bool) (string, string) {
	switch {
	case gotSum != wantSum || gotSize != wantSize:
		return StatusChanged, fmt.Sprintf("sha256 %s (%d bytes), recorded %s (%d bytes)", gotSum, gotSize, wantSum, wantSize)
	case pointer:
		return StatusUnverified, "the file is still a Git LFS pointer declaring the recorded digest; fetch it with git lfs pull to check its content"
	default:
		return StatusMatched, "sha256 " + wantSum
	}
}

func summarize(files []FileComparison) string {
	counts := map[string]int{}
	for _, f := range files {
		counts[f.Status]++
	}
	return fmt.Sprintf("%d changed, %d missing, %d added", counts[StatusChanged], counts[StatusMissing], counts[StatusAdded])
}

func sortComparisons(files []FileComparison) {
	slices.SortFunc(files, func(a, b FileComparison) int { return strings.Compare(a.Path, b.Path) })
}
