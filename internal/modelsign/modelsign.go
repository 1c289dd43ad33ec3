// Package modelsign signs and verifies models in the OpenSSF model signing
// format (sigstore/model-transparency, predicate v1.0), so that verifiers
// built for that format, such as `model_signing verify key`, accept the
// model directly.
//
// The format is an in-toto Statement v1 in a DSSE envelope inside a
// Sigstore bundle v0.3. Its predicate type is
// https://model_signing/signature/v1.0; its predicate lists every file of
// the model as a resource {name, algorithm, digest} and the serialization
// settings that produced the list; its single subject is named after the
// model and its sha256 is the SHA-256 over the raw bytes of the resources'
// digests, concatenated in the listed order. Resource names are paths
// relative to the model directory, with "/" separators; a model that is a
// single file has one resource named ".". Resources are sorted the way
// Python's pathlib sorts paths, component by component. A directory's
// manifest leaves out the git paths model_signing ignores by default
// ([GitPaths]) and records them in the serialization's ignore_paths.
//
// A key-signed bundle's public key hint is the lowercase hex SHA-256 of the
// public key in PEM (SubjectPublicKeyInfo), which model_signing compares
// with the verifier's key before it checks the signature.
package modelsign

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/lineage"
)

// PredicateType is the predicate type of model signing v1.0.
const PredicateType = "https://model_signing/signature/v1.0"

// Serialization methods and settings this package writes.
const (
	MethodFiles = "files"
	HashSHA256  = "sha256"
)

// GitPaths are the paths, relative to the model directory, that
// model_signing v1.1.0 and later leave out of a directory's manifest unless
// told otherwise (hashing.Config.hash in sigstore/model-transparency):
// these entries at the top of the directory and everything below them.
// Entries of the same names in subdirectories are hashed. The order is the
// one model_signing adds them in; it writes them to ignore_paths in a
// set's order, which varies between runs.
var GitPaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// ErrManifest marks a model signature whose content is inconsistent, or a
// model that does not match it.
var ErrManifest = errors.New("model signature mismatch")

// Resource is one file of the model and its digest.
type Resource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// Serialization records how the model was turned into resources.
type Serialization struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hash_type"`
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths,omitempty"`
	// ShardSize is set for the "shards" method, which this package reads
	// but does not write.
	ShardSize int64 `json:"shard_size,omitempty"`
}

// Predicate is the model signing v1.0 predicate.
type Predicate struct {
	Serialization Serialization `json:"serialization"`
	Resources     []Resource    `json:"resources"`
}

// Manifest is a model's name and predicate.
type Manifest struct {
	ModelName string
	Predicate
}

// FromEntry builds the manifest of a model artifact hashed by package
// lineage. root is the artifact's path on disk, read only to learn whether
// the directory contains symbolic links (allow_symlinks). The model name
// is the artifact's base name, as model_signing names it. A directory's
// files under [GitPaths] are left out, as model_signing leaves them out
// when it verifies, and ignore_paths lists GitPaths.
//
// NOTE: lineage also skips every ".git" entry below the top of the
// directory, which model_signing hashes, so a model directory that
// contains such an entry (a nested repository or submodule) gets a
// signature that model_signing rejects.
func FromEntry(root string, e lineage.Entry) (Manifest, error) {
	m := Manifest{
		ModelName: filepath.Base(filepath.FromSlash(e.Path)),
		Predicate: Predicate{Serialization: Serialization{Method: MethodFiles, HashType: HashSHA256}},
	}
	if e.LFS != nil {
		return Manifest{}, fmt.Errorf("model artifact %s is a Git LFS pointer, not the model; fetch it with git lfs pull", e.Path)
	}
	switch e.Type {
	case lineage.TypeFile:
		m.Resources = []Resource{{Name: ".", Algorithm: HashSHA256, Digest: e.SHA256}}
	case lineage.TypeDirectory:
		m.Serialization.IgnorePaths = slices.Clone(GitPaths)
		for _, f := range e.Files {
			if Ignored(f.Path, GitPaths) {
				continue
			}
			if f.LFS != nil {
				return Manifest{}, fmt.Errorf("model file %s/%s is a Git LFS pointer, not the content; fetch it with git lfs pull", e.Path, f.Path)
			}
			m.Resources = append(m.Resources, Resource{Name: f.Path, Algorithm: HashSHA256, Digest: f.SHA256})
			if !m.Serialization.AllowSymlinks {
				if info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f.Path))); err == nil && info.Mode()&os.ModeSymlink != 0 {
					m.Serialization.AllowSymlinks = true
				}
			}
		}
	default:
		return Manifest{}, fmt.Errorf("model artifact %s has unknown type %q", e.Path, e.Type)
	}
	sortResources(m.Resources)
	return m, nil
}

