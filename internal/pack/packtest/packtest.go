// Package packtest helps tests forge packs: it rewrites a pack's index the
// way someone without the signing key could.
package packtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditpack/auditpack/internal/pack"
)

// Reindex rewrites dir's index.json to list the regular files present in
// dir with their digests and sizes, keeping the index's other fields.
func Reindex(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, pack.IndexName))
	if err != nil {
		return err
	}
	var index pack.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return fmt.Errorf("reading %s: %w", pack.IndexName, err)
	}
	index.Files = nil
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == pack.IndexName {
			return err
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		index.Files = append(index.Files, pack.File{Path: filepath.ToSlash(rel), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(index.Files, func(a, b pack.File) int { return strings.Compare(a.Path, b.Path) })
	out, err := pack.MarshalIndex(&index)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pack.IndexName), out, 0o644)
}
