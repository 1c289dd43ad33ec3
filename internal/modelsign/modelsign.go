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
// Python's pathlib sorts paths, component by component.
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
// is the artifact's base name, as model_signing names it.
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
		// lineage skips every entry named .git, and the signature records it.
		m.Serialization.IgnorePaths = []string{".git"}
		for _, f := range e.Files {
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

// Compare reports every difference between the signed manifest and the
// manifest of the model at hand: missing files, extra files and changed
// digests. Model names may differ, as in model_signing.
func Compare(signed, local Manifest) error {
	want := map[string]string{}
	for _, r := range signed.Resources {
		want[r.Name] = r.Algorithm + ":" + r.Digest
	}
	var problems []string
	for _, r := range local.Resources {
		w, ok := want[r.Name]
		delete(want, r.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not in the signature", r.Name))
		case w != r.Algorithm+":"+r.Digest:
			problems = append(problems, fmt.Sprintf("%s has %s:%s, the signature says %s", r.Name, r.Algorithm, r.Digest, w))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		problems = append(problems, fmt.Sprintf("%s is signed but missing", name))
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
