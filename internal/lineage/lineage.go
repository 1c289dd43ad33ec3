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
}

// File is one line of a directory's manifest.
type File struct {
	// Path is relative to the directory, with slashes as separators.
	Path string `json:"path"`

	// SHA256 is the lowercase hex SHA-256 of the file's content.
	SHA256 string `json:"sha256"`

	// Size is the file's size in bytes.
	Size int64 `json:"size"`
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
}
