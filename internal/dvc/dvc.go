// Package dvc reads DVC's tracking files, `.dvc` files and `dvc.lock`, and
// cross-checks the digests they record against the files at hand.
//
// DVC records a file's MD5 in one of two schemes. DVC 3 writes `hash: md5`
// beside the digest and hashes the raw bytes. DVC 2 wrote no `hash` field
// and hashed text files (judged by their first 512 bytes) with every CRLF
// turned into LF, in 1 MiB chunks ("md5-dos2unix" in dvc_data). A
// directory's digest ends in ".dir" and is the MD5 of the JSON list
// `[{"md5": …, "relpath": …}, …]` sorted by relpath, as Python's
// json.dumps(sort_keys=True) writes it; `nfiles` and `size` accompany it.
// `etag` (S3, HTTP, Azure) and `checksum` (HDFS) come from remote storage
// and cannot be recomputed from local files.
//
// A check therefore compares a recorded digest only with a digest made by
// the same scheme, and an entry it cannot recompute is reported as not
// checkable with the reason, never as a mismatch.
package dvc

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kinds of an [Entry].
const (
	KindOut = "out"
	KindDep = "dep"
)

// Hash schemes of an MD5 entry.
const (
	// SchemeMD5 is DVC 3's MD5 of the raw bytes (`hash: md5`).
	SchemeMD5 = "md5"
	// SchemeMD5Dos2Unix is DVC 2's MD5 with text line endings normalized.
	SchemeMD5Dos2Unix = "md5-dos2unix"
)

// Entry is one output or dependency recorded in a DVC file.
type Entry struct {
	// File is the DVC file as the caller named it.
	File string
	// Stage is the dvc.lock stage; empty for a .dvc file.
	Stage string
	// Kind is KindOut or KindDep.
	Kind string
	// Path is the tracked path relative to the DVC file's directory, with
	// slashes, as DVC resolves it (including a .dvc file's wdir).
	Path string
	// MD5, ETag and Checksum are the recorded digests; a directory's MD5
	// ends in ".dir".
	MD5      string
	ETag     string
	Checksum string
	// Scheme is SchemeMD5 or SchemeMD5Dos2Unix for an MD5 entry.
	Scheme string
	// Size and NFiles are the recorded total size and file count; -1 when
	// not recorded.
	Size   int64
	NFiles int64
	// Line is the entry's line in File.
	Line int
}

// IsDir reports whether the entry records a directory.
func (e Entry) IsDir() bool { return strings.HasSuffix(e.MD5, ".dir") }

// rawEntry is the YAML shape of an out or dep; other fields are ignored.
type rawEntry struct {
	Path     string `yaml:"path"`
	Hash     string `yaml:"hash"`
	MD5      string `yaml:"md5"`
	ETag     string `yaml:"etag"`
	Checksum string `yaml:"checksum"`
	Size     *int64 `yaml:"size"`
	NFiles   *int64 `yaml:"nfiles"`
}

type rawStage struct {
	Deps []yaml.Node `yaml:"deps"`
	Outs []yaml.Node `yaml:"outs"`
}

type rawDVCFile struct {
	WDir string      `yaml:"wdir"`
	Deps []yaml.Node `yaml:"deps"`
	Outs []yaml.Node `yaml:"outs"`
}

type rawLock struct {
	Schema string              `yaml:"schema"`
	Stages map[string]rawStage `yaml:"stages"`
}

// Load reads the DVC file at file: a dvc.lock when its base name is
// "dvc.lock", else a .dvc file.
func Load(file string) ([]Entry, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading DVC file %q: %w", file, err)
	}
	return Parse(file, data)
}

// Parse parses the content of a DVC file named file (see [Load]).
func Parse(file string, data []byte) ([]Entry, error) {
	if filepath.Base(file) == "dvc.lock" {
		return parseLock(file, data)
	}
	return parseDVCFile(file, data)
}

func parseDVCFile(file string, data []byte) ([]Entry, error) {
	var raw rawDVCFile
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: invalid .dvc file: %w", file, err)
	}
	if len(raw.Outs) == 0 {
		return nil, fmt.Errorf("%s: a .dvc file must have outs; is this a DVC file?", file)
	}
	var entries []Entry
	var errs []error
	for _, group := range []struct {
		kind  string
		nodes []yaml.Node
	}{{KindOut, raw.Outs}, {KindDep, raw.Deps}} {
		for i := range group.nodes {
			e, err := decodeEntry(file, "", group.kind, &group.nodes[i], raw.WDir)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			entries = append(entries, e)
		}
	}
	return entries, errors.Join(errs...)
}

func parseLock(file string, data []byte) ([]Entry, error) {
	var raw rawLock
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: invalid dvc.lock: %w", file, err)
	}
	if raw.Schema != "" && !strings.HasPrefix(raw.Schema, "2.") {
		return nil, fmt.Errorf("%s: dvc.lock schema %q is not supported; only schema 2.x (DVC 1.0 and later) is", file, raw.Schema)
	}
	if raw.Stages == nil {
		return nil, fmt.Errorf("%s: dvc.lock has no stages", file)
	}
	var entries []Entry
	var errs []error
	for _, name := range sortedKeys(raw.Stages) {
		stage := raw.Stages[name]
		for _, group := range []struct {
			kind  string
			nodes []yaml.Node
		}{{KindDep, stage.Deps}, {KindOut, stage.Outs}} {
			for i := range group.nodes {
				e, err := decodeEntry(file, name, group.kind, &group.nodes[i], "")
				if err != nil {
					errs = append(errs, err)
					continue
				}
				entries = append(entries, e)
			}
		}
	}
	return entries, errors.Join(errs...)
}

func decodeEntry(file, stage, kind string, node *yaml.Node, wdir string) (Entry, error) {
	var raw rawEntry
	if err := node.Decode(&raw); err != nil {
		return Entry{}, fmt.Errorf("%s:%d: invalid %s entry: %w", file, node.Line, kind, err)
	}
	if raw.Path == "" {
		return Entry{}, fmt.Errorf("%s:%d: %s entry has no path", file, node.Line, kind)
	}
	e := Entry{
		File: file, Stage: stage, Kind: kind, Line: node.Line,
		Path: path.Clean(path.Join(filepath.ToSlash(wdir), filepath.ToSlash(raw.Path))),
		MD5:  raw.MD5, ETag: raw.ETag, Checksum: raw.Checksum,
		Size: -1, NFiles: -1,
	}
	if raw.Size != nil {
		e.Size = *raw.Size
	}
	if raw.NFiles != nil {
		e.NFiles = *raw.NFiles
	}
	switch raw.Hash {
	case "md5":
		e.Scheme = SchemeMD5
	case "":
		e.Scheme = SchemeMD5Dos2Unix
	default:
		e.Scheme = raw.Hash
	}
	return e, nil
}

// Find returns the entries of entries (read from dvcFile) that track
// target. Both paths are absolute or relative to the same directory.
func Find(entries []Entry, dvcFile, target string) []Entry {
	dir := filepath.Dir(dvcFile)
	want := filepath.Clean(target)
	var out []Entry
	for _, e := range entries {
		if filepath.Clean(filepath.Join(dir, filepath.FromSlash(e.Path))) == want {
			out = append(out, e)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