// Subject returns the statement subject: the model name and the digest
// over the resources' digests.
func (m Manifest) Subject() (attest.Subject, error) {
	root, err := RootDigest(m.Resources)
	if err != nil {
		return attest.Subject{}, err
	}
	return attest.Subject{Name: m.ModelName, Digest: map[string]string{"sha256": root}}, nil
}

// RootDigest returns the hex SHA-256 over the raw bytes of the resources'
// digests, in the order given.
func RootDigest(resources []Resource) (string, error) {
	h := sha256.New()
	for _, r := range resources {
		raw, err := hex.DecodeString(r.Digest)
		if err != nil {
			return "", fmt.Errorf("%w: resource %q has digest %q, which is not hex", ErrManifest, r.Name, r.Digest)
		}
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Ignored reports whether the resource name, a "/"-separated path relative
// to the model directory, is one of ignorePaths or lies below one, as
// model_signing matches paths with pathlib's is_relative_to. Ignore paths
// are cleaned first ("./a/" is "a"), "." covers every name, and a path
// that leaves the directory covers none, as model_signing drops it.
func Ignored(name string, ignorePaths []string) bool {
	for _, p := range ignorePaths {
		p = path.Clean(p)
		switch {
		case p == ".":
			return true
		case p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p):
			continue
		case name == p || strings.HasPrefix(name, p+"/"):
			return true
		}
	}
	return false
}

// VerifyIgnorePaths returns the paths model_signing leaves out of the model
// at hand when it verifies the signed manifest: [GitPaths], which its
// default hashing configuration adds, and the signed ignore_paths, each
// once.
func VerifyIgnorePaths(signed Manifest) []string {
	paths := slices.Clone(GitPaths)
	for _, p := range signed.Serialization.IgnorePaths {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// Compare reports every difference between the signed manifest and the
// manifest of the model at hand: missing files, extra files and changed
// digests. Like model_signing, it leaves out the model's files under
// [VerifyIgnorePaths] and lets model names differ.
func Compare(signed, local Manifest) error {
	return CompareModel(signed, local, ".")
}

// CompareModel is [Compare] with the resource of a single-file model, which
// the format names ".", called modelPath in the error. That resource is
// never ignored.
func CompareModel(signed, local Manifest, modelPath string) error {
	ignore := VerifyIgnorePaths(signed)
	display := func(name string) string {
		if name == "." {
			return modelPath
		}
		return name
	}
	want := map[string]string{}
	for _, r := range signed.Resources {
		want[r.Name] = r.Algorithm + ":" + r.Digest
	}
	var problems []string
	for _, r := range local.Resources {
		if r.Name != "." && Ignored(r.Name, ignore) {
			continue
		}
		w, ok := want[r.Name]
		delete(want, r.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not in the signature", display(r.Name)))
		case w != r.Algorithm+":"+r.Digest:
			problems = append(problems, fmt.Sprintf("%s has %s:%s, the signature says %s", display(r.Name), r.Algorithm, r.Digest, w))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if name != "." && Ignored(name, ignore) {
			problems = append(problems, fmt.Sprintf("%s is signed, but model_signing leaves it out of the model it verifies; sign the model again", name))
			continue
		}
		problems = append(problems, fmt.Sprintf("%s is signed but missing", display(name)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrManifest, strings.Join(problems, "; "))
	}
	return nil
}

// sortResources orders resources as pathlib.PurePosixPath compares paths:
// by the list of "/"-separated components, each compared as a string.
func sortResources(resources []Resource) {
	slices.SortFunc(resources, func(a, b Resource) int {
		return slices.Compare(strings.Split(a.Name, "/"), strings.Split(b.Name, "/"))
	})
}
