// Package lineage computes the content digests of model artifacts and
// datasets and reads the state of the Git repository they come from. Its
// types are the records of lineage.json.
//
// A file's digest is the SHA-256 of its bytes. A directory's digest is the
// SHA-256 of its manifest: one line per regular file, sorted by the byte
// order of the slash-separated path relative to the directory, each line
// "<sha256 hex>  <path>\n". That is the output format of sha256sum, so
// piping that tool's output for the same files, in the same order, into
// sha256sum again yields the same digest.
//
// Walking a directory follows these rules:
//
//   - A symbolic link whose target resolves to a regular file inside the
//     directory is listed under the link's own path with the target's
//     content. A link that points outside the directory, to a directory, or
//     nowhere is an error, so a digest never depends on files the manifest
//     does not cover and a walk never loops.
//   - Sockets, named pipes and devices are an error.
//   - Directories are not represented: an empty directory leaves no trace in
//     the manifest, and a directory with no regular file at all is an error.
//   - Every entry named ".git" (a repository's directory, or the file a
//     worktree or submodule uses instead) is skipped with all it contains.
//   - A file name containing a newline, carriage return or backslash is an
//     error, because sha256sum escapes such names and its output would then
//     differ from the manifest.
//
// The path given to [HashPath] itself may be a symbolic link, which is
// followed.
package lineage

import "time"

// Type names of an [Entry].
const (
	TypeFile      = "file"
	TypeDirectory = "directory"
)

// Lineage is the document stored as lineage.json in a pack.
type Lineage struct {
	// Artifacts are the model artifacts, in configuration order.
	Artifacts []Entry `json:"artifacts"`

	// Datasets are the training and evaluation datasets, in configuration
	// order.
	Datasets []Dataset `json:"datasets"`

	// Repository is the state of the Git repository the pack was built
	// from, or nil (JSON null) when the working directory is not inside one.
	Repository *Repo `json:"repository"`
}

// Entry is the digest record of one file or directory.
type Entry struct {
	// Path is the path as written in the configuration, cleaned and with
	// slashes as separators.
	Path string `json:"path"`

	// Type is TypeFile or TypeDirectory.
	Type string `json:"type"`

	// SHA256 is the lowercase hex SHA-256 of the file, or of the manifest
	// for a directory.
	SHA256 string `json:"sha256"`

	// Size is the file's size in bytes, or the total size of a directory's
	// listed files.
	Size int64 `json:"size"`

	// Files lists a directory's regular files sorted by path; it is empty
	// for a file.
	Files []File `json:"files,omitempty"`

	// LFS is set when the file is a Git LFS pointer that was not fetched
	// (see [Options.DetectLFS]); SHA256 and Size are then the content's as
	// the pointer declares them.
	LFS *LFSInfo `json:"lfs,omitempty"`

	// MD5 and LegacyMD5 are the DVC digests of a file (see [Options.MD5]);
	// they are not part of lineage.json.
	MD5       string `json:"-"`
	LegacyMD5 string `json:"-"`
}

// File is one line of a directory's manifest.
type File struct {
	// Path is relative to the directory, with slashes as separators.
	Path string `json:"path"`

	// SHA256 is the lowercase hex SHA-256 of the file's content.
	SHA256 string `json:"sha256"`

	// Size is the file's size in bytes.
	Size int64 `json:"size"`

	// LFS is set when the file is an unfetched Git LFS pointer, as for
	// [Entry].
	LFS *LFSInfo `json:"lfs,omitempty"`

	// MD5 and LegacyMD5 are the DVC digests (see [Options.MD5]); they are
	// not part of lineage.json.
	MD5       string `json:"-"`
	LegacyMD5 string `json:"-"`
}

// Dataset is an [Entry] together with the facts the configuration declares
// about a dataset.
type Dataset struct {
	// Name identifies the dataset within the configuration.
	Name string `json:"name"`

	// Role is the dataset's use by the model, for example "training" or
	// "evaluation".
	Role string `json:"role"`

	Entry

	// Source is the dataset's origin, usually a URL. It is empty when not
	// declared.
	Source string `json:"source,omitempty"`

	// License is the dataset's licence, as an SPDX expression where one
	// exists; empty when not declared.
	License string `json:"license,omitempty"`

	// Provenance holds the remaining declared facts and those derived from
	// the repository; nil when none was declared.
	Provenance *Provenance `json:"provenance,omitempty"`

	// LFSFetch is the command that fetches the content of the dataset's
	// Git LFS pointers; empty when it has none.
	LFSFetch string `json:"lfsFetch,omitempty"`

	// DVC lists the cross-checks of the dataset against the DVC files
	// that track it; empty when no DVC file names it.
	DVC []DVCCheck `json:"dvc,omitempty"`
}

