package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Info is the metadata Finish records in index.json.
type Info struct {
	// Tool names the program writing the pack. Tool.Name is required.
	Tool Tool

	// CreatedAt is the pack's timestamp, normally the commit time or
	// SOURCE_DATE_EPOCH so that the same inputs give the same archive. It
	// is converted to UTC and truncated to whole seconds. It must not be
	// the zero time.
	CreatedAt time.Time
}

// Writer stages the files of a pack. Create one with [Create], add files
// with WriteFile, then call Finish, or Abort to discard the staged files.
// A Writer is not safe for concurrent use.
type Writer struct {
	dir     string // the final pack directory
	staging string // the temporary sibling directory holding the files
	files   map[string]File
	closed  bool
	// limits are those of Open, so that every pack written can be read;
	// tests lower them.
	limits Limits
	total  int64 // bytes of the files written so far
}

// Create starts a pack that Finish will place at outDir, with its archive at
// outDir + ".tar.gz". It creates outDir's parent if needed and a staging
// directory beside outDir, so that the final moves are renames within one
// file system.
//
// An existing outDir is replaced by Finish only if it is empty or contains
// an index.json, so that a mistyped output path cannot delete an unrelated
// directory. Create checks this early and Finish checks it again.
func Create(outDir string) (*Writer, error) {
	if outDir == "" {
		return nil, errors.New("empty output directory: set the pack's output path")
	}
	dir := filepath.Clean(outDir)
	if err := checkNotWorkingDirectory(dir); err != nil {
		return nil, err
	}
	if err := checkReplaceable(dir); err != nil {
		return nil, err
	}
	if err := checkArchivePath(dir + ".tar.gz"); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating the parent of output directory %s: %w", dir, err)
	}
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".staging-")
	if err != nil {
		return nil, fmt.Errorf("creating a staging directory beside %s: %w", dir, err)
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("setting the mode of %s: %w", staging, err)
	}
	limits := Limits{MaxEntries: DefaultMaxEntries, MaxBytes: DefaultMaxBytes, MaxReadBytes: DefaultMaxReadBytes}
	return &Writer{dir: dir, staging: staging, files: make(map[string]File), limits: limits}, nil
}

// checkNotWorkingDirectory rejects an output directory that is the working
// directory or one of its parents. Finish renames the output directory
// aside before it moves the new pack in, so such a directory could never be
// replaced, and the staging directory would land inside it.
func checkNotWorkingDirectory(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolving output directory %s: %w", dir, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("resolving output directory %s: %w", dir, err)
	}
	if rel, err := filepath.Rel(abs, wd); err == nil && (rel == "." || filepath.IsLocal(rel)) {
		return fmt.Errorf("output directory %s is the current directory or contains it, which a pack cannot replace; choose a new subdirectory such as auditpack-out", dir)
	}
	return nil
}

// checkArchivePath rejects an archive path that is a directory, which the
// final rename cannot replace.
func checkArchivePath(archive string) error {
	info, err := os.Lstat(archive)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking archive path %s: %w", archive, err)
	}
	if info.IsDir() {
		return fmt.Errorf("archive path %s is a directory, so the pack's archive cannot be written there; remove it or choose another output path", archive)
	}
	return nil
}

// checkReplaceable returns an error if dir exists and is not a directory
// that Finish may replace.
func checkReplaceable(dir string) error {
	info, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking output directory %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("output path %s exists and is not a directory; remove it or choose another output path", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checking output directory %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(dir, IndexName)); err != nil {
		return fmt.Errorf("output directory %s exists and is not a pack (it has no %s); remove it or choose another output path", dir, IndexName)
	}
	return nil
}

