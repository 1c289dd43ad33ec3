// Package pack writes and reads an audit pack: a directory of files, its
// index.json listing every other file with its SHA-256 digest and size, and
// a deterministic .tar.gz archive of the directory.
//
// [Create] stages a pack in a temporary sibling directory and [Writer.Finish]
// moves the directory and its archive into place only when both are
// complete. [Open] reads a pack from a directory or an archive, rejecting
// unsafe archive entries, and [Pack.Verify] compares the files present with
// the index.
//
// The format is described in docs/pack-format.md.
package pack

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// FormatVersion is the value of index.json's formatVersion field that this
// package writes and accepts.
const FormatVersion = "1"

// IndexName is the name of the index file at the root of a pack.
const IndexName = "index.json"

// ErrInvalidPack is wrapped by every error that reports a malformed or
// unsafe pack, as opposed to a failure to read it. A file whose content
// differs from the index is not an error but a [Problem] of the [Report].
var ErrInvalidPack = errors.New("invalid pack")

// Index is the content of index.json.
type Index struct {
	// FormatVersion is FormatVersion.
	FormatVersion string `json:"formatVersion"`

	// Tool names the program that wrote the pack.
	Tool Tool `json:"tool"`

	// CreatedAt is the pack's timestamp, in UTC with whole seconds. It is
	// also the modification time of every archive entry.
	CreatedAt time.Time `json:"createdAt"`

	// Files lists every file of the pack except index.json, sorted by path.
	Files []File `json:"files"`
}

// Tool identifies the program that wrote a pack.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// File is the record of one file of a pack.
type File struct {
	// Path is relative to the pack's root, with slashes as separators.
	Path string `json:"path"`

	// SHA256 is the lowercase hex SHA-256 of the file's content.
	SHA256 string `json:"sha256"`

	// Size is the file's size in bytes.
	Size int64 `json:"size"`
}

// validateIndex checks the fields a verifier relies on. It reports every
// problem it finds, each naming its field.
func validateIndex(index *Index) error {
	var errs []error
	if index.FormatVersion != FormatVersion {
		errs = append(errs, fmt.Errorf("formatVersion is %q; this version of the tool reads only %q", index.FormatVersion, FormatVersion))
	}
	seen := make(map[string]bool, len(index.Files))
	for i, f := range index.Files {
		if i > 0 && f.Path < index.Files[i-1].Path {
			errs = append(errs, fmt.Errorf("files[%d].path: %q comes after %q; files must be sorted by path, byte by byte", i, f.Path, index.Files[i-1].Path))
		}
		if err := ValidatePath(f.Path); err != nil {
			errs = append(errs, fmt.Errorf("files[%d].path: %w", i, err))
		}
		if f.Path == IndexName {
			errs = append(errs, fmt.Errorf("files[%d].path: the index must not list itself", i))
		}
		if seen[f.Path] {
			errs = append(errs, fmt.Errorf("files[%d].path: %q is listed twice", i, f.Path))
		}
		seen[f.Path] = true
		if !isHexSHA256(f.SHA256) {
			errs = append(errs, fmt.Errorf("files[%d].sha256: %q is not 64 lowercase hex digits", i, f.SHA256))
		}
		if f.Size < 0 {
			errs = append(errs, fmt.Errorf("files[%d].size: %d is negative", i, f.Size))
		}
	}
	return errors.Join(errs...)
}

func isHexSHA256(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ValidatePath checks that name is a usable path for a file inside a pack:
// relative, slash-separated, clean (no "." or ".." element, no empty
// element, no trailing slash) and free of backslashes and NUL bytes.
func ValidatePath(name string) error {
	switch {
	case name == "":
		return errors.New("empty path")
	case name == ".":
		return errors.New(`path "." names the pack's root, not a file`)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("path %q is absolute; use a path relative to the pack", name)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("path %q contains a backslash or NUL byte; use slashes as separators", name)
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".." {
			return fmt.Errorf("path %q contains a \"..\" element", name)
		}
	}
	if path.Clean(name) != name {
		return fmt.Errorf("path %q is not clean; write it as %q", name, path.Clean(name))
	}
	return nil
}