// Provenance is where a dataset came from and under which terms.
type Provenance struct {
	// Description is free text from the configuration.
	Description string `json:"description,omitempty"`
	// Terms states the usage rights beyond the licence.
	Terms string `json:"terms,omitempty"`
	// Collection is the period the data was collected in.
	Collection *Period `json:"collection,omitempty"`
	// Preprocessing lists the code that produced the dataset.
	Preprocessing []Code `json:"preprocessing,omitempty"`
	// Composition gives the dataset's shares by origin; they add up to 1.
	Composition []Share `json:"composition,omitempty"`
}

// Period is a time span given as dates (YYYY, YYYY-MM or YYYY-MM-DD).
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Code is a preprocessing file or directory with its digest and the last
// commit that changed it.
type Code struct {
	Entry
	// Commit is the last commit that changed the path; empty outside a
	// repository or when no commit touched it.
	Commit string `json:"commit,omitempty"`
}

// Share is the fraction of a dataset that comes from one origin.
type Share struct {
	// Origin names the kind of source, for example "synthetic" or
	// "proprietary".
	Origin string `json:"origin"`
	// Share is a fraction between 0 and 1.
	Share float64 `json:"share"`
}

// DVC check statuses.
const (
	DVCMatched      = "matched"
	DVCMismatched   = "mismatched"
	DVCNotCheckable = "not-checkable"
)

// DVCCheck is the outcome of comparing a dataset with one entry of a DVC
// file.
type DVCCheck struct {
	// File is the .dvc or dvc.lock file, as a path relative to the
	// configuration file.
	File string `json:"file"`
	// Stage is the dvc.lock stage, empty for a .dvc file.
	Stage string `json:"stage,omitempty"`
	// Kind is "out" or "dep".
	Kind string `json:"kind"`
	// Hash is the recorded digest as "<field>:<value>", for example
	// "md5:22a1…" or "etag:…".
	Hash string `json:"hash"`
	// Scheme is the hash scheme: "md5" (DVC 3), "md5-dos2unix" (DVC 2),
	// or the field name for remote checksums.
	Scheme string `json:"scheme"`
	// Status is DVCMatched, DVCMismatched or DVCNotCheckable.
	Status string `json:"status"`
	// Detail says what differs, or why the entry cannot be checked.
	Detail string `json:"detail,omitempty"`
}

// Repo is the state of a Git repository.
type Repo struct {
	// Commit is the hex object name of the commit HEAD points to.
	Commit string `json:"commit"`

	// Remote is the first URL of the remote named "origin" with any user
	// name and password removed; empty when there is no such remote.
	Remote string `json:"remote,omitempty"`

	// Dirty reports whether a tracked file differs from HEAD, in the index
	// or in the working tree. Untracked files do not make a tree dirty.
	Dirty bool `json:"dirty"`

	// CommitTime is the committer time of Commit, in UTC.
	CommitTime time.Time `json:"commitTime"`

	// Files gives the Git state of every path the configuration names;
	// empty when the caller named none.
	Files []PathState `json:"files,omitempty"`
}

// Git states of a [PathState].
const (
	// StateClean: every file under the path is tracked and unchanged.
	StateClean = "clean"
	// StateModified: a tracked file under the path is staged or changed.
	StateModified = "modified"
	// StateUntracked: no file under the path is tracked.
	StateUntracked = "untracked"
	// StateOutside: the path lies outside the repository's working tree.
	StateOutside = "outside"
)

// PathState is the Git state of one path the configuration names.
type PathState struct {
	// Path is relative to the repository root, with slashes.
	Path string `json:"path"`
	// State is StateClean, StateModified, StateUntracked or StateOutside.
	State string `json:"state"`
	// Untracked counts the files under a directory that Git does not track.
	Untracked int `json:"untracked,omitempty"`
}