// WriteFile adds a file to the pack. name is a slash-separated path relative
// to the pack's root, checked by [ValidatePath]. It must not be index.json,
// which Finish writes, and must not have been written before. A file that
// would take the pack's files past DefaultMaxBytes, the most that [Open]
// reads, is an error.
func (w *Writer) WriteFile(name string, data []byte) error {
	if w.closed {
		return errors.New("pack writer is already finished or aborted")
	}
	if err := ValidatePath(name); err != nil {
		return fmt.Errorf("adding a file to the pack: %w", err)
	}
	if name == IndexName {
		return fmt.Errorf("adding a file to the pack: %s is written by Finish", IndexName)
	}
	if _, ok := w.files[name]; ok {
		return fmt.Errorf("adding a file to the pack: %q was already written", name)
	}
	if int64(len(data)) > w.limits.MaxBytes-w.total {
		return w.tooLarge(fmt.Sprintf("with %q (%d bytes)", name, len(data)))
	}
	if w.limits.MaxReadBytes > 0 && int64(len(data)) > w.limits.MaxReadBytes {
		return fmt.Errorf("pack file %q would be %d bytes, more than the %d bytes verify reads of one file: check the inputs for a group column with very many values or a directory with very many files",
			name, len(data), w.limits.MaxReadBytes)
	}

	full := filepath.Join(w.staging, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("writing %q to the pack: %w", name, err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		return fmt.Errorf("writing %q to the pack: %w", name, err)
	}
	sum := sha256.Sum256(data)
	w.files[name] = File{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	w.total += int64(len(data))
	return nil
}

// tooLarge is the error for a pack whose files would exceed the size that
// verification accepts; what names the file that crossed the limit.
func (w *Writer) tooLarge(what string) error {
	return fmt.Errorf("the pack's files would add up to more than %d bytes %s, and verify rejects a larger pack: check the inputs for a group column with very many values or an oversized file",
		w.limits.MaxBytes, what)
}

// Finish writes index.json and the archive, then moves the pack directory
// and the archive into place, replacing those of an earlier run. On error
// the staged files are removed and any earlier output is left as it was,
// with one exception: if only the removal of the earlier directory fails,
// the new pack is already in place and the error names the leftover
// directory.
// The Writer cannot be used after Finish.
func (w *Writer) Finish(info Info) (*Index, error) {
	if w.closed {
		return nil, errors.New("pack writer is already finished or aborted")
	}
	index, err := w.finish(info)
	if err != nil {
		w.Abort()
		return nil, err
	}
	w.closed = true
	return index, nil
}

func (w *Writer) finish(info Info) (*Index, error) {
	if info.Tool.Name == "" {
		return nil, errors.New("finishing the pack: the tool name is empty")
	}
	if info.CreatedAt.IsZero() {
		return nil, errors.New("finishing the pack: the creation time is not set")
	}

	// Write index.json.
	index := &Index{
		FormatVersion: FormatVersion,
		Tool:          info.Tool,
		CreatedAt:     info.CreatedAt.UTC().Truncate(time.Second),
		Files:         make([]File, 0, len(w.files)),
	}
	for _, f := range w.files {
		index.Files = append(index.Files, f)
	}
	slices.SortFunc(index.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	indexJSON, err := MarshalIndex(index)
	if err != nil {
		return nil, err
	}
	if int64(len(indexJSON)) > w.limits.MaxBytes-w.total {
		return nil, w.tooLarge(fmt.Sprintf("with %s (%d bytes)", IndexName, len(indexJSON)))
	}
	if entries := archiveEntries(index); entries > w.limits.MaxEntries {
		return nil, fmt.Errorf("the pack's archive would have %d entries, and verify rejects more than %d", entries, w.limits.MaxEntries)
	}
	if err := os.WriteFile(filepath.Join(w.staging, IndexName), indexJSON, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", IndexName, err)
	}

	// Write the archive to a temporary file beside its final path.
	archiveTemp, err := w.writeArchiveTemp(index, indexJSON)
	if err != nil {
		return nil, err
	}
	defer os.Remove(archiveTemp) // a no-op once it has been renamed

	if err := w.commit(archiveTemp); err != nil {
		return nil, err
	}
	return index, nil
}

// archiveEntries returns the number of entries of the pack's archive: the
// top-level directory, index.json, every file and every directory below
// the top.
func archiveEntries(index *Index) int {
	dirs := map[string]bool{}
	for _, f := range index.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	return 2 + len(index.Files) + len(dirs)
}

// MarshalIndex encodes index as index.json stores it: two-space indented
// JSON followed by a newline.
func MarshalIndex(index *Index) ([]byte, error) {
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", IndexName, err)
	}
	return append(data, '\n'), nil
}

func (w *Writer) writeArchiveTemp(index *Index, indexJSON []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(w.dir), "."+filepath.Base(w.dir)+".tar.gz-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary archive beside %s: %w", w.dir, err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", err
	}

	read := func(file string) ([]byte, error) {
		if file == IndexName {
			return indexJSON, nil
		}
		return os.ReadFile(filepath.Join(w.staging, filepath.FromSlash(file)))
	}
	if err := writeArchive(f, filepath.Base(w.dir), index, read); err != nil {
		return fail(fmt.Errorf("writing the archive of %s: %w", w.dir, err))
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(fmt.Errorf("setting the mode of %s: %w", name, err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("writing %s: %w", name, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return name, nil
}

// commit renames the staging directory to w.dir and archiveTemp to the
// archive path. An existing pack directory is first renamed aside and is
// put back if a later step fails.
func (w *Writer) commit(archiveTemp string) error {
	if err := checkReplaceable(w.dir); err != nil {
		return err
	}
	if err := checkArchivePath(w.dir + ".tar.gz"); err != nil {
		return err
	}

	old := ""
	if _, err := os.Lstat(w.dir); err == nil {
		old = strings.Replace(w.staging, ".staging-", ".old-", 1)
		if err := os.Rename(w.dir, old); err != nil {
			return fmt.Errorf("moving the earlier pack %s aside: %w", w.dir, err)
		}
	}
	restore := func() {
		if old != "" {
			os.Rename(old, w.dir)
		}
	}

	if err := os.Rename(w.staging, w.dir); err != nil {
		restore()
		return fmt.Errorf("moving the new pack into %s: %w", w.dir, err)
	}
	if err := os.Rename(archiveTemp, w.dir+".tar.gz"); err != nil {
		// Undo the directory swap so that the directory and the archive of
		// the earlier run stay together.
		os.Rename(w.dir, w.staging)
		restore()
		return fmt.Errorf("moving the archive into %s.tar.gz: %w", w.dir, err)
	}

	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("the new pack is in place at %s, but removing the earlier one moved to %s failed; remove it by hand: %w", w.dir, old, err)
		}
	}
	return nil
}

// Abort removes the staged files. It does nothing after Finish or an
// earlier Abort, so it is safe to defer.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	os.RemoveAll(w.staging)
}
